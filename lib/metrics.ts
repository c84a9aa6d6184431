import { Registry, collectDefaultMetrics } from 'prom-client';

export { Registry };
export { AggregatorRegistry, Counter, Gauge, Histogram } from 'prom-client';

/**
 * A fresh metrics registry. Registries are passed in, never global, so two instances of a
 * component can run in one process (one test, or the all-in-one node).
 */
export function createRegistry(options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'switchyard_' });
  return registry;
}

/** Metric names are `switchyard_<room>_<name>[_<unit>]`; counters end in `_total`. */
export const METRIC_NAME = /^switchyard_[a-z0-9]+_[a-z0-9_]+$/;
