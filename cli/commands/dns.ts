import cluster from 'node:cluster';
import { createRegistry } from '../../lib';
import type { StateApi } from '../../state';
import type { CliIo } from '../io';
import { runDnsPrimary } from './dns-primary';
import {
  commandLogger,
  listenerAddresses,
  listeningLine,
  readMesos,
  serveDns,
  serverOptions,
  startMesos,
  untilSignal,
  type DnsCommandOptions,
} from './dns-serve';
import { runDnsWorker, workerAssignment } from './dns-worker';

export type { DnsCommandOptions } from './dns-serve';

/**
 * `switchyard dns`: the DNS server on its own, following a state API. With `--mesos-dns-config`
 * it also runs the Mesos source, so it replaces a Mesos-DNS process with the same config file.
 * With `--workers N` (N > 1) this process becomes a cluster primary and N worker processes serve
 * (dns-primary.ts); a worker process runs this same command line and lands in runDnsWorker.
 * Runs until Ctrl-C or SIGTERM.
 */
export async function runDns(api: StateApi, o: DnsCommandOptions, io: CliIo): Promise<number> {
  const assignment = workerAssignment();
  if (assignment !== undefined) return runDnsWorker(api, o, assignment);
  if (cluster.isPrimary && (o.workers ?? 1) > 1) return runDnsPrimary(api, o, io);
  const logger = commandLogger(o);
  const registry = createRegistry({ processMetrics: true });
  const stopped = untilSignal();
  const config = o.mesosDnsConfig === undefined ? undefined : await readMesos(o.mesosDnsConfig, logger);
  const source = config === undefined ? undefined : await startMesos(api, config, logger, registry);
  try {
    await serveDns(api, serverOptions(o, config), {
      logger,
      registry,
      stopped,
      onListening: (server) => io.stdout.write(`${listeningLine(listenerAddresses(server))}\n`),
    });
  } finally {
    await source?.stop();
  }
  return 0;
}
