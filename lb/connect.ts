import net from 'node:net';
import { LbErrorCode } from './errors';
import type { PickedBackend } from './pick';
import type { Pool } from './route-table';
import type { LbRuntime } from './runtime';

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
    const socket = net.connect({ host: backend.host, port: backend.port, allowHalfOpen: true });
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
  upstream.pipe(client);
  return destroyBoth;
}
