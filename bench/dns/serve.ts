/**
 * The Switchyard DNS server as the throughput benchmark runs it: one process, or a cluster
 * primary with N worker processes sharing one UDP socket (and one TCP listener) through Node's
 * cluster module — Node 20 has no `reusePort` on dgram, and the cluster module hands every worker
 * the primary's socket, so the kernel spreads datagrams over the workers' reads. Each worker
 * follows the state API on its own (gRPC client + informer, as `switchyard dns` does) and serves
 * the zone it compiles; none of them shares memory with another.
 *
 *   node -r ./test/helpers/ts-register.js bench/dns/serve.ts '{"port":5353,"workers":2,"state":"127.0.0.1:7481","expectRevision":42}'
 *
 * Prints `ready` on stdout once every worker serves a zone at `expectRevision` or later; stops
 * its workers on SIGTERM.
 */
import cluster from 'node:cluster';
import { startDnsServer } from '../../dns';
import { createGrpcStateClient, createInformer } from '../../state';

interface ServeConfig {
  readonly port: number;
  readonly workers: number;
  readonly state: string;
  readonly expectRevision: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ServeConfig;

async function serveOne(onReady: () => void): Promise<void> {
  const stop = new AbortController();
  const api = createGrpcStateClient({ address: config.state });
  const informer = createInformer({ api, signal: stop.signal });
  const server = await startDnsServer({
    host: '127.0.0.1',
    port: config.port,
    httpPort: false,
    forwarding: false,
    informer,
  });
  const timer = setInterval(() => {
    if ((server.zone()?.revision ?? 0) >= config.expectRevision) {
      clearInterval(timer);
      onReady();
    }
  }, 20);
  const shutdown = (): void => {
    clearInterval(timer);
    stop.abort();
    void server.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('disconnect', shutdown);
}

function primary(): void {
  let ready = 0;
  const workers = Array.from({ length: config.workers }, () => cluster.fork());
  for (const worker of workers) {
    worker.on('message', (message: unknown) => {
      if (message === 'ready' && ++ready === workers.length) process.stdout.write('ready\n');
    });
  }
  process.once('SIGTERM', () => {
    for (const worker of workers) worker.kill('SIGTERM');
    const timer = setTimeout(() => process.exit(0), 3000);
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        clearTimeout(timer);
        process.exit(0);
      }
    });
  });
}

if (config.workers <= 1) {
  void serveOne(() => process.stdout.write('ready\n'));
} else if (cluster.isPrimary) {
  primary();
} else {
  void serveOne(() => process.send?.('ready'));
}
