import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../../lib';
import type { ListenerAddresses } from './dns-serve';
import { LISTENING, WORKER_ENV, type ListeningMessage, type WorkerAssignment } from './dns-worker';

/**
 * The worker processes of `switchyard dns --workers N`, each in a fixed slot 1…N: fork them, know
 * when all serve, restart one that dies (with a backoff per slot), and stop them all. Only the
 * processes this pool forked are ever signalled, by their own handles.
 */
export const RESTART_MIN_MS = 100;
export const RESTART_MAX_MS = 10_000;
/** A worker that served this long before dying restarts after RESTART_MIN_MS again. */
export const RESTART_RESET_MS = 10_000;

/** The wait before restarting a slot whose worker died `failures` times in a row: doubling, capped. */
export function restartDelayMs(failures: number): number {
  return Math.min(RESTART_MIN_MS * 2 ** failures, RESTART_MAX_MS);
}

interface Slot {
  readonly slot: number;
  worker?: Worker;
  exited?: Promise<void>;
  /** When the current worker reported that it listens. */
  servingSince?: number;
  addresses?: ListenerAddresses;
  /** Deaths in a row without serving RESTART_RESET_MS in between. */
  failures: number;
  restart?: NodeJS.Timeout;
}

export interface WorkerPoolOptions {
  count: number;
  logger: Logger;
  /** The primary's private state socket for the workers to follow, when it owns the state. */
  state?: string;
  /** A restarted worker serves again. */
  onRestarted(slot: number, pid: number): void;
}

export class WorkerPool {
  private readonly slots: Slot[];
  private stopping = false;
  private startup:
    { resolve(a: ListenerAddresses): void; reject(err: Error): void; settled: boolean } | undefined;

  constructor(private readonly o: WorkerPoolOptions) {
    this.slots = Array.from({ length: o.count }, (_, i) => ({ slot: i + 1, failures: 0 }));
  }

  /** Fork every worker; resolves with where they listen once all serve, rejects if one dies first. */
  start(): Promise<ListenerAddresses> {
    return new Promise((resolve, reject) => {
      this.startup = { resolve, reject, settled: false };
      for (const slot of this.slots) this.fork(slot);
    });
  }

  /** Slot and PID of every worker, for a person. */
  pids(): Array<{ slot: number; pid: number }> {
    return this.slots.flatMap((s) =>
      s.worker?.process.pid === undefined ? [] : [{ slot: s.slot, pid: s.worker.process.pid }],
    );
  }

  /** The workers that serve now (for the metrics view). */
  serving(): Worker[] {
    return this.slots.flatMap((s) =>
      s.worker !== undefined && s.servingSince !== undefined && s.worker.isConnected() ? [s.worker] : [],
    );
  }

  /**
   * SIGTERM every worker, wait up to `graceMs` for them to exit, then SIGKILL those left (by their
   * own process handles: only our workers). Resolves once every worker has exited.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    for (const slot of this.slots) clearTimeout(slot.restart);
    const live = this.slots.filter((s) => s.worker !== undefined && !s.worker.isDead());
    for (const s of live) s.worker?.process.kill('SIGTERM');
    const all = Promise.all(live.map((s) => s.exited));
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (late) {
      for (const s of live) {
        if (s.worker === undefined || s.worker.isDead()) continue;
        this.o.logger.warn(
          { worker: s.slot, pid: s.worker.process.pid },
          'DNS worker did not stop; killing it',
        );
        s.worker.process.kill('SIGKILL');
      }
      await all;
    }
  }

  private fork(slot: Slot): void {
    const assignment: WorkerAssignment = {
      slot: slot.slot,
      ...(this.o.state === undefined ? {} : { state: this.o.state }),
      ...(slot.exited === undefined ? {} : { restart: true }),
    };
    const worker = cluster.fork({ [WORKER_ENV]: JSON.stringify(assignment) });
    slot.worker = worker;
    slot.servingSince = undefined;
    slot.exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: unknown) => this.onMessage(slot, worker, m));
    worker.on('exit', (code: number | null, signal: string | null) =>
      this.onExit(slot, worker, code, signal),
    );
    // A send to a worker that is going away fails with EPIPE; its exit is handled above.
    worker.on('error', (err: Error) =>
      this.o.logger.debug({ err, worker: slot.slot }, 'DNS worker channel error'),
    );
  }

  private onMessage(slot: Slot, worker: Worker, m: unknown): void {
    if (slot.worker !== worker || !isListening(m)) return;
    slot.servingSince = Date.now();
    slot.addresses = { udp: m.udp, ...(m.http === undefined ? {} : { http: m.http }) };
    const startup = this.startup;
    if (startup !== undefined && !startup.settled) {
      if (this.slots.every((s) => s.servingSince !== undefined)) {
        startup.settled = true;
        startup.resolve(slot.addresses);
      }
    } else if (worker.process.pid !== undefined) {
      this.o.onRestarted(slot.slot, worker.process.pid);
    }
  }

  private onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    const pid = worker.process.pid;
    const served = slot.servingSince === undefined ? 0 : Date.now() - slot.servingSince;
    slot.worker = undefined;
    slot.servingSince = undefined;
    if (this.stopping) return;
    const startup = this.startup;
    if (startup !== undefined && !startup.settled) {
      startup.settled = true;
      const how = signal === null ? `with code ${code}` : `on ${signal}`;
      startup.reject(new Error(`DNS worker ${slot.slot} (pid ${pid}) exited ${how} before serving`));
      return;
    }
    if (served >= RESTART_RESET_MS) slot.failures = 0;
    const delayMs = restartDelayMs(slot.failures);
    slot.failures++;
    this.o.logger.warn(
      { worker: slot.slot, pid, code, signal, restartInMs: delayMs },
      'DNS worker exited; restarting it',
    );
    slot.restart = setTimeout(() => {
      if (!this.stopping) this.fork(slot);
    }, delayMs);
  }
}

function isListening(m: unknown): m is ListeningMessage {
  return typeof m === 'object' && m !== null && (m as ListeningMessage).type === LISTENING;
}
