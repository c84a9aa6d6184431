import { Counter, Gauge, type Registry } from '../lib';
import type { FrontendStats, LbRuntime } from './runtime';

/**
 * Prometheus metrics, read from the runtime's own counters at scrape time so the hot path only
 * bumps plain numbers. Names follow `switchyard_lb_<name>[_<unit>]`; counters end in `_total`.
 */
export interface LbMetrics {
  readonly compiles: Counter<'result'>;
}

interface BackendLabels {
  pool: string;
  backend: string;
}

function eachBackend(runtime: LbRuntime, visit: (labels: BackendLabels, id: string) => void): void {
  for (const pool of runtime.table.pools.values()) {
    for (const backend of pool.backends) visit({ pool: pool.id, backend: backend.id }, backend.id);
  }
}

function registerBackendMetrics(registers: Registry[], runtime: LbRuntime): void {
  new Gauge({
    name: 'switchyard_lb_backend_up',
    help: 'Whether a backend is UP by active checks (1) or not (0).',
    labelNames: ['pool', 'backend'],
    registers,
    collect() {
      this.reset();
      eachBackend(runtime, (labels, id) => this.set(labels, runtime.states.get(id)?.health === 'up' ? 1 : 0));
    },
  });
  new Gauge({
    name: 'switchyard_lb_backend_active_requests',
    help: 'Requests, TCP sessions or UDP sessions in flight on a backend.',
    labelNames: ['pool', 'backend'],
    registers,
    collect() {
      this.reset();
      eachBackend(runtime, (labels, id) => this.set(labels, runtime.states.get(id)?.active ?? 0));
    },
  });
  new Counter({
    name: 'switchyard_lb_backend_requests_total',
    help: 'Requests, TCP sessions and UDP sessions sent to a backend.',
    labelNames: ['pool', 'backend'],
    registers,
    collect() {
      this.reset();
      eachBackend(runtime, (labels, id) => this.inc(labels, runtime.states.get(id)?.requests ?? 0));
    },
  });
  new Counter({
    name: 'switchyard_lb_backend_errors_total',
    help: 'Backend failures by kind: connect, reset, timeout.',
    labelNames: ['pool', 'backend', 'kind'],
    registers,
    collect() {
      this.reset();
      eachBackend(runtime, (labels, id) => {
        const s = runtime.states.get(id);
        if (!s) return;
        this.inc({ ...labels, kind: 'connect' }, s.connectFailures);
        this.inc({ ...labels, kind: 'reset' }, s.resets);
        this.inc({ ...labels, kind: 'timeout' }, s.timeouts);
      });
    },
  });
}

/** Bytes (TCP sessions once they end, UDP per datagram) and UDP datagrams per backend, each way. */
function registerBackendTrafficMetrics(registers: Registry[], runtime: LbRuntime): void {
  new Counter({
    name: 'switchyard_lb_backend_bytes_total',
    help: 'Bytes to a backend (direction=in, from clients) and from it (out): TCP sessions when they end, UDP datagrams as they pass.',
    labelNames: ['pool', 'backend', 'direction'],
    registers,
    collect() {
      this.reset();
      eachBackend(runtime, (labels, id) => {
        const s = runtime.states.get(id);
        if (!s) return;
        this.inc({ ...labels, direction: 'in' }, s.bytesIn);
        this.inc({ ...labels, direction: 'out' }, s.bytesOut);
      });
    },
  });
  new Counter({
    name: 'switchyard_lb_backend_datagrams_total',
    help: 'UDP datagrams sent to a backend (direction=in) and replies received from it (out).',
    labelNames: ['pool', 'backend', 'direction'],
    registers,
    collect() {
      this.reset();
      for (const pool of runtime.table.pools.values()) {
        if (pool.mode !== 'udp') continue;
        for (const backend of pool.backends) {
          const s = runtime.states.get(backend.id);
          if (!s) continue;
          this.inc({ pool: pool.id, backend: backend.id, direction: 'in' }, s.datagramsIn);
          this.inc({ pool: pool.id, backend: backend.id, direction: 'out' }, s.datagramsOut);
        }
      }
    },
  });
}

/** The stats of the table's UDP frontends. */
function eachUdpFrontend(runtime: LbRuntime, visit: (frontend: string, stats: FrontendStats) => void): void {
  for (const f of runtime.table.frontends) if (f.mode === 'udp') visit(f.id, runtime.frontendStatsFor(f.id));
}

