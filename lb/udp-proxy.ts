import dgram from 'node:dgram';
import net from 'node:net';
import type { Session } from './backend-state';
import type { PickedBackend } from './pick';
import type { Frontend, Pool } from './route-table';
import type { FrontendStats, LbRuntime } from './runtime';

/**
 * The UDP proxy (a VIP's UDP ports; DC/OS l4lb serves them with IPVS, this is its userspace form).
 *
 * One dgram socket is bound per frontend, on the VIP address:port. Each client address:port is a
 * session (conntrack's idea of a UDP flow): the first datagram picks a backend (the pool's
 * algorithm; consistent hashing on the client IP) and opens an upstream dgram socket `connect()`ed
 * to it. Every later datagram of that client goes to the same backend; replies arriving on the
 * upstream socket are sent back from the frontend socket, so the client sees the VIP address:port
 * as their source. Sessions live in a two-level map (client address, then port): lookups hash the
 * strings and numbers dgram already made, nothing else is allocated per datagram, and no timer is
 * armed per datagram — one sweep per frontend ends sessions idle for `timeouts.udpIdleMs`.
 *
 * - **Session cap**: at most `maxUdpSessions` per frontend; datagrams of further new clients are
 *   dropped and counted (`session-limit`), as are those of new clients when no backend is eligible
 *   (`no-backend`), those beyond 64 queued while a session's upstream socket connects (`backlog`)
 *   and those of new clients while the frontend closes (`closing`).
 * - **Health**: no active check (UDP pools are `type: 'none'`, UP from the start). Passive: an ICMP
 *   port or host unreachable reported on the connected upstream socket (ECONNREFUSED,
 *   EHOSTUNREACH, … on send or receive) counts as a connect failure (`recordOutcome` with an
 *   error, the ejection rules of every pool) and ends the session, so the client's next datagram
 *   is balanced again; a reply counts as a success.
 * - **Draining**: weight 0 or admin drain stops new sessions on a backend (it is not a pool member
 *   any more); open sessions stay until idle or until the runtime's drain grace time cuts them
 *   (`BackendState.sessions`). A backend that leaves the table keeps its sessions for the grace time.
 * - **Closing**: a frontend leaving the table takes no new clients; open sessions go on until idle
 *   or the grace time, then the socket closes.
 */

export type UdpDropReason = 'session-limit' | 'no-backend' | 'backlog' | 'closing' | 'error';

/** Datagrams kept per session while its upstream socket connects (a few ticks); more are dropped. */
const MAX_PENDING = 64;

/** Errors on a connected UDP socket that report an ICMP error from (or on the way to) the backend. */
const UNREACHABLE: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
]);

class UdpSession implements Session {
  lastActive: number;
  readonly started: number;
  /** Datagrams that arrived while the upstream socket was connecting; undefined once connected. */
  pending: Buffer[] | undefined = [];
  /** A reply came back (counted once as a passive-health success). */
  answered = false;
  closed = false;
  datagramsIn = 0;
  datagramsOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  readonly upstream: dgram.Socket;

  constructor(
    private readonly owner: UdpFrontend,
    readonly address: string,
    readonly port: number,
    readonly pool: Pool,
    readonly picked: PickedBackend,
    now: number,
  ) {
    this.lastActive = now;
    this.started = now;
    const { host, port: backendPort } = picked.backend;
    this.upstream = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    this.upstream.on('message', (msg) => owner.reply(this, msg));
    this.upstream.on('error', (err) => owner.upstreamError(this, err));
    this.upstream.connect(backendPort, host, (err?: Error) =>
      err ? owner.upstreamError(this, err) : this.flush(),
    );
  }

  /** A datagram from the client; false when it had to be dropped (the connect backlog is full). */
  receive(msg: Buffer, now: number): boolean {
    this.lastActive = now;
    if (this.pending === undefined) this.send(msg);
    else if (this.pending.length < MAX_PENDING) this.pending.push(msg);
    else return false;
    return true;
  }

