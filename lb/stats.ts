import type { BackendState } from './backend-state';
import type { BoundFrontend } from './listeners';
import type { Backend, Pool } from './route-table';
import type { FrontendStats, LbRuntime } from './runtime';

/** The stats page's data, also served as JSON: one snapshot of the route table and the runtime. */
export interface StatsSnapshot {
  readonly revision: number;
  readonly generatedAt: string;
  readonly retries: number;
  readonly panics: number;
  readonly warnings: readonly string[];
  readonly frontends: readonly FrontendRow[];
  readonly pools: readonly PoolRow[];
}

export interface FrontendRow {
  readonly id: string;
  readonly mode: string;
  readonly bound: string;
  readonly connections: number;
  readonly currentConnections: number;
  readonly requests: number;
  readonly responses: Readonly<Record<string, number>>;
  readonly refused: Readonly<Record<string, number>>;
  /** Served over TLS (the HTTPS ingress frontend). */
  readonly tls: boolean;
  /** TLS frontends: failed handshakes (plain HTTP on the port, bad hellos, timeouts). */
  readonly tlsHandshakeErrors: number;
  /** UDP frontends only. */
  readonly udp?: UdpFrontendRow;
}

/** A UDP frontend's sessions and traffic: `in` = client → backend, `out` = backend → client. */
export interface UdpFrontendRow {
  readonly sessions: number;
  readonly currentSessions: number;
  readonly datagramsIn: number;
  readonly datagramsOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Datagrams dropped, by reason: session-limit, no-backend, backlog, closing, error. */
  readonly dropped: Readonly<Record<string, number>>;
}

export interface PoolRow {
  readonly id: string;
  readonly mode: string;
  readonly algorithm: string;
  readonly check: string;
  readonly noBackend: number;
  readonly up: number;
  readonly total: number;
  readonly backends: readonly BackendRow[];
}

export interface BackendRow {
  readonly id: string;
  readonly address: string;
  readonly weight: number;
  /** UP, DOWN, DRAIN (weight 0 or admin drain), MAINT, EJECTED. */
  readonly status: string;
  readonly reason: string;
  readonly lastCheck: string;
  readonly lastCheckMs: number | null;
  readonly sinceChangeMs: number;
  readonly active: number;
  readonly maxActive: number;
  readonly requests: number;
  readonly rate: number;
  readonly responses: Readonly<Record<string, number>>;
  readonly connectFailures: number;
  readonly resets: number;
  readonly timeouts: number;
  readonly redispatches: number;
  readonly ejections: number;
  /** Bytes client → backend (in) and back (out): TCP sessions once they end, UDP per datagram. */
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** UDP: datagrams sent to the backend (in) and replies from it (out). */
  readonly datagramsIn: number;
  readonly datagramsOut: number;
}

function byClass(counts: readonly number[]): Record<string, number> {
  return {
    '1xx': counts[1] ?? 0,
    '2xx': counts[2] ?? 0,
    '3xx': counts[3] ?? 0,
    '4xx': counts[4] ?? 0,
    '5xx': counts[5] ?? 0,
  };
}

export function backendStatus(
  backend: Backend,
  state: BackendState,
  now: number,
): { status: string; reason: string } {
  if (state.admin === 'maint') return { status: 'MAINT', reason: 'admin' };
  if (state.admin === 'drain') return { status: 'DRAIN', reason: 'admin' };
  if (backend.weight === 0) return { status: 'DRAIN', reason: backend.zeroWeightReason ?? 'weight 0' };
  if (state.health === 'down')
    return { status: 'DOWN', reason: state.lastCheck ? 'check' : 'not checked yet' };
  if (state.isEjected(now)) return { status: 'EJECTED', reason: `passive, ${state.ejections}×` };
  return { status: 'UP', reason: '' };
}

function backendRow(backend: Backend, state: BackendState, now: number): BackendRow {
  return {
    id: backend.id,
    address: `${backend.host}:${backend.port}`,
    weight: backend.weight,
    ...backendStatus(backend, state, now),
    lastCheck: state.lastCheck?.detail ?? '',
    lastCheckMs: state.lastCheck?.durationMs ?? null,
    sinceChangeMs: now - state.lastChange,
    active: state.active,
    maxActive: state.maxActive,
    requests: state.requests,
    rate: state.rate(now),
    responses: byClass(state.responses),
    connectFailures: state.connectFailures,
    resets: state.resets,
    timeouts: state.timeouts,
    redispatches: state.redispatches,
    ejections: state.ejections,
    bytesIn: state.bytesIn,
    bytesOut: state.bytesOut,
    datagramsIn: state.datagramsIn,
    datagramsOut: state.datagramsOut,
  };
}

function checkText(c: Pool['healthCheck']): string {
  if (c.type === 'none') return 'none (passive only)';
  return `${c.type}${c.type === 'http' ? ` GET ${c.path}` : ''} inter ${c.intervalMs}ms timeout ${c.timeoutMs}ms rise ${c.rise} fall ${c.fall}`;
}

function udpRow(stats: FrontendStats): UdpFrontendRow {
  return {
    sessions: stats.sessions,
    currentSessions: stats.currentSessions,
    datagramsIn: stats.datagramsIn,
    datagramsOut: stats.datagramsOut,
    bytesIn: stats.bytesIn,
    bytesOut: stats.bytesOut,
    dropped: Object.fromEntries(stats.dropped),
  };
}

function poolRow(runtime: LbRuntime, pool: Pool, now: number): PoolRow {
  const backends: BackendRow[] = [];
  for (const backend of pool.backends) {
    const state = runtime.states.get(backend.id);
    if (state) backends.push(backendRow(backend, state, now));
  }
  return {
    id: pool.id,
    mode: pool.mode,
    algorithm: pool.algorithm,
    check: checkText(pool.healthCheck),
    noBackend: runtime.noBackend.get(pool.id) ?? 0,
    up: backends.filter((b) => b.status === 'UP').length,
    total: backends.length,
    backends,
  };
}

export function collectStats(runtime: LbRuntime, bound: readonly BoundFrontend[]): StatsSnapshot {
  const now = runtime.now();
  const table = runtime.table;
  const boundById = new Map(bound.map((b) => [b.id, b]));
  return {
    revision: table.revision,
    generatedAt: new Date(now).toISOString(),
    retries: runtime.retries,
    panics: runtime.panics,
    warnings: table.warnings,
    frontends: table.frontends.map((f) => {
      const stats = runtime.frontendStatsFor(f.id);
      const b = boundById.get(f.id);
      const row: FrontendRow = {
        id: f.id,
        mode: f.mode,
        bound: b ? `${b.host}:${b.port}` : 'NOT BOUND',
        connections: stats.connections,
        currentConnections: stats.currentConnections,
        requests: stats.requests,
        responses: byClass(stats.responses),
        refused: Object.fromEntries([...stats.refused].map(([k, v]) => [String(k), v])),
        tls: f.tls === true,
        tlsHandshakeErrors: stats.tlsHandshakeErrors,
      };
      return f.mode === 'udp' ? { ...row, udp: udpRow(stats) } : row;
    }),
    pools: [...table.pools.values()].map((p) => poolRow(runtime, p, now)),
  };
}
