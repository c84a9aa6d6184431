import { invalidOption } from './errors';
import { DEFAULT_HEALTH_CHECK } from './compile';
import type { HealthCheckConfig } from './route-table';

/** Timeouts, in milliseconds. Defaults follow marathon-lb's HAProxy template where one exists. */
export interface LbTimeouts {
  /** Connecting to a backend (HAProxy `timeout connect`, 3 s); a failed connect is retried elsewhere. */
  connectMs: number;
  /** Waiting for a backend's response headers, then between body chunks (HAProxy `timeout server`, 30 s) → 504. */
  serverMs: number;
  /** Waiting for a free connection when all `maxConnectionsPerBackend` are busy (HAProxy `timeout queue`, its default: the connect timeout) → 503. */
  queueMs: number;
  /** Receiving a client's request headers (HAProxy `timeout http-request`, 15 s) → 408. */
  clientHeadersMs: number;
  /** Receiving a client's whole request, body included (30 s) → 408. */
  clientRequestMs: number;
  /** An idle client keep-alive connection is closed after this (HAProxy `timeout http-keep-alive`, 1 s; we use 5 s). */
  clientKeepAliveMs: number;
  /** TCP frontends: a session idle in both directions this long is closed (HAProxy `timeout client`, 30 s). */
  tcpIdleMs: number;
  /** WebSocket tunnels idle this long are closed (HAProxy `timeout tunnel`, 3600 s). */
  tunnelIdleMs: number;
  /**
   * UDP frontends: a client's session with no datagram either way for this long ends and its
   * upstream socket closes (30 s: Linux conntrack's `nf_conntrack_udp_timeout`; its
   * `_udp_timeout_stream`, for flows still busy after 2 s, is 120 s).
   */
  udpIdleMs: number;
  /** Draining backends and closing frontends keep open requests this long, then cut them. */
  drainGraceMs: number;
}

export interface PassiveHealthOptions {
  /** Consecutive connect failures or 5xx that eject a backend (Envoy `consecutive_5xx`, 5). */
  consecutiveErrors: number;
  /** First ejection lasts this long, the n-th n times as long (Envoy 30 s). */
  baseEjectionMs: number;
  maxEjectionMs: number;
  /** Never eject more than this share of a pool (at least one backend is always ejectable). */
  maxEjectionPercent: number;
  /** Below this share of non-ejected backends among the checked-UP ones, ejection is ignored (panic). */
  panicThresholdPercent: number;
}

export interface LbConfig {
  listenHost: string;
  ingressPort: number | null;
  /**
   * The HTTPS ingress frontend (marathon-lb's `bind :443 ssl crt <dir>`): the ingress rules again,
   * behind TLS with the certificate chosen by SNI from `certificates`. null (the default): none.
   */
  httpsPort: number | null;
  /** Directory of PEM certificates for `httpsPort` (`*.pem` with chain and key, or `name.crt` + `name.key`). */
  certificates: string | undefined;
  healthDefaults: HealthCheckConfig;
  timeouts: LbTimeouts;
  passive: PassiveHealthOptions;
  /** Retries of requests that never reached a backend, each on a different backend (HAProxy `retries` 3). */
  retries: number;
  /** Bytes of a request head (start line and fields) allowed → 431 beyond. */
  maxHeaderBytes: number;
  /** Request body bytes allowed → 413 beyond; 0 for no limit. */
  maxBodyBytes: number;
  /** Keep-alive connections kept per backend. */
  maxConnectionsPerBackend: number;
  /** UDP sessions (clients) per UDP frontend; datagrams of further new clients are dropped and counted. */
  maxUdpSessions: number;
  /** The cookie hashed by `consistent-hash` pools with `hashOn: cookie`; set when the client has none. */
  stickyCookie: string;
  /** Log one line per request and per TCP session. */
  accessLog: boolean;
  /** Debounce window for bursts of state events before a recompile. */
  debounceMs: number;
}

export type LbConfigInput = Partial<Omit<LbConfig, 'timeouts' | 'passive' | 'healthDefaults'>> & {
  timeouts?: Partial<LbTimeouts>;
  passive?: Partial<PassiveHealthOptions>;
  healthDefaults?: Partial<HealthCheckConfig>;
};

