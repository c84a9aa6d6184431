import { join, resolve } from 'node:path';
import { createRegistry, type Logger, type Registry } from '../lib';
import { startDnsServer } from '../dns';
import { startLoadBalancer } from '../lb';
import { createVipController } from '../vip';
import {
  createInformer,
  ensureToken,
  openEmbeddedStore,
  startStateServer,
  type EmbeddedStore,
  type TokenResult,
} from '../state';
import { env, parseHostPort } from './defaults';

export interface NodeOptions {
  dataDir: string;
  /** REST listen address, `host:port`. */
  http: string;
  /** gRPC listen address, `host:port` (a unix socket in the data dir is served too). */
  grpc: string;
  /** DNS listen address (UDP and TCP), `host:port`; undefined leaves DNS off. */
  dns?: string;
  /** The DNS server's Mesos-DNS HTTP API, `host:port`. */
  dnsHttp?: string;
  /**
   * The proxy: the address its frontends bind, its admin endpoint and ingress port, and the HTTPS
   * ingress port with its certificate directory (both or neither); undefined: off.
   */
  lb?: { listenHost: string; admin: string; ingressPort: number; httpsPort?: number; certificates?: string };
  token?: string;
}

/** One running part of the node: what to print about it, and how to stop it. */
interface Part {
  lines: string[];
  close(): Promise<void>;
}

export interface RunningNode {
  dataDir: string;
  store: EmbeddedStore;
  token: TokenResult;
  httpUrl: string;
  grpcAddress: string;
  socketPath: string;
  dnsAddress?: string;
  /** What each part listens on, for a person. */
  lines: string[];
  close(): Promise<void>;
}

/**
 * The all-in-one node: the embedded store, the state API (REST, gRPC on TCP and on a unix socket
 * in the data dir), and the consumers fed in-process from the store — DNS now, the proxy and the
 * agent as they land. Parts start in order and stop in reverse; if one fails to start, those
 * already running are stopped again.
 */
export async function startNode(
  o: NodeOptions,
  logger: Logger,
  hooks: { seed?: (store: EmbeddedStore) => Promise<void> } = {},
): Promise<RunningNode> {
  const dataDir = resolve(o.dataDir);
  const registry = createRegistry({ processMetrics: true });
  const store = await openEmbeddedStore({ dir: join(dataDir, 'state'), logger, registry });
  const parts: Part[] = [{ lines: [], close: () => store.close() }];
  const close = async (): Promise<void> => {
    for (const part of parts.splice(0).reverse()) {
      await part.close().catch((err: unknown) => logger.error({ err }, 'A part failed to stop'));
    }
  };
  try {
    // Seed data (the examples) goes in before any consumer starts, so they start with it.
    await hooks.seed?.(store);
    const token = ensureToken(dataDir, o.token ?? env('SWITCHYARD_TOKEN'));
    const socketPath = join(dataDir, 'run', 'state.sock');
    const server = await startStateServer({
      api: store,
      token: token.token,
      http: parseHostPort(o.http, '--http'),
      grpc: { address: [o.grpc, `unix://${socketPath}`] },
      logger,
      registry,
    });
    const httpUrl = `http://${hostText(server.httpAddress?.host ?? '')}:${server.httpAddress?.port ?? 0}`;
    const grpcAddress = server.grpcAddress ?? o.grpc;
    parts.push({
      lines: [
        `  state API  REST ${httpUrl}  gRPC ${grpcAddress}  socket unix://${socketPath}`,
        `  metrics    ${httpUrl}/metrics   health ${httpUrl}/healthz`,
      ],
      close: () => server.close(),
    });
    // The VIP controller first: it turns VIP labels and Service VIPs into VIP objects that DNS
    // and the proxy then serve.
    parts.push(await startVipPart(store, logger, registry));
    let dnsAddress: string | undefined;
    if (o.dns !== undefined) {
      const dns = await startDnsPart(store, o, logger, registry);
      dnsAddress = dns.address;
      parts.push(dns);
    }
    if (o.lb !== undefined) parts.push(await startLbPart(store, o.lb, logger, registry));
    const lines = parts.flatMap((p) => p.lines);
    return { dataDir, store, token, httpUrl, grpcAddress, socketPath, dnsAddress, lines, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function startDnsPart(
  store: EmbeddedStore,
  o: NodeOptions,
  logger: Logger,
  registry: Registry,
): Promise<Part & { address: string }> {
  const listen = parseHostPort(o.dns ?? '', '--dns');
  const http = o.dnsHttp === undefined ? undefined : parseHostPort(o.dnsHttp, '--dns-http');
  const stop = new AbortController();
  // In process, the informer reads the store directly: no serialisation between state and DNS.
  const informer = createInformer({ api: store, logger, signal: stop.signal });
  const dns = await startDnsServer({
    host: listen.host,
    port: listen.port,
    ...(http === undefined ? { httpPort: false as const } : { httpHost: http.host, httpPort: http.port }),
    informer,
    logger,
    registry,
  });
  const address = `${hostText(dns.udpAddress.address)}:${dns.udpAddress.port}`;
  const httpLine =
    dns.httpAddress === undefined
      ? ''
      : `  API http://${hostText(dns.httpAddress.address)}:${dns.httpAddress.port}`;
  return {
    address,
    lines: [`  DNS        udp+tcp ${address}${httpLine}`],
    close: async () => {
      stop.abort();
      await dns.close();
    },
  };
}

async function startVipPart(store: EmbeddedStore, logger: Logger, registry: Registry): Promise<Part> {
  const stop = new AbortController();
  const controller = createVipController({
    api: store,
    informer: createInformer({ api: store, logger, signal: stop.signal }),
    logger,
    registry,
  });
  await controller.start();
  return {
    lines: [],
    close: async () => {
      stop.abort();
      await controller.stop();
    },
  };
}

async function startLbPart(
  store: EmbeddedStore,
  o: NonNullable<NodeOptions['lb']>,
  logger: Logger,
  registry: Registry,
): Promise<Part> {
  const admin = parseHostPort(o.admin, '--lb-admin');
  const stop = new AbortController();
  const lb = await startLoadBalancer({
    informer: createInformer({ api: store, logger, signal: stop.signal }),
    listenHost: o.listenHost,
    ingressPort: o.ingressPort,
    httpsPort: o.httpsPort ?? null,
    certificates: o.certificates,
    admin,
    portFor: unprivilegedPort,
    logger,
    registry,
  });
  const adminUrl = `http://${hostText(lb.adminAddress?.host ?? '')}:${lb.adminAddress?.port ?? 0}`;
  const frontends = lb.frontends
    .map((f) => `${f.tls ? 'https' : f.mode} ${hostText(f.host)}:${f.port}`)
    .join(', ');
  return {
    lines: [`  proxy      stats ${adminUrl}/  frontends: ${frontends === '' ? 'none yet' : frontends}`],
    close: async () => {
      stop.abort();
      await lb.close({ graceMs: 1000 });
    },
  };
}

/**
 * Without root, a service's port below 1024 cannot be bound: the all-in-one node then serves it
 * 10000 higher (80 → 10080) so `switchyard up` works on a laptop; as root the port is the port.
 */
function unprivilegedPort(frontend: { port: number }): number {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return frontend.port < 1024 && frontend.port > 0 && !root ? frontend.port + 10000 : frontend.port;
}

function hostText(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
