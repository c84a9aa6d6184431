import net from 'node:net';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { LbError, LbErrorCode } from './errors';
import { ClientConnection } from './http-proxy';
import { forwardedFields } from './http-reply';
import type { Frontend, FrontendMode, RouteTable } from './route-table';
import type { LbRuntime } from './runtime';
import { handleTcpConnection } from './tcp-proxy';
import { CertificateStore, TLS_MIN_VERSION, type LoadedCertificates } from './tls-store';
import { UdpFrontend } from './udp-proxy';

/** A frontend as bound: `port` is the real one (differs from the table's when `portFor` maps it). */
export interface BoundFrontend {
  readonly id: string;
  readonly mode: FrontendMode;
  readonly host: string;
  readonly port: number;
  /** HTTP over TLS (the HTTPS ingress frontend). */
  readonly tls: boolean;
}

/** A TCP, HTTP or HTTPS frontend: a listening server and its client connections. */
interface StreamListener {
  readonly bound: BoundFrontend;
  readonly server: net.Server;
  readonly sockets: Set<Socket>;
  /** HTTP frontends: the client connections, for the timeout sweep and graceful close. */
  readonly clients: Set<ClientConnection>;
  readonly udp?: undefined;
}

/** A UDP frontend: one bound dgram socket and its client sessions (`udp-proxy.ts`). */
interface DatagramListener {
  readonly bound: BoundFrontend;
  readonly udp: UdpFrontend;
}

type Listener = StreamListener | DatagramListener;

/** Maps a frontend to the port to bind; tests map every frontend to 0 (any free port). */
export type PortMapper = (frontend: Frontend) => number;

/** A listener serves a frontend as long as the mode (http, tcp, udp) and the TLS flag stay. */
function sameKind(bound: BoundFrontend, frontend: Frontend): boolean {
  return bound.mode === frontend.mode && bound.tls === (frontend.tls === true);
}

/** A TLS server's own context: the default certificate (clients that send no SNI). */
function defaultContext(loaded: LoadedCertificates): tls.SecureContextOptions {
  return { cert: loaded.fallback.cert, key: loaded.fallback.key, minVersion: TLS_MIN_VERSION };
}

/**
 * The set of bound frontends. `reconcile` binds listeners for new frontends before it closes the
 * ones that went away; a frontend whose id and mode stay keeps its listener, and its handlers read
 * the current table per request, so a route-table swap never touches a socket.
 */
