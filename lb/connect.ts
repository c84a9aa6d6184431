import net from 'node:net';
import { LbErrorCode } from './errors';
import type { PickedBackend } from './pick';
import type { Pool } from './route-table';
import type { LbRuntime } from './runtime';

/** Bytes of the reusable buffer each backend connection reads into (HAProxy reuses 16 KiB ones). */
const RELAY_BUFFER_BYTES = 64 * 1024;

/**
 * Backend → client bytes without an allocation per read: the backend socket reads into one buffer
 * of its own (`onread`), and each read is written straight to the client. A write the kernel did
 * not take at once still points into that buffer, so reading stops until it is flushed. Reused and
 * cache-warm, where Node's default path allocates a fresh 64 KiB buffer for every read.
 */
class Relay {
  readonly buffer = Buffer.allocUnsafe(RELAY_BUFFER_BYTES);
  private target: net.Socket | undefined;
  /** Copies of what arrived before `attach` (the buffer is reused, so it cannot be kept). */
  early: Buffer[] = [];
  /** Told of each early arrival (the WebSocket hand-off reads the backend's answer here). */
  onEarly: (() => void) | undefined;
  private paused = false;
  source: net.Socket | undefined;

  onRead(length: number, buffer: Uint8Array): boolean {
    const target = this.target;
    if (!target) {
      this.early.push(Buffer.from(buffer.subarray(0, length)));
      this.onEarly?.();
      return true;
    }
    target.write(buffer.subarray(0, length), this.flushed);
    if (target.writableLength === 0) return true;
    this.paused = true;
    return false;
  }

  private readonly flushed = (err?: Error | null): void => {
    if (err || !this.paused) return;
    this.paused = false;
    this.source?.resume();
  };

  attach(target: net.Socket): void {
    this.target = target;
    for (const chunk of this.early) target.write(chunk);
    this.early = [];
    this.source?.once('end', () => target.end());
  }
}

const relays = new WeakMap<net.Socket, Relay>();

/**
 * Wait for the backend's response head on a connection not spliced yet; `done` gets the bytes so
 * far (head and anything after it), or undefined when the backend closed or sent over `limit`
 * bytes without a complete head.
 */
export function awaitResponseHead(
  upstream: net.Socket,
  limit: number,
  done: (received: Buffer | undefined) => void,
): void {
  const relay = relays.get(upstream);
  if (!relay) {
    done(undefined);
    return;
  }
  let settled = false;
  const settle = (received: Buffer | undefined): void => {
    if (settled) return;
    settled = true;
    relay.onEarly = undefined;
    upstream.off('close', onClose);
    done(received);
  };
  const onClose = (): void => settle(undefined);
  relay.onEarly = () => {
    const received = Buffer.concat(relay.early);
    if (received.includes('\r\n\r\n')) settle(received);
    else if (received.length > limit) settle(undefined);
  };
  upstream.once('close', onClose);
}

export interface Connected {
  readonly socket: net.Socket;
  readonly picked: PickedBackend;
  /** Call exactly once when the session is over (idempotent). */
  readonly end: () => void;
}

/**
 * Open a raw TCP connection to a backend of `pool` (TCP frontends, WebSocket tunnels). A refused or
 * timed-out connect is retried at once on another backend, up to `retries` times, and counts
 * against the backend's passive health.
 */
export function connectToBackend(
  runtime: LbRuntime,
  pool: Pool,
  hashKey: string,
  done: (result: Connected | LbErrorCode) => void,
): void {
  const tried = new Set<string>();
  const attempt = (): void => {
    const picked =
      runtime.pick(pool, hashKey, tried) ?? (tried.size > 0 ? runtime.pick(pool, hashKey) : undefined);
    if (!picked) {
      if (tried.size === 0) runtime.noBackend.set(pool.id, (runtime.noBackend.get(pool.id) ?? 0) + 1);
      done(tried.size === 0 ? LbErrorCode.NO_BACKEND : LbErrorCode.CONNECT_FAILED);
      return;
    }
    tried.add(picked.id);
    const { state, backend } = picked;
    state.begin(runtime.now());
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      state.end();
    };
    const relay = new Relay();
    const socket = net.connect({
      host: backend.host,
      port: backend.port,
      allowHalfOpen: true,
      onread: { buffer: relay.buffer, callback: (length, buffer) => relay.onRead(length, buffer) },
    });
    relay.source = socket;
    relays.set(socket, relay);
    socket.setNoDelay(true);
    const failed = (): void => {
      clearTimeout(timer);
      socket.destroy();
      end();
      state.connectFailures++;
      runtime.recordOutcome(pool, state, true);
      if (tried.size <= runtime.config.retries) {
        state.redispatches++;
        runtime.retries++;
        attempt();
      } else done(LbErrorCode.CONNECT_FAILED);
    };
    const timer = setTimeout(failed, runtime.config.timeouts.connectMs);
    socket.once('error', failed);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', failed);
      runtime.recordOutcome(pool, state, false);
      done({ socket, picked, end });
    });
  };
  attempt();
}

/**
 * Splice two sockets together until either side closes, with an idle timeout. Half-closes pass
 * through (pipe ends the other side); an error or timeout on one side destroys both.
 */
export function splice(
  client: net.Socket,
  upstream: net.Socket,
  idleMs: number,
  onClose: () => void,
): () => void {
  let closed = 0;
  const destroyBoth = (): void => {
    client.destroy();
    upstream.destroy();
  };
  // A socket closes only once both of its directions are done, so the first close ends the session.
  const onSocketClose = (): void => {
    closed++;
    if (closed === 1) destroyBoth();
    if (closed === 2) onClose();
  };
  client.on('error', destroyBoth).once('close', onSocketClose);
  upstream.on('error', destroyBoth).once('close', onSocketClose);
  client.setTimeout(idleMs, destroyBoth);
  upstream.setTimeout(idleMs, destroyBoth);
  client.pipe(upstream);
  const relay = relays.get(upstream);
  if (relay) relay.attach(client);
  else upstream.pipe(client);
  return destroyBoth;
}