  private send(msg: Buffer): void {
    const state = this.picked.state;
    state.datagramsIn++;
    state.bytesIn += msg.length;
    this.datagramsIn++;
    this.bytesIn += msg.length;
    // No callback: a failed send is an 'error' event on the socket (one handler, no closure per datagram).
    this.upstream.send(msg);
  }

  private flush(): void {
    const pending = this.pending ?? [];
    this.pending = undefined;
    if (this.closed) return;
    for (const msg of pending) this.send(msg);
  }

  abort(): void {
    this.owner.end(this, 'cut');
  }
}

/** One UDP frontend: its bound socket and the sessions of its clients. */
export class UdpFrontend {
  /** Client address → client port → session. */
  private readonly sessions = new Map<string, Map<number, UdpSession>>();
  private count = 0;
  private readonly stats: FrontendStats;
  private readonly sweep: NodeJS.Timeout;
  private closing: Promise<void> | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private onClosed: () => void = () => undefined;

  private constructor(
    private readonly runtime: LbRuntime,
    readonly id: string,
    readonly socket: dgram.Socket,
  ) {
    this.stats = runtime.frontendStatsFor(id);
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    // After the bind, errors are failed sends to clients (the reply is lost): count, keep serving.
    socket.on('error', () => this.stats.drop('error'));
    const idleMs = runtime.config.timeouts.udpIdleMs;
    this.sweep = setInterval(() => this.sweepIdle(), Math.max(10, Math.min(1000, Math.floor(idleMs / 4))));
    this.sweep.unref();
  }