export class FrontendListeners {
  private readonly listeners = new Map<string, Listener>();
  /** One periodic check of every HTTP client's timeouts (Node's http server does the same). */
  private sweep: NodeJS.Timeout | undefined;
  /** The certificate directory of TLS frontends, loaded and watched from the first one on. */
  private certificates: CertificateStore | undefined;
  /** TLS servers not closed yet: their default certificate follows a reload of the directory. */
  private readonly tlsServers = new Set<tls.Server>();

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
      if (existing && sameKind(existing.bound, frontend)) continue;
      if (existing) rebind.push(frontend);
      else await this.bindOrRecord(frontend, failures);
    }
    const closing: Promise<void>[] = [];
    for (const [id, listener] of this.listeners) {
      const next = table.frontendsById.get(id);
      if (!next || !sameKind(listener.bound, next)) {
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

  private createServer(frontend: Frontend, clients: Set<ClientConnection>): net.Server {
    const runtime = this.runtime;
    const id = frontend.id;
    if (frontend.mode === 'tcp') {
      return net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) =>
        handleTcpConnection(runtime, id, socket),
      );
    }
    this.startSweep();
    if (frontend.tls) return this.createTlsServer(id, clients);
    // Not half-open: a client that shuts its sending side is gone (as nginx and node:http treat
    // it), so its upstream request is cancelled rather than left to finish for nobody.
    return net.createServer({ noDelay: true }, (socket) => this.acceptHttp(id, clients, socket, false));
  }

  /** An HTTP client connection, plain or (after the handshake) TLS: the same L7 proxy path. */
  private acceptHttp(id: string, clients: Set<ClientConnection>, socket: Socket, secure: boolean): void {
    const stats = this.runtime.frontendStatsFor(id);
    stats.connections++;
    stats.currentConnections++;
    const client = new ClientConnection(this.runtime, id, socket, forwardedFields(socket, secure));
    clients.add(client);
    socket.once('close', () => {
      stats.currentConnections--;
      clients.delete(client);
    });
  }

  /**
   * HTTPS: the certificate by SNI from the store (the default one without SNI), HTTP/1.1 by ALPN,
   * TLS 1.2 and up. Throws (the bind fails) when the directory has no loadable certificate. A
   * failed handshake (a plain-HTTP client, a bad hello, the handshake timeout) is counted and
   * closed; it never reaches the proxy.
   */
  private createTlsServer(id: string, clients: Set<ClientConnection>): tls.Server {
    const store = this.certificateStore();
    const server = tls.createServer({
      ...defaultContext(store.ensure()),
      SNICallback: (servername, done) => done(null, store.contextFor(servername)),
      ALPNProtocols: ['http/1.1'],
      handshakeTimeout: this.runtime.config.timeouts.clientHeadersMs,
      noDelay: true,
    });
    server.on('secureConnection', (socket: tls.TLSSocket) => this.acceptHttp(id, clients, socket, true));
    server.on('tlsClientError', (_err: Error, socket: tls.TLSSocket) => {
      this.runtime.frontendStatsFor(id).tlsHandshakeErrors++;
      socket.destroy();
    });
    this.tlsServers.add(server);
    server.once('close', () => this.tlsServers.delete(server));
    return server;
  }

  private certificateStore(): CertificateStore {
    if (this.certificates) return this.certificates;
    const dir = this.runtime.config.certificates;
    if (dir === undefined) throw new Error('no certificate directory configured (certificates)');
    const store = new CertificateStore(dir, this.runtime.logger);
    // New handshakes pick the new set up through SNICallback; the default context is the server's.
    store.onChange((loaded) => {
      for (const server of this.tlsServers) server.setSecureContext(defaultContext(loaded));
    });
    this.certificates = store;
    return store;
  }

  private startSweep(): void {
    if (this.sweep) return;
    const t = this.runtime.config.timeouts;
    const shortest = Math.min(t.clientHeadersMs, t.clientRequestMs, t.clientKeepAliveMs);
    this.sweep = setInterval(
      () => {
        const now = this.runtime.now();
        for (const listener of this.listeners.values()) {
          if (listener.udp) continue;
          for (const client of listener.clients) if (!client.isClosed) client.checkTimeouts(now);
        }
        for (const client of this.released) if (!client.isClosed) client.checkTimeouts(now);
      },
      Math.max(10, Math.min(1000, Math.floor(shortest / 4))),
    );
    this.sweep.unref();
  }

  /** Clients of listeners being released: still checked until they close. */
  private readonly released = new Set<ClientConnection>();

  private bind(frontend: Frontend): Promise<Listener> {
    return frontend.mode === 'udp' ? this.bindUdp(frontend) : this.bindStream(frontend);
  }

  private async bindUdp(frontend: Frontend): Promise<DatagramListener> {
    const udp = await UdpFrontend.bind(this.runtime, frontend, this.portFor(frontend));
    const { address, port } = udp.address;
    return { bound: { id: frontend.id, mode: 'udp', host: address, port, tls: false }, udp };
  }

  private bindStream(frontend: Frontend): Promise<StreamListener> {
    const clients = new Set<ClientConnection>();
    const server = this.createServer(frontend, clients);
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        if (server instanceof tls.Server) this.tlsServers.delete(server);
        reject(err);
      };
      server.once('error', onError);
      server.listen({ host: frontend.host, port: this.portFor(frontend), backlog: 4096 }, () => {
        server.off('error', onError);
        const address = server.address() as net.AddressInfo;
        const bound = {
          id: frontend.id,
          mode: frontend.mode,
          host: address.address,
          port: address.port,
          tls: frontend.tls === true,
        };
        resolve({ bound, server, sockets, clients });
      });
    });
  }

  /**
   * Stop accepting, let open connections (UDP: sessions) finish within the grace time, then cut
   * them.
   */
  private release(listener: Listener, graceMs = this.runtime.config.timeouts.drainGraceMs): Promise<void> {
    if (listener.udp) return listener.udp.close(graceMs);
    return new Promise((resolve) => {
      const cut = (): void => {
        for (const socket of listener.sockets) socket.destroy();
      };
      const timer = setTimeout(cut, graceMs);
      timer.unref();
      listener.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.closeIdle(listener);
      if (graceMs === 0) cut();
    });
  }

  /** Idle keep-alive clients close now; busy ones after their exchange (and keep their timeouts). */
  private closeIdle(listener: StreamListener): void {
    for (const client of listener.clients) {
      client.closeWhenIdle();
      if (client.isClosed) continue;
      this.released.add(client);
      client.socket.once('close', () => this.released.delete(client));
    }
  }

  /** Close every listener; open connections and UDP sessions get `graceMs` to finish. */
  async close(graceMs: number): Promise<void> {
    const listeners = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(listeners.map((listener) => this.release(listener, graceMs)));
    clearInterval(this.sweep);
    this.sweep = undefined;
    this.certificates?.close();
    this.certificates = undefined;
  }
}
