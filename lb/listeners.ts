import http from 'node:http';
import net from 'node:net';
import type { Socket } from 'node:net';
import { LbError, LbErrorCode } from './errors';
import { handleHttpRequest } from './http-proxy';
import type { Frontend, FrontendMode, RouteTable } from './route-table';
import type { LbRuntime } from './runtime';
import { handleTcpConnection } from './tcp-proxy';
import { handleUpgrade } from './websocket';

/** A frontend as bound: `port` is the real one (differs from the table's when `portFor` maps it). */
export interface BoundFrontend {
  readonly id: string;
  readonly mode: FrontendMode;
  readonly host: string;
  readonly port: number;
}

interface Listener {
  readonly bound: BoundFrontend;
  readonly server: net.Server;
  readonly sockets: Set<Socket>;
}

/** Maps a frontend to the port to bind; tests map every frontend to 0 (any free port). */
export type PortMapper = (frontend: Frontend) => number;

const CLIENT_ERRORS: Readonly<Record<string, [number, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
};

/**
 * The set of bound frontends. `reconcile` binds listeners for new frontends before it closes the
 * ones that went away; a frontend whose id and mode stay keeps its listener, and its handlers read
 * the current table per request, so a route-table swap never touches a socket.
 */
export class FrontendListeners {
  private readonly listeners = new Map<string, Listener>();

  constructor(
    private readonly runtime: LbRuntime,
    private readonly portFor: PortMapper = (f) => f.port,
  ) {}

  get bound(): BoundFrontend[] {
    return [...this.listeners.values()].map((l) => l.bound);
  }

  /** Bind new frontends, then release removed ones. Bind failures are returned, not thrown. */
  async reconcile(table: RouteTable): Promise<LbError[]> {
    const failures: LbError[] = [];
    const rebind: Frontend[] = [];
    for (const frontend of table.frontends) {
      const existing = this.listeners.get(frontend.id);
      if (existing?.bound.mode === frontend.mode) continue;
      if (existing) rebind.push(frontend);
      else await this.bindOrRecord(frontend, failures);
    }
    const closing: Promise<void>[] = [];
    for (const [id, listener] of this.listeners) {
      const next = table.frontendsById.get(id);
      if (!next || next.mode !== listener.bound.mode) {
        this.listeners.delete(id);
        closing.push(this.release(listener));
      }
    }
    // A mode change on the same port needs the old listener gone first: the port is the same.
    if (rebind.length > 0) await Promise.all(closing.splice(0));
    for (const frontend of rebind) await this.bindOrRecord(frontend, failures);
    void Promise.all(closing);
    return failures;
  }

  private async bindOrRecord(frontend: Frontend, failures: LbError[]): Promise<void> {
    try {
      this.listeners.set(frontend.id, await this.bind(frontend));
    } catch (err) {
      failures.push(
        new LbError(LbErrorCode.BIND_FAILED, `Cannot bind ${frontend.id}: ${(err as Error).message}`, {
          cause: err,
          field: frontend.id,
        }),
      );
    }
  }

  private createServer(frontend: Frontend): net.Server {
    const runtime = this.runtime;
    const id = frontend.id;
    if (frontend.mode === 'tcp') {
      return net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) =>
        handleTcpConnection(runtime, id, socket),
      );
    }
    const t = runtime.config.timeouts;
    const server = http.createServer(
      {
        maxHeaderSize: runtime.config.maxHeaderBytes,
        headersTimeout: t.clientHeadersMs,
        requestTimeout: t.clientRequestMs,
        keepAliveTimeout: t.clientKeepAliveMs,
        // Node checks the two timeouts above on this period (30 s by default: far too coarse).
        connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(t.clientHeadersMs / 4))),
        noDelay: true,
      },
      (req, res) => handleHttpRequest(runtime, id, req, res),
    );
    server.on('upgrade', (req, socket, head) => handleUpgrade(runtime, id, req, socket, head));
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      const [status, text] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'Bad Request'];
      if (err.code !== 'ECONNRESET' && socket.writable) {
        runtime.frontendStatsFor(id).refuse(status);
        socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      }
      socket.destroy();
    });
    server.on('connection', (socket: Socket) => {
      const stats = runtime.frontendStatsFor(id);
      stats.connections++;
      stats.currentConnections++;
      socket.once('close', () => stats.currentConnections--);
    });
    return server;
  }

  private bind(frontend: Frontend): Promise<Listener> {
    const server = this.createServer(frontend);
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: frontend.host, port: this.portFor(frontend), backlog: 4096 }, () => {
        server.off('error', reject);
        const address = server.address() as net.AddressInfo;
        const bound = { id: frontend.id, mode: frontend.mode, host: address.address, port: address.port };
        resolve({ bound, server, sockets });
      });
    });
  }

  /** Stop accepting, let open connections finish within the grace time, then cut them. */
  private release(listener: Listener): Promise<void> {
    const grace = this.runtime.config.timeouts.drainGraceMs;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const socket of listener.sockets) socket.destroy();
      }, grace);
      timer.unref();
      listener.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      if (listener.server instanceof http.Server) listener.server.closeIdleConnections();
    });
  }

  /** Close every listener; open connections get `graceMs` to finish. */
  async close(graceMs: number): Promise<void> {
    const listeners = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(
      listeners.map(
        (listener) =>
          new Promise<void>((resolve) => {
            const cut = (): void => {
              for (const socket of listener.sockets) socket.destroy();
            };
            const timer = setTimeout(cut, graceMs);
            listener.server.close(() => {
              clearTimeout(timer);
              resolve();
            });
            if (listener.server instanceof http.Server) listener.server.closeIdleConnections();
            if (graceMs === 0) cut();
          }),
      ),
    );
  }
}
