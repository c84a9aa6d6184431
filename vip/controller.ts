import { performance } from 'node:perf_hooks';
import { isSwitchyardError, type Logger } from '../lib';
import { createInformer, StateErrorCode, type StateApi, type StoredObject } from '../state';
import { compileVips, type CompiledVips, type VipSnapshot } from './compile';
import {
  resolveVipOptions,
  type ResolvedVipOptions,
  type VipControllerOptions,
  type VipInformer,
} from './config';
import type { VipError } from './errors';
import { createVipMetrics, type ReconcileResult, type VipMetrics } from './metrics';
import { planVipWrites, type VipWritePlan } from './plan';

/** setTimeout's limit (about 24.8 days): longer release timers are re-armed when they fire. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The VIP controller: follows the state through an informer, debounces bursts, compiles the
 * desired VIP objects (compileVips) and writes only the differences, each with compare-and-set.
 * A conflict (another controller or writer got there first) re-reads the VIP objects and
 * recomputes after a short backoff — never a lost update. Any number of controllers may run on
 * one store: they compute the same objects from the same state and converge on one address each.
 */
export class VipController {
  private readonly options: ResolvedVipOptions;
  private readonly api: StateApi;
  private readonly informer: VipInformer;
  private readonly ownsInformer: boolean;
  private readonly logger: Logger;
  private readonly metrics: VipMetrics;
  private unsubscribe: (() => void) | undefined;
  private debounceTimer: unknown;
  private retryTimer: unknown;
  private releaseTimer: unknown;
  private retryMs: number;
  private running: Promise<void> | undefined;
  private again = false;
  private force = true;
  /** After a conflict: read VIPs from the API until the informer has caught up to this revision. */
  private freshUntil = 0;
  private lastRevision = -1;
  private stopped = false;
  private reported = new Set<string>();
  private lastResult: CompiledVips | undefined;
  private synced = false;

  constructor(o: VipControllerOptions) {
    this.options = resolveVipOptions(o);
    this.api = o.api;
    this.logger = o.logger.child({ room: 'vip' });
    this.metrics = createVipMetrics(o.registry);
    this.ownsInformer = o.informer === undefined;
    this.informer = o.informer ?? createInformer({ api: o.api, logger: o.logger });
    this.retryMs = this.options.retryInitialMs;
  }

  /** Subscribes, waits for the informer's first list, and runs the first pass. */
  async start(): Promise<void> {
    this.unsubscribe = this.informer.subscribe(() => this.schedule());
    await this.informer.start();
    await this.reconcileNow();
  }

  /** True once a pass has written everything it wanted (gate readiness on it). */
  hasSynced(): boolean {
    return this.synced;
  }

  /** The problems of the last compile (bad labels, conflicts, exhaustion). */
  get problems(): readonly VipError[] {
    return this.lastResult?.problems ?? [];
  }

