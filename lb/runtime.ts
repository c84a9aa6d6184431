import type { Logger } from '../lib';
import { createBalancer, type Balancer } from './balance';
import {
  applyCheckResult,
  BackendStates,
  recordOutcome,
  type AdminState,
  type BackendState,
  type CheckResult,
} from './backend-state';
import type { LbConfig } from './config';
import { HealthChecker, type CheckTarget } from './health';
import { pickBackend, poolMembers, type PickedBackend } from './pick';
import type { Algorithm, Backend, Pool, RouteTable } from './route-table';
import { Upstream } from './upstream';

/** Per-frontend counters for the stats page and /metrics. */
export class FrontendStats {
  connections = 0;
  currentConnections = 0;
  requests = 0;
  /** Responses sent to clients by class: index 1 = 1xx … 5 = 5xx. */
  readonly responses = [0, 0, 0, 0, 0, 0];
  /** TLS frontends: handshakes that failed (plain HTTP on the TLS port, bad hellos, timeouts). */
  tlsHandshakeErrors = 0;
  /** Requests refused by the proxy itself, by status (400, 404, 408, 413, 431, 503). */
  readonly refused = new Map<number, number>();
  /** UDP frontends: sessions (clients) opened, and open now. */
  sessions = 0;
  currentSessions = 0;
  /** UDP frontends: datagrams and bytes received from clients (in) and sent to them (out). */
  datagramsIn = 0;
  datagramsOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** UDP frontends: datagrams dropped, by reason (`UdpDropReason`). */
  readonly dropped = new Map<string, number>();

  refuse(status: number): void {
    this.refused.set(status, (this.refused.get(status) ?? 0) + 1);
  }

  drop(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }
}

export const EMPTY_ROUTE_TABLE: RouteTable = {
  revision: 0,
  frontends: [],
  frontendsById: new Map(),
  pools: new Map(),
  warnings: [],
};

/** Idle backend connections close after this unless the backend asked for less (undici's default too). */
const UPSTREAM_IDLE_MS = 4000;
/** How often idle backend connections are checked for age. */
const REAP_INTERVAL_MS = 500;

const NO_MEMBERS: readonly BackendState[] = [];

/** A backend no active check watches: UP (passive health still ejects it). */
function markUnchecked(state: BackendState, now: number): void {
  if (state.health === 'up' && state.lastCheck === undefined) return;
  state.health = 'up';
  state.streak = 0;
  state.lastCheck = undefined;
  state.lastChange = now;
}

/**
 * Everything the proxies share at run time: the current route table (one reference, swapped by
 * `apply`), backend state and balancer positions that survive swaps, one pool of keep-alive connections
 * per backend, the health checker and drain timers.
 */
