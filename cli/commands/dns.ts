import { createLogger, createRegistry } from '../../lib';
import { startDnsServer } from '../../dns';
import { createInformer, type StateApi } from '../../state';
import { parseHostPort } from '../defaults';
import type { CliIo } from '../io';

export interface DnsCommandOptions {
  listen: string;
  http: string | false;
  upstreams?: string[];
  recursion: boolean;
  logLevel?: string;
}

/**
 * `switchyard dns`: the DNS server on its own, following a remote state API over gRPC (the
 * all-in-one node embeds the same server). Runs until Ctrl-C or SIGTERM.
 */
export async function runDns(api: StateApi, o: DnsCommandOptions, io: CliIo): Promise<number> {
  const logger = createLogger(o.logLevel === undefined ? {} : { level: o.logLevel });
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  const stop = new AbortController();
  const listen = parseHostPort(o.listen, '--listen');
  const http = o.http === false ? undefined : parseHostPort(o.http, '--http');
  const server = await startDnsServer({
    host: listen.host,
    port: listen.port,
    ...(http === undefined ? { httpPort: false as const } : { httpHost: http.host, httpPort: http.port }),
    ...(o.upstreams === undefined ? {} : { upstreams: o.upstreams }),
    forwarding: o.recursion,
    informer: createInformer({ api, logger, signal: stop.signal }),
    logger,
    registry: createRegistry({ processMetrics: true }),
  });
  try {
    const httpText =
      server.httpAddress === undefined
        ? ''
        : `, API http://${server.httpAddress.address}:${server.httpAddress.port}`;
    io.stdout.write(
      `DNS listening on udp+tcp ${server.udpAddress.address}:${server.udpAddress.port}${httpText}\n`,
    );
    await stopped;
  } finally {
    stop.abort();
    await server.close();
  }
  return 0;
}