  /** Runs a pass now (after the one in flight, if any); resolves when no pass is left to run. */
  reconcileNow(): Promise<void> {
    this.force = true;
    return this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const timer of [this.debounceTimer, this.retryTimer, this.releaseTimer]) {
      if (timer !== undefined) this.options.clock.clearTimeout(timer);
    }
    if (this.ownsInformer) this.informer.stop();
    await this.running;
  }

  private schedule(): void {
    if (this.stopped || this.debounceTimer !== undefined) return;
    this.debounceTimer = this.options.clock.setTimeout(() => {
      this.debounceTimer = undefined;
      void this.kick();
    }, this.options.debounceMs);
  }

  private kick(): Promise<void> {
    this.again = true;
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async loop(): Promise<void> {
    while (this.again && !this.stopped) {
      this.again = false;
      try {
        this.record(await this.pass());
      } catch (err) {
        this.logger.error({ err }, 'VIP reconcile failed; retrying');
        this.record('error');
      }
    }
  }

  private record(result: ReconcileResult): void {
    this.metrics.reconciles.inc({ result });
    if (result === 'ok') {
      this.synced = true;
      this.retryMs = this.options.retryInitialMs;
    } else if (result === 'conflict' || result === 'error') {
      this.scheduleRetry();
    }
  }

  private async pass(): Promise<ReconcileResult> {
    const revision = this.informer.revision;
    const fresh = revision < this.freshUntil;
    if (!this.force && !fresh && revision === this.lastRevision) return 'skipped';
    this.force = false;
    const snapshot = await this.snapshot(fresh);
    const started = performance.now();
    const compiled = compileVips(snapshot, {
      now: this.options.clock.now(),
      graceMs: this.options.graceMs,
      reserved: this.options.reserved,
      ...(this.options.network === undefined ? {} : { network: this.options.network }),
    });
    this.metrics.compileSeconds.observe((performance.now() - started) / 1000);
    this.observe(compiled);
    const result = await this.write(planVipWrites(compiled.vips, snapshot.vips));
    if (result === 'ok') this.lastRevision = revision;
    this.scheduleRelease(compiled.nextReleaseAt);
    return result;
  }

  private async snapshot(fresh: boolean): Promise<VipSnapshot> {
    const objects = this.informer.list();
    const of = <K extends StoredObject['kind']>(kind: K): StoredObject<K>[] =>
      objects.filter((o): o is StoredObject<K> => o.kind === kind);
    let vips = of('VIP');
    if (fresh) {
      const listed = await this.api.list({ kind: 'VIP' });
      vips = listed.items as StoredObject<'VIP'>[];
      this.freshUntil = Math.max(this.freshUntil, listed.revision);
    }
    return { tasks: of('Task'), services: of('Service'), nodes: of('Node'), networks: of('Network'), vips };
  }

  /** Deletes, then updates, then creates: each phase only once the one before succeeded. */
  private async write(plan: VipWritePlan): Promise<ReconcileResult> {
    for (const { name, error } of plan.invalid) {
      this.logger.error({ err: error, vip: name }, 'A compiled VIP failed validation; not written');
    }
    const phases: Array<{ op: 'delete' | 'update' | 'create'; run: Array<() => Promise<unknown>> }> = [
      {
        op: 'delete',
        run: plan.deletes.map(
          (d) => () =>
            this.api.delete({ kind: 'VIP', name: d.name }, { expectedRevision: d.expectedRevision }),
        ),
      },
      {
        op: 'update',
        run: plan.updates.map((u) => () => this.api.apply(u.input, { expectedRevision: u.expectedRevision })),
      },
      { op: 'create', run: plan.creates.map((c) => () => this.api.apply(c, { expectedRevision: 0 })) },
    ];
    for (const phase of phases) {
      const results = await Promise.allSettled(phase.run.map((run) => run()));
      let outcome: ReconcileResult = 'ok';
      for (const r of results) {
        if (r.status === 'fulfilled') this.metrics.writes.inc({ op: phase.op });
        else outcome = this.classify(r.reason, phase.op, outcome);
      }
      if (outcome !== 'ok') return outcome;
    }
    return 'ok';
  }

  /** A lost race (conflict, or the object vanished) means recompute from fresh VIPs; anything else is an error. */
  private classify(err: unknown, op: string, worst: ReconcileResult): ReconcileResult {
    const raced =
      isSwitchyardError(err, StateErrorCode.CONFLICT) || isSwitchyardError(err, StateErrorCode.NOT_FOUND);
    if (raced) {
      this.freshUntil = Math.max(this.freshUntil, this.informer.revision + 1);
      this.logger.debug({ err, op }, 'VIP write lost a race; recomputing');
      return worst === 'error' ? 'error' : 'conflict';
    }
    this.logger.error({ err, op }, 'VIP write failed; retrying');
    return 'error';
  }

  private observe(compiled: CompiledVips): void {
    this.lastResult = compiled;
    this.metrics.objects.set(compiled.vips.length);
    this.metrics.problems.set(compiled.problems.length);
    if (compiled.freeAddresses !== undefined) this.metrics.freeAddresses.set(Number(compiled.freeAddresses));
    const now = new Set(compiled.problems.map((p) => p.message));
    for (const problem of compiled.problems) {
      if (!this.reported.has(problem.message)) this.logger.warn({ code: problem.code }, problem.message);
    }
    this.reported = now;
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.options.retryMaxMs);
    this.retryTimer = this.options.clock.setTimeout(() => {
      this.retryTimer = undefined;
      void this.reconcileNow();
    }, delay);
  }

  private scheduleRelease(at: number | undefined): void {
    if (this.releaseTimer !== undefined) this.options.clock.clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
    if (at === undefined || this.stopped) return;
    const delay = Math.min(Math.max(0, at - this.options.clock.now()) + 1, MAX_TIMER_MS);
    this.releaseTimer = this.options.clock.setTimeout(() => {
      this.releaseTimer = undefined;
      void this.reconcileNow();
    }, delay);
  }
}

export function createVipController(options: VipControllerOptions): VipController {
  return new VipController(options);
}