export const DEFAULT_TIMEOUTS: LbTimeouts = {
  connectMs: 3000,
  serverMs: 30_000,
  queueMs: 3000,
  clientHeadersMs: 15_000,
  clientRequestMs: 30_000,
  clientKeepAliveMs: 5000,
  tcpIdleMs: 30_000,
  tunnelIdleMs: 3_600_000,
  udpIdleMs: 30_000,
  drainGraceMs: 30_000,
};

export const DEFAULT_PASSIVE: PassiveHealthOptions = {
  consecutiveErrors: 5,
  baseEjectionMs: 30_000,
  maxEjectionMs: 300_000,
  maxEjectionPercent: 10,
  panicThresholdPercent: 50,
};

function positive(field: string, value: number, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw invalidOption(
      field,
      `must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function checkAll(prefix: string, values: object, allowZero: ReadonlySet<string> = new Set()): void {
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'number') positive(`${prefix}${key}`, value, allowZero.has(key));
  }
}

/** Fill defaults in one place and check every number; throws SY_LB_INVALID_OPTIONS naming the field. */
export function resolveLbConfig(input: LbConfigInput = {}): LbConfig {
  const config: LbConfig = {
    listenHost: input.listenHost ?? '0.0.0.0',
    ingressPort: input.ingressPort === undefined ? 80 : input.ingressPort,
    httpsPort: input.httpsPort ?? null,
    certificates: input.certificates,
    healthDefaults: { ...DEFAULT_HEALTH_CHECK, ...input.healthDefaults },
    timeouts: { ...DEFAULT_TIMEOUTS, ...input.timeouts },
    passive: { ...DEFAULT_PASSIVE, ...input.passive },
    retries: input.retries ?? 3,
    maxHeaderBytes: input.maxHeaderBytes ?? 16_384,
    maxBodyBytes: input.maxBodyBytes ?? 10 * 1024 * 1024,
    maxConnectionsPerBackend: input.maxConnectionsPerBackend ?? 256,
    maxUdpSessions: input.maxUdpSessions ?? 65_536,
    stickyCookie: input.stickyCookie ?? 'sy_affinity',
    accessLog: input.accessLog ?? true,
    debounceMs: input.debounceMs ?? 50,
  };
  checkAll('timeouts.', config.timeouts);
  checkAll('passive.', config.passive, new Set(['maxEjectionPercent', 'panicThresholdPercent']));
  checkAll('healthDefaults.', config.healthDefaults);
  checkAll('', config, new Set(['retries', 'maxBodyBytes', 'debounceMs', 'ingressPort', 'httpsPort']));
  checkRelations(config);
  checkHttps(config);
  return config;
}

function checkRelations(config: LbConfig): void {
  if (config.passive.maxEjectionPercent > 100 || config.passive.panicThresholdPercent > 100) {
    throw invalidOption('passive', 'percentages must be at most 100');
  }
  if (config.passive.maxEjectionMs < config.passive.baseEjectionMs) {
    throw invalidOption('passive.maxEjectionMs', 'must not be below passive.baseEjectionMs');
  }
  if (!Number.isInteger(config.maxUdpSessions)) {
    throw invalidOption('maxUdpSessions', `must be a whole number, got ${config.maxUdpSessions}`);
  }
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(config.stickyCookie)) {
    throw invalidOption('stickyCookie', 'must be a cookie name token');
  }
}

function checkHttps(config: LbConfig): void {
  const { httpsPort, ingressPort, certificates } = config;
  if (certificates !== undefined && (typeof certificates !== 'string' || certificates === '')) {
    throw invalidOption('certificates', 'must be a directory path');
  }
  if (httpsPort === null) return;
  if (!Number.isInteger(httpsPort) || httpsPort > 65535) {
    throw invalidOption('httpsPort', `must be a port number, got ${JSON.stringify(httpsPort)}`);
  }
  if (certificates === undefined) {
    throw invalidOption('certificates', 'a certificate directory is required when httpsPort is set');
  }
  if (httpsPort !== 0 && httpsPort === ingressPort) {
    throw invalidOption('httpsPort', `must differ from ingressPort (both ${httpsPort})`);
  }
}
