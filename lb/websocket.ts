import type net from 'node:net';
import { awaitResponseHead, connectToBackend, splice } from './connect';
import { HTTP_STATUS, LbErrorCode } from './errors';
import { errorResponse } from './http-reply';
import type { PickedBackend } from './pick';
import type { ClientConnection } from './http-proxy';
import type { Pool } from './route-table';

/**
 * Upgrade requests (WebSocket): routed like any request, then a raw connection to a backend (with
 * connect retries) gets the request head — Upgrade kept, X-Forwarded-* added — and any bytes the
 * client sent after it; then the two sockets are spliced, and the backend's own `101` travels back
 * through the splice.
 */
/** A backend's answer to an upgrade larger than this without a complete head is refused. */
const MAX_HEAD_BYTES = 64 * 1024;

export function startTunnel(
  connection: ClientConnection,
  pool: Pool,
  head: string,
  early: Buffer | null,
): void {
  const { runtime, socket } = connection;
  const stats = runtime.frontendStatsFor(connection.frontendId);
  const refuse = (code: LbErrorCode): void => {
    const status = HTTP_STATUS[code];
    stats.responses[Math.floor(status / 100)]! += 1;
    if (socket.writable) socket.end(errorResponse(status, code, true));
    socket.destroy();
  };
  connectToBackend(runtime, pool, connection.client, (result) => {
    if (typeof result === 'string') {
      refuse(result);
      return;
    }
    const { socket: upstream, picked, end } = result;
    if (socket.destroyed) {
      upstream.destroy();
      end();
      return;
    }
    upstream.write(head, 'latin1');
    // Splice only once the backend switched protocols: a refused upgrade must not leave a raw
    // tunnel behind which later requests would skip routing, X-Forwarded-* and every check.
    const timer = setTimeout(() => upstream.destroy(), runtime.config.timeouts.serverMs);
    awaitResponseHead(upstream, MAX_HEAD_BYTES, (received) => {
      clearTimeout(timer);
      const statusLine = received?.toString('latin1', 0, received.indexOf('\r\n')) ?? '';
      if (socket.destroyed || !/^HTTP\/1\.[01] 101( |$)/.test(statusLine)) {
        upstream.destroy();
        end();
        if (socket.destroyed) return;
        if (!/^HTTP\/1\.[01] [1-5]\d\d( |$)/.test(statusLine)) return refuse(LbErrorCode.BAD_RESPONSE);
        stats.responses[Number(statusLine[9])]! += 1;
        socket.end(`${statusLine}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        setTimeout(() => socket.destroy(), 2000).unref();
        return;
      }
      if (early !== null) upstream.write(early);
      tunnel(upstream, picked, end);
    });
  });

  function tunnel(upstream: net.Socket, picked: PickedBackend, end: () => void): void {
    const session = { abort: (): void => cut() };
    picked.state.sessions.add(session);
    const cut = splice(socket, upstream, runtime.config.timeouts.tunnelIdleMs, () => {
      picked.state.sessions.delete(session);
      picked.state.responses[1]! += 1;
      stats.responses[1]! += 1;
      end();
    });
  }
}
