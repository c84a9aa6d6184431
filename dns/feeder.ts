import { performance } from 'node:perf_hooks';
import type { Logger } from '../lib';
import type { StoredObject } from '../state';
import { compileZone, updateZone, type ZoneChange } from './compile';
import type { DnsMetrics } from './metrics';
import type { ZoneOptions } from './options';
import type { CompiledZone } from './zone';

/**
 * Follows the cluster state through an informer (typed structurally, so any list+watch cache
 * fits): one full compile after the first sync, then incremental updates. Events arriving in the
 * same macrotask are coalesced into one update. If an update throws, the old zone keeps serving,
 * the error is counted, and the next batch recompiles fully from the informer's cache.
 */
export interface InformerLike {
  start(): Promise<void>;
  hasSynced(): boolean;
  list(): StoredObject[];
  subscribe(listener: (events: readonly ZoneChange[]) => void): () => void;
}

export interface FeederOptions {
  readonly informer: InformerLike;
  readonly zoneOptions?: ZoneOptions;
  readonly metrics: DnsMetrics;
  readonly logger: Logger;
  /** Called with every new zone, after it is in place. */
  readonly onZone?: (zone: CompiledZone) => void;
}

export function snapshotFromObjects(
  objects: readonly StoredObject[],
  options?: ZoneOptions,
): Parameters<typeof compileZone>[0] {
  const of = (kind: string): StoredObject[] => objects.filter((o) => o.kind === kind);
  return {
    tasks: of('Task'),
    services: of('Service'),
    nodes: of('Node'),
    networks: of('Network'),
    vips: of('VIP'),
    options,
  };
}

export class ZoneFeeder {
  private current: CompiledZone | undefined;
  private pending: ZoneChange[] = [];
  private firstEventAt = 0;
  private scheduled: NodeJS.Immediate | undefined;
  private unsubscribe: (() => void) | undefined;
  private needsFullCompile = false;
  private stopped = false;

  constructor(private readonly options: FeederOptions) {}

  get zone(): CompiledZone | undefined {
    return this.current;
  }

  /** True once the first full sync has been compiled and is being served. */
  get synced(): boolean {
    return this.current !== undefined;
  }

  async start(): Promise<void> {
    const { informer } = this.options;
    this.unsubscribe = informer.subscribe((events) => this.enqueue(events));
    await informer.start();
    if (this.stopped) return;
    this.pending = [];
    this.install(
      () => compileZone(snapshotFromObjects(informer.list(), this.options.zoneOptions)),
      'full',
      performance.now(),
    );
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
  }

  private enqueue(events: readonly ZoneChange[]): void {
    if (this.stopped || this.current === undefined) return;
    if (this.pending.length === 0) this.firstEventAt = performance.now();
    this.pending.push(...events);
    this.scheduled ??= setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = undefined;
    const batch = this.pending;
    this.pending = [];
    const prev = this.current;
    if (batch.length === 0 || prev === undefined || this.stopped) return;
    if (this.needsFullCompile) {
      const objects = this.options.informer.list();
      this.install(
        () => compileZone(snapshotFromObjects(objects, this.options.zoneOptions)),
        'full',
        this.firstEventAt,
      );
    } else {
      this.install(() => updateZone(prev, batch), 'incremental', this.firstEventAt);
    }
  }

  private install(build: () => CompiledZone, mode: 'full' | 'incremental', receivedAt: number): void {
    const { metrics, logger } = this.options;
    const started = performance.now();
    let zone: CompiledZone;
    try {
      zone = build();
    } catch (err) {
      metrics.compileErrors.inc();
      if (!this.needsFullCompile)
        logger.error({ err, mode }, 'Zone compile failed; serving the previous zone');
      this.needsFullCompile = true;
      return;
    }
    this.needsFullCompile = false;
    this.current = zone;
    const now = performance.now();
    metrics.compileSeconds.observe({ mode }, (now - started) / 1000);
    metrics.syncLag.set((now - receivedAt) / 1000);
    metrics.records.set(zone.recordCount);
    metrics.names.set(zone.nameCount);
    metrics.revision.set(zone.revision);
    this.options.onZone?.(zone);
  }
}
