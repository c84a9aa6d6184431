// The VIP controller's metrics, registered in the registry passed in (never the global one).
import { Counter, Gauge, Histogram, type Registry } from '../lib';

export type ReconcileResult = 'ok' | 'conflict' | 'error' | 'skipped';
export type WriteOp = 'create' | 'update' | 'delete';

export interface VipMetrics {
  readonly reconciles: Counter<'result'>;
  readonly writes: Counter<'op'>;
  readonly compileSeconds: Histogram;
  readonly objects: Gauge;
  readonly problems: Gauge;
  readonly freeAddresses: Gauge;
}

export function createVipMetrics(registry: Registry): VipMetrics {
  const registers = [registry];
  const metrics: VipMetrics = {
    reconciles: new Counter({
      name: 'switchyard_vip_reconciles_total',
      help: 'Reconcile passes by result: ok, conflict (recomputed), error (retried), skipped (revision unchanged).',
      labelNames: ['result'],
      registers,
    }),
    writes: new Counter({
      name: 'switchyard_vip_writes_total',
      help: 'VIP objects written by the controller, by operation.',
      labelNames: ['op'],
      registers,
    }),
    compileSeconds: new Histogram({
      name: 'switchyard_vip_compile_seconds',
      help: 'Time to compile the desired VIP objects from a snapshot.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    objects: new Gauge({
      name: 'switchyard_vip_objects',
      help: 'VIP objects the last compile wanted (releasing ones included).',
      registers,
    }),
    problems: new Gauge({
      name: 'switchyard_vip_problems',
      help: 'Problems (bad labels, conflicts, exhaustion) found by the last compile.',
      registers,
    }),
    freeAddresses: new Gauge({
      name: 'switchyard_vip_free_addresses',
      help: 'Addresses of the service CIDR hashing can still hand out.',
      registers,
    }),
  };
  for (const result of ['ok', 'conflict', 'error', 'skipped'] as const) metrics.reconciles.inc({ result }, 0);
  for (const op of ['create', 'update', 'delete'] as const) metrics.writes.inc({ op }, 0);
  return metrics;
}
