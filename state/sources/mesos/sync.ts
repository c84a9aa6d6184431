import { performance } from 'node:perf_hooks';
import { createRegistry, isSwitchyardError, silentLogger, type Logger, type Registry } from '../../../lib';
import type { StateApi } from '../../api';
import { StateErrorCode } from '../../errors';
import { objectKey, type Kind, type ObjectInput, type StoredObject } from '../../model';
import { validateInput } from '../../validate';
import { convertMesosState, type ConvertOptions } from './convert';
import { invalidConfig } from './errors';
import { DEFAULT_SOURCE_NAME, SOURCE_LABEL } from './labels';
import { createSourceMetrics, type SourceMetrics } from './metrics';
import { planSync, type PlannedApply, type PlannedDelete } from './plan';
import type { FetchedState } from './types';

/**
 * The I/O half of the Mesos source: every `intervalMs`, fetch the leader's state, convert it (pure),
 * diff it against the objects this source owns (label `switchyard.io/source=<name>`) and write only
 * the differences. A failed fetch changes nothing (no mass delete while the master is unreachable);
 * one sync never throws out of the loop; a write that fails is counted, logged and retried next time.
 */

export interface StateFetcher {
  fetch(signal?: AbortSignal): Promise<FetchedState>;
  close?(): Promise<void>;
}

export interface MesosSyncOptions extends ConvertOptions {
  readonly api: StateApi;
  readonly fetcher: StateFetcher;
  /** The configured masters, `host:port` (masterN order). */
  readonly masters: readonly string[];
  /** Time between the end of one sync and the start of the next (Mesos-DNS `refreshSeconds`; 60 s). */
  readonly intervalMs?: number;
  /** Writes in flight at once (lets the embedded store group-commit them). Default 16. */
  readonly writeConcurrency?: number;
  readonly logger?: Logger;
  readonly registry?: Registry;
  readonly signal?: AbortSignal;
  /** Timer functions (tests may inject their own). */
  readonly timers?: {
    setTimeout(fn: () => void, ms: number): unknown;
    clearTimeout(handle: unknown): void;
  };
}

export interface SyncResult {
  /** True when the leader's state was read and every needed write was made. */
  readonly ok: boolean;
  readonly leader?: string;
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
  readonly unchanged: number;
  /** Writes refused or failed (retried next sync). */
  readonly failed: number;
  readonly problems: readonly string[];
  /** Why the sync did not run (fetch failure or unexpected error); the state was left as it was. */
  readonly error?: unknown;
}

const KINDS: readonly Kind[] = ['Node', 'Task'];
/** A fetch failing the same way again is logged once per this period. */
const FAILURE_REMINDER_MS = 60_000;

async function runPool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function codeOf(err: unknown): string {
  return isSwitchyardError(err) ? err.code : 'UNKNOWN';
}

