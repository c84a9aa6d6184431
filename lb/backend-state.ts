import type { PassiveHealthOptions } from './config';

/**
 * Runtime state of each backend, keyed by its stable id so it survives route-table compiles:
 * active-check health (HAProxy rise/fall), passive ejection (Envoy outlier detection), the admin
 * state, in-flight sessions and counters for the stats page.
 */

export type Health = 'up' | 'down';
/** HAProxy Runtime API states: ready = takes traffic; drain = no new traffic, still checked; maint = neither. */
export type AdminState = 'ready' | 'drain' | 'maint';

export interface CheckResult {
  readonly ok: boolean;
  /** Epoch ms. */
  readonly at: number;
  readonly durationMs: number;
  /** `L4OK`, `L7OK 200`, `L4CON ECONNREFUSED`, `L7STS 500`, `L4TOUT` — HAProxy's vocabulary. */
  readonly detail: string;
}

export interface HealthCounters {
  readonly health: Health;
  /** Consecutive passes while DOWN, consecutive failures while UP. */
  readonly streak: number;
}

/**
 * One active-check result applied with HAProxy semantics: DOWN → UP after `rise` consecutive
 * passes, UP → DOWN after `fall` consecutive failures; a result the other way resets the streak.
 */
export function applyCheckResult(
  current: HealthCounters,
  ok: boolean,
  rise: number,
  fall: number,
): HealthCounters {
  if (current.health === 'down') {
    if (!ok) return { health: 'down', streak: 0 };
    return current.streak + 1 >= rise
      ? { health: 'up', streak: 0 }
      : { health: 'down', streak: current.streak + 1 };
  }
  if (ok) return { health: 'up', streak: 0 };
  return current.streak + 1 >= fall
    ? { health: 'down', streak: 0 }
    : { health: 'up', streak: current.streak + 1 };
}

/** Something in flight on a backend that can be cut when a drain's grace time runs out. */
export interface Session {
  abort(): void;
}

export class BackendState {
  host: string;
  port: number;
  health: Health = 'down';
  streak = 0;
  lastCheck: CheckResult | undefined;
  /** Epoch ms of the last UP/DOWN change. */
  lastChange: number;
  admin: AdminState = 'ready';
  active = 0;
  maxActive = 0;
  requests = 0;
  /** Responses by class: index 1 = 1xx … 5 = 5xx. */
  readonly responses = [0, 0, 0, 0, 0, 0];
  connectFailures = 0;
  resets = 0;
  timeouts = 0;
  /** Requests sent elsewhere after a failed connect here. */
  redispatches = 0;
  /** Bytes client → backend and backend → client (TCP sessions when they end; UDP per datagram). */
  bytesIn = 0;
  bytesOut = 0;
  /** UDP: datagrams sent to the backend, and replies received from it. */
  datagramsIn = 0;
  datagramsOut = 0;
  consecutiveErrors = 0;
  ejections = 0;
  ejectedUntil = 0;
  readonly sessions = new Set<Session>();
  private rateSecond = 0;
  private rateCount = 0;
  private ratePrevious = 0;

  constructor(
    readonly id: string,
    host: string,
    port: number,
    now: number,
  ) {
    this.host = host;
    this.port = port;
    this.lastChange = now;
  }

  isEjected(now: number): boolean {
    return this.ejectedUntil > now;
  }

  /** A request or session (TCP or UDP) starts; pair with exactly one `end()`. */
  begin(now: number): void {
    this.active++;
    if (this.active > this.maxActive) this.maxActive = this.active;
    this.requests++;
    const second = Math.floor(now / 1000);
    if (second !== this.rateSecond) {
      this.ratePrevious = second === this.rateSecond + 1 ? this.rateCount : 0;
      this.rateSecond = second;
      this.rateCount = 0;
    }
    this.rateCount++;
  }

  end(): void {
    this.active--;
  }

  /** Requests per second over the last complete second. */
  rate(now: number): number {
    const second = Math.floor(now / 1000);
    if (second === this.rateSecond) return this.ratePrevious;
    return second === this.rateSecond + 1 ? this.rateCount : 0;
  }

  abortSessions(): number {
    const sessions = [...this.sessions];
    this.sessions.clear();
    for (const session of sessions) session.abort();
    return sessions.length;
  }
}

/**
 * Passive health: count a request's outcome. `error` means a connect failure, a reset or a 5xx.
 * The N-th consecutive error ejects the backend for base × ejections (capped), unless the pool
 * already has its share ejected. Returns true when this call ejected it.
 */
export function recordOutcome(
  state: BackendState,
  error: boolean,
  pool: readonly BackendState[],
  now: number,
  options: PassiveHealthOptions,
): boolean {
  if (!error) {
    state.consecutiveErrors = 0;
    // Forgive past ejections after a long clean spell, so the multiplier does not grow forever.
    if (state.ejections > 0 && now - state.ejectedUntil > options.maxEjectionMs) state.ejections = 0;
    return false;
  }
  state.consecutiveErrors++;
  if (state.consecutiveErrors < options.consecutiveErrors || state.isEjected(now)) return false;
  const ejected = pool.filter((s) => s.isEjected(now)).length;
  const allowed = Math.max(1, Math.floor((pool.length * options.maxEjectionPercent) / 100));
  if (ejected >= allowed) return false;
  state.ejections++;
  state.ejectedUntil = now + Math.min(options.baseEjectionMs * state.ejections, options.maxEjectionMs);
  state.consecutiveErrors = 0;
  return true;
}

/** The state of every backend the current route table names, plus ones still finishing work. */
export class BackendStates {
  private readonly byId = new Map<string, BackendState>();

  get(id: string): BackendState | undefined {
    return this.byId.get(id);
  }

  ensure(id: string, host: string, port: number, now: number): BackendState {
    let state = this.byId.get(id);
    if (!state) {
      state = new BackendState(id, host, port, now);
      this.byId.set(id, state);
    } else if (state.host !== host || state.port !== port) {
      // A new address is a new server as far as health goes: it must pass its checks again.
      state.host = host;
      state.port = port;
      state.health = 'down';
      state.streak = 0;
      state.lastChange = now;
    }
    return state;
  }

  delete(id: string): void {
    this.byId.delete(id);
  }

  values(): IterableIterator<BackendState> {
    return this.byId.values();
  }
}
