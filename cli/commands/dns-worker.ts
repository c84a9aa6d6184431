import cluster from 'node:cluster';
import { createGrpcStateClient, type StateApi } from '../../state';
import { createWorkerRegistry } from './dns-cluster-metrics';
import {
  commandLogger,
  listenerAddresses,
  readMesos,
  serveDns,
  serverOptions,
  untilSignal,
  type DnsCommandOptions,
  type ListenerAddresses,
} from './dns-serve';

/**
 * The worker side of `switchyard dns --workers N`. A worker is the same command line forked by
 * the primary with node:cluster (so it parses the same flags and finds the same state API and
 * token); the primary adds one environment variable naming the worker's slot and, when the
 * primary owns the state, the private unix socket to follow instead.
 */
export const WORKER_ENV = 'SWITCHYARD_DNS_WORKER';

export interface WorkerAssignment {
  /** 1…N; a restarted worker keeps its slot (and its `worker` metrics label). */
  readonly slot: number;
  /** `unix:///…` of the primary's state server, when the primary owns the state. */
  readonly state?: string;
  /**
   * A restart: list the state before joining the sockets, which the other workers are serving,
   * so this one does not answer SERVFAIL while it syncs. At the first start nobody serves yet,
   * and workers bind first as a single process does (a port clash fails at once).
   */
  readonly restart?: boolean;
}

/** Worker → primary: this worker's server listens. */
export interface ListeningMessage extends ListenerAddresses {
  readonly type: 'switchyard:dns-listening';
  readonly slot: number;
}

export const LISTENING = 'switchyard:dns-listening';

/** This process's assignment when it is a `switchyard dns` worker; undefined otherwise. */
export function workerAssignment(): WorkerAssignment | undefined {
  const text = process.env[WORKER_ENV];
  if (!cluster.isWorker || text === undefined || text === '') return undefined;
  return JSON.parse(text) as WorkerAssignment;
}

/**
 * Serve like a single `switchyard dns` does, except: the Mesos source (if any) runs in the
 * primary, not here — a worker only takes the config file's server settings; the "listening"
 * line goes to the primary as a message; metrics carry `worker="<slot>"`. A worker never outlives
 * the primary: node:cluster exits a worker at once when its IPC channel closes unexpectedly.
 */
export async function runDnsWorker(
  api: StateApi,
  o: DnsCommandOptions,
  assignment: WorkerAssignment,
): Promise<number> {
  const logger = commandLogger(o).child({ worker: assignment.slot });
  const registry = createWorkerRegistry(assignment.slot);
  const stopped = untilSignal();
  const own =
    assignment.state === undefined ? undefined : createGrpcStateClient({ address: assignment.state });
  try {
    const config = o.mesosDnsConfig === undefined ? undefined : await readMesos(o.mesosDnsConfig);
    await serveDns(own ?? api, serverOptions(o, config), {
      logger,
      registry,
      stopped,
      syncFirst: assignment.restart === true,
      onListening: (server) => {
        const message: ListeningMessage = {
          type: LISTENING,
          slot: assignment.slot,
          ...listenerAddresses(server),
        };
        if (process.connected) process.send?.(message);
      },
    });
    return 0;
  } finally {
    own?.close();
    // The open IPC channel would keep this process alive. Close it as a planned disconnect (an
    // unplanned one makes node:cluster exit at once with code 0, before an error is printed),
    // and exit soon even if some handle lingers; the exit code is the one main() sets.
    if (process.connected) cluster.worker?.disconnect();
    setTimeout(() => process.exit(), 1000).unref();
  }
}
