import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type net from 'node:net';
import { connectToBackend, splice } from './connect';
import { HTTP_STATUS, LbErrorCode } from './errors';
import { clientAddress, forwardRequestHeaders } from './headers';
import { routeRequest } from './http-proxy';
import type { LbRuntime } from './runtime';

/**
 * Upgrade requests (WebSocket): route like any request, open a raw connection to a backend (with
 * connect retries), replay the request head with the Upgrade headers kept and X-Forwarded-* added,
 * then splice the two sockets; the backend's own `101` travels back through the splice.
 */

function refuse(socket: Duplex, code: LbErrorCode): void {
  const status = HTTP_STATUS[code];
  if (socket.writable)
    socket.end(`HTTP/1.1 ${status} ${code}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

function requestHead(req: IncomingMessage): string {
  const headers = forwardRequestHeaders(req, { keepUpgrade: true });
  let head = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}\r\n`;
}

export function handleUpgrade(
  runtime: LbRuntime,
  frontendId: string,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  const stats = runtime.frontendStatsFor(frontendId);
  stats.requests++;
  socket.on('error', () => undefined);
  const pool = routeRequest(runtime, frontendId, req);
  if (typeof pool === 'string') {
    stats.refuse(HTTP_STATUS[pool]);
    refuse(socket, pool);
    return;
  }
  connectToBackend(runtime, pool, clientAddress(req), (result) => {
    if (typeof result === 'string') {
      stats.responses[5]! += 1;
      refuse(socket, result);
      return;
    }
    const { socket: upstream, picked, end } = result;
    if (socket.destroyed) {
      upstream.destroy();
      end();
      return;
    }
    upstream.write(requestHead(req));
    if (head.length > 0) upstream.write(head);
    const session = { abort: (): void => cut() };
    picked.state.sessions.add(session);
    const cut = splice(socket as net.Socket, upstream, runtime.config.timeouts.tunnelIdleMs, () => {
      picked.state.sessions.delete(session);
      picked.state.responses[1]! += 1;
      stats.responses[1]! += 1;
      end();
    });
  });
}
