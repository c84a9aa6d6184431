import { Counter, Gauge, Histogram, type Registry } from '../../../lib';

/** The source's metrics, on the registry passed in; a second source on one registry shares them by `source`. */
export interface SourceMetrics {
  /** result: ok, fetch_failed (state kept), failed (an unexpected error; state kept). */
  readonly syncs: Counter<'source' | 'result'>;
  /** op: create, update, delete, failed. */
  readonly writes: Counter<'source' | 'op'>;
  readonly objects: Gauge<'source' | 'kind'>;
  readonly problems: Gauge<'source'>;
  readonly duration: Histogram<'source'>;
  readonly lastSuccess: Gauge<'source'>;
}

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createSourceMetrics(registry: Registry): SourceMetrics {
  const registers = [registry];
  return {
    syncs: reuse(
      registry,
      'switchyard_source_syncs_total',
      () =>
        new Counter({
          name: 'switchyard_source_syncs_total',
          help: 'Source sync cycles by result (ok, fetch_failed, failed).',
          labelNames: ['source', 'result'] as const,
          registers,
        }),
    ),
    writes: reuse(
      registry,
      'switchyard_source_writes_total',
      () =>
        new Counter({
          name: 'switchyard_source_writes_total',
          help: 'State writes made by a source, by operation (create, update, delete, failed).',
          labelNames: ['source', 'op'] as const,
          registers,
        }),
    ),
    objects: reuse(
      registry,
      'switchyard_source_objects',
      () =>
        new Gauge({
          name: 'switchyard_source_objects',
          help: 'Objects the source owns in the state after its last sync, by kind.',
          labelNames: ['source', 'kind'] as const,
          registers,
        }),
    ),
    problems: reuse(
      registry,
      'switchyard_source_problems',
      () =>
        new Gauge({
          name: 'switchyard_source_problems',
          help: 'Entries the last conversion skipped or changed (see the logs).',
          labelNames: ['source'] as const,
          registers,
        }),
    ),
    duration: reuse(
      registry,
      'switchyard_source_sync_duration_seconds',
      () =>
        new Histogram({
          name: 'switchyard_source_sync_duration_seconds',
          help: 'One sync cycle: fetch, convert, diff and writes.',
          labelNames: ['source'] as const,
          buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
          registers,
        }),
    ),
    lastSuccess: reuse(
      registry,
      'switchyard_source_last_success_timestamp_seconds',
      () =>
        new Gauge({
          name: 'switchyard_source_last_success_timestamp_seconds',
          help: 'Unix time of the last sync that read the leader and wrote the differences.',
          labelNames: ['source'] as const,
          registers,
        }),
    ),
  };
}
