import { Counter, Gauge, Histogram, type Registry } from '../../lib';

export interface ServerMetrics {
  httpRequests: Counter<'method' | 'route' | 'code'>;
  grpcRequests: Counter<'method' | 'code'>;
  requestDuration: Histogram<'transport' | 'operation'>;
  activeWatches: Gauge<'transport'>;
}

/** Reuses a metric already on the registry, so a restarted server can share its registry. */
function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createServerMetrics(registry: Registry): ServerMetrics {
  const registers = [registry];
  return {
    httpRequests: reuse(
      registry,
      'switchyard_state_http_requests_total',
      () =>
        new Counter({
          name: 'switchyard_state_http_requests_total',
          help: 'REST requests by method, route template and HTTP status.',
          labelNames: ['method', 'route', 'code'] as const,
          registers,
        }),
    ),
    grpcRequests: reuse(
      registry,
      'switchyard_state_grpc_requests_total',
      () =>
        new Counter({
          name: 'switchyard_state_grpc_requests_total',
          help: 'gRPC requests by method and status code name.',
          labelNames: ['method', 'code'] as const,
          registers,
        }),
    ),
    requestDuration: reuse(
      registry,
      'switchyard_state_request_duration_seconds',
      () =>
        new Histogram({
          name: 'switchyard_state_request_duration_seconds',
          help: 'Time to answer a non-watch request, by transport and operation.',
          labelNames: ['transport', 'operation'] as const,
          buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
          registers,
        }),
    ),
    activeWatches: reuse(
      registry,
      'switchyard_state_active_watches',
      () =>
        new Gauge({
          name: 'switchyard_state_active_watches',
          help: 'Open watch streams by transport.',
          labelNames: ['transport'] as const,
          registers,
        }),
    ),
  };
}