  /** Bind `frontend.host:port` (udp4 or udp6 by the address); rejects when the bind fails. */
  static bind(runtime: LbRuntime, frontend: Frontend, port: number): Promise<UdpFrontend> {
    const socket = dgram.createSocket(net.isIPv6(frontend.host) ? 'udp6' : 'udp4');
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close();
        reject(err);
      };
      socket.once('error', onError);
      socket.bind({ address: frontend.host, port, exclusive: true }, () => {
        socket.off('error', onError);
        resolve(new UdpFrontend(runtime, frontend.id, socket));
      });
    });
  }

  get address(): net.AddressInfo {
    return this.socket.address();
  }

  /** Open sessions. */
  get size(): number {
    return this.count;
  }

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const stats = this.stats;
    stats.datagramsIn++;
    stats.bytesIn += msg.length;
    try {
      const now = this.runtime.now();
      const session =
        this.sessions.get(rinfo.address)?.get(rinfo.port) ?? this.open(rinfo.address, rinfo.port, now);
      if (session !== undefined && !session.receive(msg, now)) stats.drop('backlog');
    } catch (err) {
      this.panic(err);
    }
  }

  private open(address: string, port: number, now: number): UdpSession | undefined {
    const runtime = this.runtime;
    if (this.closing) return this.refuse('closing');
    if (this.count >= runtime.config.maxUdpSessions) return this.refuse('session-limit');
    const poolId = runtime.table.frontendsById.get(this.id)?.pool;
    const pool = poolId === undefined ? undefined : runtime.table.pools.get(poolId);
    const picked = pool && runtime.pick(pool, address);
    if (pool === undefined || picked === undefined) {
      if (pool) runtime.noBackend.set(pool.id, (runtime.noBackend.get(pool.id) ?? 0) + 1);
      return this.refuse('no-backend');
    }
    const session = new UdpSession(this, address, port, pool, picked, now);
    picked.state.begin(now);
    picked.state.sessions.add(session);
    let byPort = this.sessions.get(address);
    if (byPort === undefined) {
      byPort = new Map();
      this.sessions.set(address, byPort);
    }
    byPort.set(port, session);
    this.count++;
    this.stats.sessions++;
    this.stats.currentSessions++;
    return session;
  }

  private refuse(reason: UdpDropReason): undefined {
    this.stats.drop(reason);
    return undefined;
  }

  /** A datagram from the backend: back to the client, from the frontend socket (the VIP address). */
  reply(session: UdpSession, msg: Buffer): void {
    if (session.closed || this.closed) return;
    try {
      session.lastActive = this.runtime.now();
      const state = session.picked.state;
      state.datagramsOut++;
      state.bytesOut += msg.length;
      session.datagramsOut++;
      session.bytesOut += msg.length;
      if (!session.answered || state.consecutiveErrors > 0) {
        session.answered = true;
        this.runtime.recordOutcome(this.poolOf(session), state, false);
      }
      this.stats.datagramsOut++;
      this.stats.bytesOut += msg.length;
      this.socket.send(msg, session.port, session.address);
    } catch (err) {
      this.panic(err);
    }
  }

  /** An error on a session's upstream socket: an ICMP unreachable is a connect failure. */
  upstreamError(session: UdpSession, err: Error): void {
    if (session.closed) return;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!UNREACHABLE.has(code) && session.pending === undefined) {
      // Not the backend's doing (e.g. EMSGSIZE): this datagram is lost, the session goes on.
      this.stats.drop('error');
      return;
    }
    const state = session.picked.state;
    state.connectFailures++;
    this.runtime.recordOutcome(this.poolOf(session), state, true);
    this.end(session, code || 'connect failed');
  }

  /** The session's pool as the table has it now (ejection counts its members), else as it was. */
  private poolOf(session: UdpSession): Pool {
    return this.runtime.table.pools.get(session.pool.id) ?? session.pool;
  }

  /** End a session (idempotent): close its upstream socket, release its backend. */
  end(session: UdpSession, reason: string): void {
    if (session.closed) return;
    session.closed = true;
    const byPort = this.sessions.get(session.address);
    if (byPort?.get(session.port) === session) {
      byPort.delete(session.port);
      if (byPort.size === 0) this.sessions.delete(session.address);
    }
    this.count--;
    this.stats.currentSessions--;
    const state = session.picked.state;
    state.sessions.delete(session);
    state.end();
    session.upstream.close();
    if (this.runtime.config.accessLog) this.log(session, reason);
    if (this.closing && this.count === 0) this.finish();
  }

  private log(session: UdpSession, reason: string): void {
    this.runtime.logger.info(
      {
        frontend: this.id,
        pool: session.pool.id,
        backend: session.picked.id,
        client: session.address,
        clientPort: session.port,
        datagramsIn: session.datagramsIn,
        datagramsOut: session.datagramsOut,
        bytesIn: session.bytesIn,
        bytesOut: session.bytesOut,
        durationMs: this.runtime.now() - session.started,
        end: reason,
      },
      'UDP session',
    );
  }

  private sweepIdle(): void {
    const deadline = this.runtime.now() - this.runtime.config.timeouts.udpIdleMs;
    // Deleting the entry being visited (or an inner map) is safe in a Map iteration.
    for (const byPort of this.sessions.values())
      for (const session of byPort.values()) if (session.lastActive <= deadline) this.end(session, 'idle');
  }

  private panic(err: unknown): void {
    this.runtime.panics++;
    this.runtime.logger.error({ err, frontend: this.id }, 'UDP proxy handler failed');
  }

  /**
   * Take no new clients; open sessions go on until idle or `graceMs`, then are cut and the socket
   * closes. Resolves once it has.
   */
  close(graceMs: number): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = new Promise((resolve) => (this.onClosed = resolve));
    if (graceMs === 0 || this.count === 0) this.cutAll();
    else {
      this.graceTimer = setTimeout(() => this.cutAll(), graceMs);
      this.graceTimer.unref();
    }
    return this.closing;
  }

  private cutAll(): void {
    for (const byPort of [...this.sessions.values()])
      for (const session of [...byPort.values()]) this.end(session, 'cut');
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweep);
    clearTimeout(this.graceTimer);
    this.socket.close(() => this.onClosed());
  }
}
