import { connectToBackend, splice } from './connect';
import { HTTP_STATUS, type LbErrorCode } from './errors';
import type { ClientConnection } from './http-proxy';
import type { Pool } from './route-table';

/**
 * Upgrade requests (WebSocket): routed like any request, then a raw connection to a backend (with
 * connect retries) gets the request head — Upgrade kept, X-Forwarded-* added — and any bytes the
 * client sent after it; then the two sockets are spliced, and the backend's own `101` travels back
 * through the splice.
 */
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
    if (socket.writable)
      socket.end(`HTTP/1.1 ${status} ${code}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
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
    if (early !== null) upstream.write(early);
    const session = { abort: (): void => cut() };
    picked.state.sessions.add(session);
    const cut = splice(socket, upstream, runtime.config.timeouts.tunnelIdleMs, () => {
      picked.state.sessions.delete(session);
      picked.state.responses[1]! += 1;
      stats.responses[1]! += 1;
      end();
    });
  });
}
