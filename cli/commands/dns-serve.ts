import { createLogger, type Logger, type Registry } from '../../lib';
import { startDnsServer, type DnsServer, type DnsServerOptions } from '../../dns';
import {
  createInformer,
  createMesosSource,
  readMesosDnsConfig,
  sourceOptionsFromMesosDns,
  type Informer,
  type MesosDnsConfig,
  type StateApi,
} from '../../state';
import { parseHostPort } from '../defaults';

// What `switchyard dns` does the same way in a single process, a cluster primary and a worker.

export interface DnsCommandOptions {
  /** Explicit flags; undefined: the default, or the Mesos-DNS config file's value. */
  listen?: string;
  http?: string | false;
  upstreams?: string[];
  recursion?: boolean;
  /** A Mesos-DNS config.json, read as is: its masters feed the state, its settings the server. */
  mesosDnsConfig?: string;
  logLevel?: string;
  /** Processes serving the sockets; 1 (the default) serves in this process. */
  workers?: number;
  /**
   * The state lives in this process (`--mesos-dns-config` without `--server`): `api` is an
   * in-memory store. With workers, the primary serves it to them over a private unix socket.
   */
  localState?: boolean;
}

const DEFAULT_LISTEN = '127.0.0.1:8053';
const DEFAULT_HTTP = '127.0.0.1:8123';

export function commandLogger(o: DnsCommandOptions): Logger {
  return createLogger(o.logLevel === undefined ? {} : { level: o.logLevel });
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** Where one DNS server listens, as plain data (it crosses the cluster IPC channel). */
export interface ListenerAddresses {
  udp: { address: string; port: number };
  http?: { address: string; port: number };
}

export function listenerAddresses(server: DnsServer): ListenerAddresses {
  const { address, port } = server.udpAddress;
  const http = server.httpAddress;
  return {
    udp: { address, port },
    ...(http === undefined ? {} : { http: { address: http.address, port: http.port } }),
  };
}

/** `DNS listening on udp+tcp 127.0.0.1:8053, API http://127.0.0.1:8123` */
export function listeningLine(a: ListenerAddresses): string {
  const http = a.http === undefined ? '' : `, API http://${a.http.address}:${a.http.port}`;
  return `DNS listening on udp+tcp ${a.udp.address}:${a.udp.port}${http}`;
}

/**
 * Start the DNS server following `api`, tell `onListening`, serve until `stopped`, then close.
 * The same in a single process and in each worker.
 */
export async function serveDns(
  api: StateApi,
  options: Partial<DnsServerOptions>,
  hooks: {
    logger: Logger;
    registry: Registry;
    stopped: Promise<void>;
    onListening(server: DnsServer): void;
    /**
     * List the state before binding (a restarted worker: it joins sockets the others serve, so
     * it must not answer SERVFAIL while it syncs). Otherwise the listeners bind first, as dns/ does.
     */
    syncFirst?: boolean;
  },
): Promise<void> {
  const stop = new AbortController();
  try {
    const informer = createInformer({ api, logger: hooks.logger, signal: stop.signal });
    if (hooks.syncFirst === true && !(await syncedBeforeStop(informer, hooks.stopped))) return;
    const server = await startDnsServer({
      ...options,
      informer,
      logger: hooks.logger,
      registry: hooks.registry,
    });
    try {
      hooks.onListening(server);
      await hooks.stopped;
    } finally {
      await server.close();
    }
  } finally {
    stop.abort();
  }
}

/** Start the informer; true once it has synced, false if `stopped` comes first. */
async function syncedBeforeStop(informer: Informer, stopped: Promise<void>): Promise<boolean> {
  const synced = informer.start();
  synced.catch(() => undefined); // stopped first: the informer is aborted and rejects
  return Promise.race([synced.then(() => true), stopped.then(() => false)]);
}

/** The server's options: the config file's settings, then the flags (which win). */
export function serverOptions(
  o: DnsCommandOptions,
  config: MesosDnsConfig | undefined,
): Partial<DnsServerOptions> {
  const fromFile = config?.dns as Partial<DnsServerOptions> | undefined;
  return { ...(fromFile ?? {}), ...listenOptions(o, fromFile) };
}

/** Flags win over the config file, which wins over the defaults. */
function listenOptions(
  o: DnsCommandOptions,
  fromFile: Partial<DnsServerOptions> | undefined,
): Partial<DnsServerOptions> {
  const listen = o.listen ?? (fromFile === undefined ? DEFAULT_LISTEN : undefined);
  const http = o.http ?? (fromFile === undefined ? DEFAULT_HTTP : undefined);
  const out: Partial<DnsServerOptions> = {};
  if (listen !== undefined) {
    const { host, port } = parseHostPort(listen, '--listen');
    Object.assign(out, { host, port });
  }
  if (http === false) out.httpPort = false;
  else if (http !== undefined) {
    const { host, port } = parseHostPort(http, '--http');
    Object.assign(out, { httpHost: host, httpPort: port });
  }
  if (o.upstreams !== undefined) out.upstreams = o.upstreams;
  if (o.recursion !== undefined) out.forwarding = o.recursion;
  return out;
}

/** Read a Mesos-DNS config.json; its warnings are logged when a logger is given. */
export async function readMesos(path: string, logger?: Logger): Promise<MesosDnsConfig> {
  const config = await readMesosDnsConfig(path);
  for (const w of config.warnings) logger?.warn({ field: w.field }, `Mesos-DNS config: ${w.reason}`);
  return config;
}

/** Run the Mesos source from the config's masters, writing into `api`. */
export async function startMesos(
  api: StateApi,
  config: MesosDnsConfig,
  logger: Logger,
  registry: Registry,
): Promise<{ stop(): Promise<void> }> {
  const source = createMesosSource({
    api,
    logger,
    registry,
    ...(await sourceOptionsFromMesosDns(config.source)),
  });
  // Like Mesos-DNS, the first load is attempted before serving; a failure is logged and retried.
  const first = await source.start();
  logger.info({ first }, 'Mesos source started');
  return { stop: () => source.stop() };
}
