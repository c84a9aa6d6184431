import { createLogger, createRegistry, type Logger, type Registry } from '../../lib';
import { startDnsServer, type DnsServerOptions } from '../../dns';
import {
  createInformer,
  createMesosSource,
  readMesosDnsConfig,
  sourceOptionsFromMesosDns,
  type StateApi,
} from '../../state';
import { parseHostPort } from '../defaults';
import type { CliIo } from '../io';

export interface DnsCommandOptions {
  /** Explicit flags; undefined: the default, or the Mesos-DNS config file's value. */
  listen?: string;
  http?: string | false;
  upstreams?: string[];
  recursion?: boolean;
  /** A Mesos-DNS config.json, read as is: its masters feed the state, its settings the server. */
  mesosDnsConfig?: string;
  logLevel?: string;
}

const DEFAULT_LISTEN = '127.0.0.1:8053';
const DEFAULT_HTTP = '127.0.0.1:8123';

/**
 * `switchyard dns`: the DNS server on its own, following a state API. With `--mesos-dns-config`
 * it also runs the Mesos source, so it replaces a Mesos-DNS process with the same config file.
 * Runs until Ctrl-C or SIGTERM.
 */
export async function runDns(api: StateApi, o: DnsCommandOptions, io: CliIo): Promise<number> {
  const logger = createLogger(o.logLevel === undefined ? {} : { level: o.logLevel });
  const registry = createRegistry({ processMetrics: true });
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  const stop = new AbortController();
  const source =
    o.mesosDnsConfig === undefined ? undefined : await startMesos(api, o.mesosDnsConfig, logger, registry);
  try {
    const server = await startDnsServer({
      ...(source?.dnsOptions ?? {}),
      ...listenOptions(o, source?.dnsOptions),
      informer: createInformer({ api, logger, signal: stop.signal }),
      logger,
      registry,
    });
    try {
      const http =
        server.httpAddress === undefined
          ? ''
          : `, API http://${server.httpAddress.address}:${server.httpAddress.port}`;
      io.stdout.write(
        `DNS listening on udp+tcp ${server.udpAddress.address}:${server.udpAddress.port}${http}\n`,
      );
      await stopped;
    } finally {
      stop.abort();
      await server.close();
    }
  } finally {
    await source?.stop();
  }
  return 0;
}

/** Flags win over the config file, which wins over the defaults. */
function listenOptions(
  o: DnsCommandOptions,
  fromFile: Partial<DnsServerOptions> | undefined,
): Partial<DnsServerOptions> {
  const listen = o.listen ?? (fromFile === undefined ? DEFAULT_LISTEN : undefined);
  const http = o.http ?? (fromFile === undefined ? DEFAULT_HTTP : undefined);
  const out: Partial<DnsServerOptions> = {};
  if (listen !== undefined) {
    const { host, port } = parseHostPort(listen, '--listen');
    Object.assign(out, { host, port });
  }
  if (http === false) out.httpPort = false;
  else if (http !== undefined) {
    const { host, port } = parseHostPort(http, '--http');
    Object.assign(out, { httpHost: host, httpPort: port });
  }
  if (o.upstreams !== undefined) out.upstreams = o.upstreams;
  if (o.recursion !== undefined) out.forwarding = o.recursion;
  return out;
}

async function startMesos(
  api: StateApi,
  path: string,
  logger: Logger,
  registry: Registry,
): Promise<{ dnsOptions: Partial<DnsServerOptions>; stop(): Promise<void> }> {
  const config = await readMesosDnsConfig(path);
  for (const w of config.warnings) logger.warn({ field: w.field }, `Mesos-DNS config: ${w.reason}`);
  const source = createMesosSource({
    api,
    logger,
    registry,
    ...(await sourceOptionsFromMesosDns(config.source)),
  });
  // Like Mesos-DNS, the first load is attempted before serving; a failure is logged and retried.
  const first = await source.start();
  logger.info({ first }, 'Mesos source started');
  return { dnsOptions: config.dns as Partial<DnsServerOptions>, stop: () => source.stop() };
}
