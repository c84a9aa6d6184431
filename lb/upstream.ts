import net from 'node:net';

/**
 * Keep-alive connections to one backend, HAProxy's `http-reuse` in miniature: an idle connection
 * is reused last-in first-out (warm in cache, the others age out), at most `maxConnections` are
 * open, and further exchanges wait in order. An idle connection is closed before the backend
 * would close it (its `Keep-Alive: timeout` hint minus a second, else `idleMs`), so a reused
 * connection is rarely one the backend is closing; the rare race is the proxy's retry rule's job.
 */

/** What a connection reports to the exchange using it. */
export interface UpstreamUser {
  onUpstreamData(chunk: Buffer): void;
  /** The connection closed while in use; `error` is set when it failed. */
  onUpstreamClose(error: Error | undefined): void;
  onUpstreamTimeout(): void;
  onUpstreamDrain(): void;
}

export interface UpstreamOptions {
  readonly maxConnections: number;
  readonly connectMs: number;
  /** No byte in either direction for this long while in use → `onUpstreamTimeout`. */
  readonly serverMs: number;
  /** An idle connection is closed after this long. */
  readonly idleMs: number;
  /** A request waiting for a free connection gets a QueueTimeout after this long. */
  readonly queueMs: number;
}

/** Every connection stayed busy for `queueMs` (HAProxy's `timeout queue`). */
export class QueueTimeout extends Error {
  constructor() {
    super('Every backend connection stayed busy for the queue timeout');
    this.name = 'QueueTimeout';
  }
}

export class UpstreamConnection {
  user: UpstreamUser | undefined;
  /** When it went idle (epoch ms). */
  idleSince = 0;
  /** Close after this long idle: the backend's own hint when it gave one. */
  idleMs: number;
  /** Exchanges this connection has served (0 while the first is running). */
  served = 0;
  private error: Error | undefined;

  constructor(
    readonly socket: net.Socket,
    readonly upstream: Upstream,
  ) {
    this.idleMs = upstream.options.idleMs;
    socket.setNoDelay(true);
    socket.setTimeout(upstream.options.serverMs);
    socket.on('data', (chunk: Buffer) => {
      const user = this.user;
      // Bytes on an idle connection are a protocol error: the backend is not speaking HTTP/1.1.
      if (user) user.onUpstreamData(chunk);
      else socket.destroy();
    });
    socket.on('drain', () => this.user?.onUpstreamDrain());
    socket.on('timeout', () => {
      if (this.user) this.user.onUpstreamTimeout();
      else socket.destroy();
    });
    socket.on('error', (err) => (this.error = err));
    socket.on('close', () => {
      const user = this.user;
      this.user = undefined;
      upstream.closed(this);
      user?.onUpstreamClose(this.error ?? new Error('Backend closed the connection'));
    });
  }

  /**
   * Give the connection back: reused when `reusable`, else closed. `idleHintMs` is the backend's
   * `Keep-Alive: timeout` (-1: none); a connection the backend closes within a second is not kept.
   */
  release(reusable: boolean, idleHintMs = -1): void {
    this.user = undefined;
    this.served++;
    if (idleHintMs >= 0) this.idleMs = Math.min(this.upstream.options.idleMs, idleHintMs - 1000);
    if (!reusable || this.idleMs <= 0 || this.socket.destroyed) {
      this.socket.destroy();
      return;
    }
    this.upstream.idled(this);
  }
}

type Waiter = (connection: UpstreamConnection | Error) => void;

export class Upstream {
  private readonly idle: UpstreamConnection[] = [];
  private readonly waiting: Waiter[] = [];
  /** When each waiter queued (epoch ms), in the same order. */
  private readonly waitingSince: number[] = [];
  /** Connections open or opening. */
  open = 0;
  private closing = false;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly options: UpstreamOptions,
    private readonly now: () => number,
  ) {}

  /**
   * A connection for one exchange: an idle one, a new one, or the next one freed — or, after
   * `queueMs` in the queue, a QueueTimeout.
   */
  acquire(done: Waiter): void {
    let idle = this.idle.pop();
    // One closed by its backend but whose close event has not run yet is no use.
    while (idle?.socket.destroyed) idle = this.idle.pop();
    if (idle && !this.closing) {
      done(idle);
      return;
    }
    if (this.closing) {
      done(new Error('Backend removed'));
      return;
    }
    if (this.open >= this.options.maxConnections) {
      this.waiting.push(done);
      this.waitingSince.push(this.now());
      return;
    }
    this.connect(done);
  }

  /** Give up waiting (the client went away before a connection was free). */
  cancel(done: Waiter): void {
    const at = this.waiting.indexOf(done);
    if (at < 0) return;
    this.waiting.splice(at, 1);
    this.waitingSince.splice(at, 1);
  }

  /** The next waiter in order, or undefined. */
  private nextWaiter(): Waiter | undefined {
    this.waitingSince.shift();
    return this.waiting.shift();
  }

  private connect(done: Waiter): void {
    this.open++;
    const socket = net.connect({ host: this.host, port: this.port });
    const connection = new UpstreamConnection(socket, this);
    let settled = false;
    const settle = (result: UpstreamConnection | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('close', onFail);
      done(result);
    };
    const onConnect = (): void => settle(connection);
    const onFail = (): void => settle(new Error(`connect ${this.host}:${this.port} failed`));
    const timer = setTimeout(() => {
      socket.destroy();
      settle(new Error(`connect ${this.host}:${this.port} timed out`));
    }, this.options.connectMs);
    socket.once('connect', onConnect);
    socket.once('close', onFail);
  }

  idled(connection: UpstreamConnection): void {
    const next = this.nextWaiter();
    if (next) {
      next(connection);
      return;
    }
    if (this.closing) {
      connection.socket.destroy();
      return;
    }
    connection.idleSince = this.now();
    this.idle.push(connection);
  }

  closed(connection: UpstreamConnection): void {
    this.open--;
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
    // A slot is free: the next waiter gets a new connection.
    const next = this.nextWaiter();
    if (next) this.connect(next);
  }

  /** Close idle connections past their idle time; answer waiters queued past `queueMs`. */
  reap(now: number): void {
    while (this.waiting.length > 0 && now - (this.waitingSince[0] as number) >= this.options.queueMs)
      (this.nextWaiter() as Waiter)(new QueueTimeout());
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const connection = this.idle[i] as UpstreamConnection;
      if (now - connection.idleSince < connection.idleMs) continue;
      this.idle.splice(i, 1);
      connection.socket.destroy();
    }
  }

  /** No new connections; idle ones close now, busy ones when their exchange ends. */
  close(): void {
    this.closing = true;
    for (const connection of this.idle.splice(0)) connection.socket.destroy();
    this.waitingSince.length = 0;
    for (const waiter of this.waiting.splice(0)) waiter(new Error('Backend removed'));
  }

  get idleCount(): number {
    return this.idle.length;
  }
}
