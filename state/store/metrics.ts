// The store's metrics, registered in the registry passed in (never the global one).
import { Counter, Gauge, Histogram, Registry } from '../../lib';
import { KINDS, type Kind } from '../model';

export type WriteOp = 'create' | 'update' | 'delete';

export class StoreMetrics {
  readonly writes: Counter<'op'>;
  readonly revision: Gauge;
  readonly objects: Gauge<'kind'>;
  readonly fsyncSeconds: Histogram;
  readonly watchers: Gauge;
  readonly snapshots: Counter;

  constructor(registry: Registry = new Registry()) {
    const registers = [registry];
    this.writes = new Counter({
      name: 'switchyard_state_writes_total',
      help: 'Committed state changes by operation.',
      labelNames: ['op'],
      registers,
    });
    this.revision = new Gauge({
      name: 'switchyard_state_revision',
      help: 'The last durable store revision.',
      registers,
    });
    this.objects = new Gauge({
      name: 'switchyard_state_objects',
      help: 'Objects in the store by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.fsyncSeconds = new Histogram({
      name: 'switchyard_state_wal_fsync_seconds',
      help: 'Time to write and fsync one group commit to the WAL.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.watchers = new Gauge({
      name: 'switchyard_state_watchers',
      help: 'Open watch streams and subscriptions.',
      registers,
    });
    this.snapshots = new Counter({
      name: 'switchyard_state_snapshots_total',
      help: 'Snapshots written.',
      registers,
    });
    for (const kind of KINDS) this.objects.set({ kind }, 0);
    for (const op of ['create', 'update', 'delete'] as const) this.writes.inc({ op }, 0);
  }

  setObjectCount(kind: Kind, count: number): void {
    this.objects.set({ kind }, count);
  }
}