function registerUdpMetrics(registers: Registry[], runtime: LbRuntime): void {
  new Gauge({
    name: 'switchyard_lb_udp_sessions',
    help: 'UDP sessions (clients) open on a UDP frontend.',
    labelNames: ['frontend'],
    registers,
    collect() {
      this.reset();
      eachUdpFrontend(runtime, (frontend, stats) => this.set({ frontend }, stats.currentSessions));
    },
  });
  new Counter({
    name: 'switchyard_lb_udp_sessions_total',
    help: 'UDP sessions (clients) opened on a UDP frontend.',
    labelNames: ['frontend'],
    registers,
    collect() {
      this.reset();
      eachUdpFrontend(runtime, (frontend, stats) => this.inc({ frontend }, stats.sessions));
    },
  });
  new Counter({
    name: 'switchyard_lb_udp_datagrams_total',
    help: 'Datagrams received from clients (direction=in) and sent to them (out) by a UDP frontend.',
    labelNames: ['frontend', 'direction'],
    registers,
    collect() {
      this.reset();
      eachUdpFrontend(runtime, (frontend, stats) => {
        this.inc({ frontend, direction: 'in' }, stats.datagramsIn);
        this.inc({ frontend, direction: 'out' }, stats.datagramsOut);
      });
    },
  });
  new Counter({
    name: 'switchyard_lb_udp_bytes_total',
    help: 'Bytes received from clients (direction=in) and sent to them (out) by a UDP frontend.',
    labelNames: ['frontend', 'direction'],
    registers,
    collect() {
      this.reset();
      eachUdpFrontend(runtime, (frontend, stats) => {
        this.inc({ frontend, direction: 'in' }, stats.bytesIn);
        this.inc({ frontend, direction: 'out' }, stats.bytesOut);
      });
    },
  });
  new Counter({
    name: 'switchyard_lb_udp_dropped_total',
    help: 'Datagrams a UDP frontend dropped, by reason: session-limit, no-backend, backlog, closing, error.',
    labelNames: ['frontend', 'reason'],
    registers,
    collect() {
      this.reset();
      eachUdpFrontend(runtime, (frontend, stats) => {
        for (const [reason, n] of stats.dropped) this.inc({ frontend, reason }, n);
      });
    },
  });
}

function registerFrontendMetrics(registers: Registry[], runtime: LbRuntime): void {
  new Counter({
    name: 'switchyard_lb_frontend_requests_total',
    help: 'Requests received by a frontend.',
    labelNames: ['frontend'],
    registers,
    collect() {
      this.reset();
      for (const [frontend, stats] of runtime.frontendStats) this.inc({ frontend }, stats.requests);
    },
  });
  new Counter({
    name: 'switchyard_lb_frontend_responses_total',
    help: 'Responses sent to clients by a frontend, by status class.',
    labelNames: ['frontend', 'class'],
    registers,
    collect() {
      this.reset();
      for (const [frontend, stats] of runtime.frontendStats) {
        stats.responses.forEach((n, i) => i > 0 && this.inc({ frontend, class: `${i}xx` }, n));
      }
    },
  });
  new Gauge({
    name: 'switchyard_lb_frontend_connections',
    help: 'Client connections open on a frontend.',
    labelNames: ['frontend'],
    registers,
    collect() {
      this.reset();
      for (const [frontend, stats] of runtime.frontendStats) this.set({ frontend }, stats.currentConnections);
    },
  });
  new Counter({
    name: 'switchyard_lb_frontend_refused_total',
    help: 'Requests the proxy answered itself before routing, by status (400, 404, 408, 413, 431, 501, 503).',
    labelNames: ['frontend', 'status'],
    registers,
    collect() {
      this.reset();
      for (const [frontend, stats] of runtime.frontendStats)
        for (const [status, n] of stats.refused) this.inc({ frontend, status: String(status) }, n);
    },
  });
  new Counter({
    name: 'switchyard_lb_tls_handshake_errors_total',
    help: 'TLS handshakes that failed on an HTTPS frontend (plain HTTP, untrusted certificate, timeout).',
    labelNames: ['frontend'],
    registers,
    collect() {
      this.reset();
      for (const [frontend, stats] of runtime.frontendStats)
        if (stats.tlsHandshakeErrors > 0) this.inc({ frontend }, stats.tlsHandshakeErrors);
    },
  });
}

export function registerLbMetrics(registry: Registry, runtime: LbRuntime): LbMetrics {
  const registers = [registry];
  registerBackendMetrics(registers, runtime);
  registerBackendTrafficMetrics(registers, runtime);
  registerFrontendMetrics(registers, runtime);
  registerUdpMetrics(registers, runtime);
  new Counter({
    name: 'switchyard_lb_retries_total',
    help: 'Requests and connections retried on another backend after a failed connect or reset.',
    registers,
    collect() {
      this.reset();
      this.inc(runtime.retries);
    },
  });
  new Counter({
    name: 'switchyard_lb_panics_total',
    help: 'Unexpected exceptions caught by a proxy handler.',
    registers,
    collect() {
      this.reset();
      this.inc(runtime.panics);
    },
  });
  new Gauge({
    name: 'switchyard_lb_route_table_revision',
    help: 'The state revision the serving route table was compiled from.',
    registers,
    collect() {
      this.set(runtime.table.revision);
    },
  });
  const compiles = new Counter({
    name: 'switchyard_lb_route_compiles_total',
    help: 'Route-table compiles, by result (ok, failed).',
    labelNames: ['result'],
    registers,
  });
  return { compiles };
}