export class MesosSync {
  private readonly log: Logger;
  private readonly metrics: SourceMetrics;
  private readonly source: string;
  private readonly intervalMs: number;
  private readonly timers: NonNullable<MesosSyncOptions['timers']>;
  private readonly abort = new AbortController();
  private timer: unknown;
  private running: Promise<SyncResult> | undefined;
  private synced = false;
  private lastLeader: string | undefined;
  /** Consecutive failed fetches, and the last failure's code + message (logged in full once). */
  private fetchFailures = 0;
  private fetchFailure = '';
  private fetchFailureLoggedAt = 0;
  private lastProblems = '';
  private stopped = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: MesosSyncOptions) {
    this.source = options.sourceName ?? DEFAULT_SOURCE_NAME;
    this.intervalMs = options.intervalMs ?? 60_000;
    if (!Number.isInteger(this.intervalMs) || this.intervalMs < 1)
      throw invalidConfig('intervalMs', `must be a positive integer, got ${this.intervalMs}`);
    this.timers = options.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
    };
    this.log = (options.logger ?? silentLogger()).child({ room: 'state', source: this.source });
    this.metrics = createSourceMetrics(options.registry ?? createRegistry());
    options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  /** True once one sync has read the leader's state and made its write pass. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Run the first sync now and then every interval; resolves with the first sync's result. */
  start(): Promise<SyncResult> {
    return this.tick();
  }

  /** One sync cycle. Never rejects; concurrent calls share the cycle in flight. */
  syncOnce(): Promise<SyncResult> {
    this.running ??= this.cycle().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stop the loop, wait for a cycle in flight, release the fetcher's connections. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    await this.options.fetcher.close?.();
  }

  private async tick(): Promise<SyncResult> {
    const result = await this.syncOnce();
    if (!this.stopped) this.timer = this.timers.setTimeout(() => void this.tick(), this.intervalMs);
    return result;
  }

  private async cycle(): Promise<SyncResult> {
    const started = performance.now();
    const empty = { created: 0, updated: 0, deleted: 0, unchanged: 0, failed: 0, problems: [] };
    let fetched: FetchedState;
    try {
      fetched = await this.options.fetcher.fetch(this.abort.signal);
    } catch (err) {
      if (this.abort.signal.aborted) return { ok: false, ...empty, error: err };
      this.metrics.syncs.inc({ source: this.source, result: 'fetch_failed' });
      this.logFetchFailure(err);
      return { ok: false, ...empty, error: err };
    }
    if (this.fetchFailures > 0) {
      this.log.info({ failures: this.fetchFailures }, 'Mesos state fetch recovered');
      this.fetchFailures = 0;
      this.fetchFailure = '';
    }
    try {
      const result = await this.write(fetched);
      this.metrics.syncs.inc({ source: this.source, result: result.ok ? 'ok' : 'failed' });
      this.metrics.duration.observe({ source: this.source }, (performance.now() - started) / 1000);
      // Synced once the leader's state went through a full write pass; writes that failed (counted,
      // in `problems`) are retried next time and do not hold readiness back.
      this.synced = true;
      if (result.ok) this.metrics.lastSuccess.set({ source: this.source }, Date.now() / 1000);
      return result;
    } catch (err) {
      this.metrics.syncs.inc({ source: this.source, result: 'failed' });
      this.log.error({ code: codeOf(err), err }, 'Mesos sync failed; keeping the current objects');
      return { ok: false, leader: fetched.leader, ...empty, error: err };
    }
  }

  /**
   * A master that stays down fails every refresh: the first failure (and each new kind) is logged
   * with its stack, the same failure again only as a one-line reminder once a minute.
   */
  private logFetchFailure(err: unknown): void {
    const details = isSwitchyardError(err) ? err.details : undefined;
    const kind = `${codeOf(err)} ${(err as Error | undefined)?.message ?? String(err)}`;
    this.fetchFailures++;
    const now = Date.now();
    if (kind !== this.fetchFailure) {
      this.fetchFailure = kind;
      this.fetchFailureLoggedAt = now;
      this.log.warn(
        { code: codeOf(err), err, ...details },
        'Mesos state fetch failed; keeping the current objects',
      );
    } else if (now - this.fetchFailureLoggedAt >= FAILURE_REMINDER_MS) {
      this.fetchFailureLoggedAt = now;
      this.log.warn(
        { code: codeOf(err), failures: this.fetchFailures, ...details },
        'Mesos state fetch still failing; keeping the current objects',
      );
    }
  }

  private async write(fetched: FetchedState): Promise<SyncResult> {
    const { api } = this.options;
    if (this.lastLeader !== fetched.leader) {
      this.log.info(
        { leader: fetched.leader, previous: this.lastLeader, path: fetched.path },
        'Following the Mesos leader',
      );
      this.lastLeader = fetched.leader;
    }
    const conversion = convertMesosState(
      { state: fetched.state, masters: this.options.masters, resolved: fetched.resolved },
      this.options,
    );
    const problems = [...conversion.problems];
    const { desired, keep } = this.normalise(conversion.objects, problems);
    const selector = `${SOURCE_LABEL}=${this.source}`;
    const owned: StoredObject[] = [];
    for (const kind of KINDS) owned.push(...(await api.list({ kind, selector })).items);
    const plan = planSync(desired, owned, keep);
    const counts = { create: 0, update: 0, delete: 0, failed: 0 };
    const limit = this.options.writeConcurrency ?? 16;
    for (const kind of KINDS) {
      const applies = plan.applies.filter((a) => a.input.kind === kind);
      await runPool(applies, limit, (a) => this.apply(a, counts, problems));
    }
    for (const kind of [...KINDS].reverse()) {
      const deletes = plan.deletes.filter((d) => d.ref.kind === kind);
      await runPool(deletes, limit, (d) => this.remove(d, counts, problems));
    }
    this.report(problems, counts, plan.unchanged, fetched.leader, owned.length);
    for (const kind of KINDS) {
      const n = desired.filter((o) => o.kind === kind).length;
      this.metrics.objects.set({ source: this.source, kind }, n);
    }
    return {
      ok: counts.failed === 0,
      leader: fetched.leader,
      created: counts.create,
      updated: counts.update,
      deleted: counts.delete,
      unchanged: plan.unchanged,
      failed: counts.failed,
      problems,
    };
  }

  /** validateInput each desired object, as the store will: an invalid one is a problem, not a write. */
  private normalise(objects: readonly ObjectInput[], problems: string[]) {
    const desired: ObjectInput[] = [];
    const keep = new Set<string>();
    for (const object of objects) {
      try {
        desired.push(validateInput(object));
      } catch (err) {
        keep.add(objectKey(object));
        problems.push(`${object.kind} ${object.name}: ${(err as Error).message}; not written`);
      }
    }
    return { desired, keep };
  }

  private async apply(a: PlannedApply, counts: Record<string, number>, problems: string[]): Promise<void> {
    try {
      await this.options.api.apply(a.input, { expectedRevision: a.expectedRevision });
      counts[a.op] = (counts[a.op] ?? 0) + 1;
      this.metrics.writes.inc({ source: this.source, op: a.op });
    } catch (err) {
      counts.failed = (counts.failed ?? 0) + 1;
      this.metrics.writes.inc({ source: this.source, op: 'failed' });
      const why =
        a.op === 'create' && codeOf(err) === StateErrorCode.CONFLICT
          ? 'exists and is not owned by this source'
          : (err as Error).message;
      problems.push(`${a.input.kind} ${a.input.name}: ${a.op} failed (${codeOf(err)}): ${why}`);
    }
  }

  private async remove(d: PlannedDelete, counts: Record<string, number>, problems: string[]): Promise<void> {
    try {
      await this.options.api.delete(d.ref, { expectedRevision: d.expectedRevision });
      counts.delete = (counts.delete ?? 0) + 1;
      this.metrics.writes.inc({ source: this.source, op: 'delete' });
    } catch (err) {
      if (codeOf(err) === StateErrorCode.NOT_FOUND) return; // someone else removed it: the goal is met
      counts.failed = (counts.failed ?? 0) + 1;
      this.metrics.writes.inc({ source: this.source, op: 'failed' });
      problems.push(`${d.ref.kind} ${d.ref.name}: delete failed (${codeOf(err)}): ${(err as Error).message}`);
    }
  }

  private report(
    problems: readonly string[],
    counts: Record<string, number>,
    unchanged: number,
    leader: string,
    owned: number,
  ): void {
    this.metrics.problems.set({ source: this.source }, problems.length);
    const text = problems.join('\n');
    if (text !== this.lastProblems && problems.length > 0) {
      this.log.warn(
        { count: problems.length, problems: problems.slice(0, 20) },
        'Mesos state has entries that were skipped or changed',
      );
    }
    this.lastProblems = text;
    const changed = (counts.create ?? 0) + (counts.update ?? 0) + (counts.delete ?? 0) + (counts.failed ?? 0);
    const fields = { leader, ...counts, unchanged, owned };
    if (changed > 0 || !this.synced) this.log.info(fields, 'Mesos state synced');
    else this.log.debug(fields, 'Mesos state synced');
  }
}
