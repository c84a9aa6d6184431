import type net from 'node:net';
import { connectToBackend, splice } from './connect';
import type { LbRuntime } from './runtime';

/**
 * The L4 proxy: one backend connection per client connection, spliced both ways. The client's
 * bytes wait in its socket until the backend connection is up, so a failed connect is retried on
 * another backend without loss. Consistent-hash pools hash the client IP.
 */
export function handleTcpConnection(runtime: LbRuntime, frontendId: string, client: net.Socket): void {
  const stats = runtime.frontendStatsFor(frontendId);
  stats.connections++;
  stats.currentConnections++;
  const started = runtime.now();
  let closedEarly = false;
  const onEarlyClose = (): void => {
    closedEarly = true;
  };
  client.on('error', () => undefined).once('close', onEarlyClose);
  client.once('close', () => stats.currentConnections--);
  const frontend = runtime.table.frontendsById.get(frontendId);
  const pool = frontend?.pool === undefined ? undefined : runtime.table.pools.get(frontend.pool);
  if (!pool) {
    client.destroy();
    return;
  }
  const clientIp = client.remoteAddress ?? '';
  connectToBackend(runtime, pool, clientIp, (result) => {
    if (typeof result === 'string') {
      runtime.logger.warn(
        { frontend: frontendId, pool: pool.id, client: clientIp, error: result },
        'TCP session refused',
      );
      client.destroy();
      return;
    }
    const { socket, picked, end } = result;
    client.off('close', onEarlyClose);
    if (closedEarly || client.destroyed) {
      socket.destroy();
      end();
      return;
    }
    const session = { abort: (): void => cut() };
    picked.state.sessions.add(session);
    const cut = splice(client, socket, runtime.config.timeouts.tcpIdleMs, () => {
      picked.state.sessions.delete(session);
      picked.state.bytesIn += socket.bytesWritten;
      picked.state.bytesOut += socket.bytesRead;
      picked.state.responses[2]! += 1;
      end();
      if (runtime.config.accessLog) {
        runtime.logger.info(
          {
            frontend: frontendId,
            pool: pool.id,
            backend: picked.id,
            client: clientIp,
            bytesIn: socket.bytesWritten,
            bytesOut: socket.bytesRead,
            durationMs: runtime.now() - started,
          },
          'TCP session',
        );
      }
    });
  });
}