export class LbRuntime {
  table: RouteTable = EMPTY_ROUTE_TABLE;
  readonly states = new BackendStates();
  readonly frontendStats = new Map<string, FrontendStats>();
  /** 503s for lack of an eligible backend, per pool. */
  readonly noBackend = new Map<string, number>();
  retries = 0;
  panics = 0;
  private readonly balancers = new Map<string, { algorithm: Algorithm; balancer: Balancer }>();
  private readonly upstreams = new Map<string, Upstream>();
  /** Pickable members per pool object, rebuilt lazily after each `apply` (hot path: no allocation). */
  private members = new WeakMap<Pool, readonly PickedBackend[]>();
  private readonly drainTimers = new Map<string, NodeJS.Timeout>();
  private readonly health: HealthChecker;
  private readonly reaper: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly config: LbConfig,
    readonly logger: Logger,
    readonly now: () => number = Date.now,
  ) {
    this.health = new HealthChecker((id, result) => this.onCheck(id, result));
    this.reaper = setInterval(() => {
      const at = this.now();
      for (const upstream of this.upstreams.values()) upstream.reap(at);
    }, REAP_INTERVAL_MS);
    this.reaper.unref();
  }

  /**
   * Swap in a new route table. In-flight work keeps the backend and upstream it started with.
   * Backends of pools with an active check are checked (the first such pool's settings); those
   * only in passive-only pools (`type: 'none'`, UDP) are UP without a check.
   */
  apply(table: RouteTable): void {
    const previous = this.table;
    const now = this.now();
    const targets = new Map<string, CheckTarget>();
    const passiveOnly = new Map<string, BackendState>();
    for (const pool of table.pools.values()) {
      this.syncBackends(pool, now, targets, passiveOnly);
      this.syncBalancer(pool);
    }
    for (const [id, state] of passiveOnly) if (!targets.has(id)) markUnchecked(state, now);
    for (const poolId of this.balancers.keys()) if (!table.pools.has(poolId)) this.balancers.delete(poolId);
    for (const frontend of table.frontends) {
      if (!this.frontendStats.has(frontend.id)) this.frontendStats.set(frontend.id, new FrontendStats());
    }
    this.table = table;
    this.members = new WeakMap();
    this.health.sync([...targets.values()]);
    for (const pool of previous.pools.values()) {
      for (const backend of pool.backends)
        if (!targets.has(backend.id) && !passiveOnly.has(backend.id)) this.retire(backend.id);
    }
  }

  /** Ensure each backend's state, sort it into checked or passive-only, start or stop its drain. */
  private syncBackends(
    pool: Pool,
    now: number,
    targets: Map<string, CheckTarget>,
    passiveOnly: Map<string, BackendState>,
  ): void {
    for (const backend of pool.backends) {
      const state = this.states.ensure(backend.id, backend.host, backend.port, now);
      if (pool.healthCheck.type === 'none') passiveOnly.set(backend.id, state);
      else if (!targets.has(backend.id)) targets.set(backend.id, { ...backend, config: pool.healthCheck });
      if (backend.weight === 0 || state.admin === 'drain') this.scheduleDrain(backend.id);
      else if (state.admin === 'ready') this.cancelDrain(backend.id);
    }
  }

  private syncBalancer(pool: Pool): void {
    const existing = this.balancers.get(pool.id);
    if (existing?.algorithm === pool.algorithm) {
      existing.balancer.retain(new Set(pool.backends.map((b) => b.id)));
    } else {
      this.balancers.set(pool.id, { algorithm: pool.algorithm, balancer: createBalancer(pool.algorithm) });
    }
  }

  pick(pool: Pool, hashKey: string, exclude?: ReadonlySet<string>): PickedBackend | undefined {
    const entry = this.balancers.get(pool.id);
    if (!entry) return undefined;
    let members = this.members.get(pool);
    if (!members) {
      members = poolMembers(pool, this.states);
      this.members.set(pool, members);
    }
    return pickBackend(
      pool,
      this.states,
      entry.balancer,
      hashKey,
      this.now(),
      this.config.passive.panicThresholdPercent,
      exclude,
      members,
    );
  }

  /** The keep-alive connections to a backend, created on first use. */
  upstreamFor(backend: Backend): Upstream {
    const existing = this.upstreams.get(backend.id);
    if (existing && existing.host === backend.host && existing.port === backend.port) return existing;
    existing?.close();
    const { timeouts } = this.config;
    const upstream = new Upstream(
      backend.host,
      backend.port,
      {
        maxConnections: this.config.maxConnectionsPerBackend,
        connectMs: timeouts.connectMs,
        serverMs: timeouts.serverMs,
        queueMs: timeouts.queueMs,
        idleMs: UPSTREAM_IDLE_MS,
      },
      this.now,
    );
    this.upstreams.set(backend.id, upstream);
    return upstream;
  }

  /** Passive health: count an outcome against the backend, in the pool it was picked from. */
  recordOutcome(pool: Pool, state: BackendState, error: boolean): void {
    if (!error) {
      recordOutcome(state, false, NO_MEMBERS, this.now(), this.config.passive);
      return;
    }
    const members: BackendState[] = [];
    for (const backend of pool.backends) {
      const member = this.states.get(backend.id);
      if (member) members.push(member);
    }
    if (recordOutcome(state, error, members, this.now(), this.config.passive)) {
      this.logger.warn(
        { backend: state.id, pool: pool.id, ejections: state.ejections, until: state.ejectedUntil },
        'Backend ejected',
      );
    }
  }

  frontendStatsFor(id: string): FrontendStats {
    let stats = this.frontendStats.get(id);
    if (!stats) {
      stats = new FrontendStats();
      this.frontendStats.set(id, stats);
    }
    return stats;
  }

  /** The admin API: ready, drain (no new traffic, open work finishes within the grace time) or maint. */
  setAdminState(id: string, admin: AdminState): boolean {
    const state = this.states.get(id);
    if (!state) return false;
    state.admin = admin;
    if (admin === 'ready') this.cancelDrain(id);
    else this.scheduleDrain(id);
    this.logger.info({ backend: id, admin }, 'Backend admin state changed');
    return true;
  }

  private onCheck(id: string, result: CheckResult): boolean {
    const state = this.states.get(id);
    const pool = this.poolOfBackend(id);
    if (!state || !pool) return false;
    state.lastCheck = result;
    const next = applyCheckResult(state, result.ok, pool.healthCheck.rise, pool.healthCheck.fall);
    if (next.health !== state.health) {
      state.lastChange = this.now();
      this.logger.info(
        { backend: id, health: next.health, check: result.detail },
        `Backend ${next.health.toUpperCase()}`,
      );
    }
    state.health = next.health;
    state.streak = next.streak;
    return next.streak > 0;
  }

  private poolOfBackend(id: string): Pool | undefined {
    for (const pool of this.table.pools.values()) if (pool.backends.some((b) => b.id === id)) return pool;
    return undefined;
  }

  private scheduleDrain(id: string): void {
    if (this.drainTimers.has(id) || this.closed) return;
    const timer = setTimeout(() => {
      this.drainTimers.delete(id);
      const cut = this.states.get(id)?.abortSessions() ?? 0;
      if (cut > 0) this.logger.warn({ backend: id, cut }, 'Drain grace time over; open sessions cut');
    }, this.config.timeouts.drainGraceMs);
    timer.unref();
    this.drainTimers.set(id, timer);
  }

  private cancelDrain(id: string): void {
    const timer = this.drainTimers.get(id);
    if (timer) clearTimeout(timer);
    this.drainTimers.delete(id);
  }

  /** A backend left the route table: no new work; open work finishes within the grace time. */
  private retire(id: string): void {
    this.cancelDrain(id);
    const state = this.states.get(id);
    const upstream = this.upstreams.get(id);
    this.upstreams.delete(id);
    this.states.delete(id);
    // Idle connections close now, busy ones when their exchange ends; the grace time cuts the rest.
    upstream?.close();
    if (!state || state.active === 0) return;
    const timer = setTimeout(() => state.abortSessions(), this.config.timeouts.drainGraceMs);
    timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.health.close();
    for (const timer of this.drainTimers.values()) clearTimeout(timer);
    this.drainTimers.clear();
    clearInterval(this.reaper);
    for (const state of this.states.values()) state.abortSessions();
    for (const upstream of this.upstreams.values()) upstream.close();
    this.upstreams.clear();
    await Promise.resolve();
  }
}
