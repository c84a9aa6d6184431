import { createRegistry, silentLogger, type Logger, type Registry } from '../../lib';
import type { StateApi } from '../api';
import { invalid } from '../errors';

export interface ServerLimits {
  /** Largest accepted request body (REST) or message (gRPC), in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Largest request header block (node's maxHeaderSize). Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Largest gRPC message the server sends (a big List). Default 64 MiB. */
  maxSendMessageBytes?: number;
  /** Time to receive and answer a non-watch request. Default 30 s. */
  requestTimeoutMs?: number;
  /** Open watches across both transports; more get 503 / RESOURCE_EXHAUSTED. Default 1000. */
  maxWatches?: number;
  /** Default BOOKMARK (keep-alive) interval on watches when the client names none. Default 15 s. */
  bookmarkIntervalMs?: number;
  /** Smallest bookmark interval a client may ask for. Default 50 ms. */
  minBookmarkIntervalMs?: number;
  /** How long close() lets unary requests finish before cutting connections. Default 5 s. */
  closeGraceMs?: number;
  /** gRPC keepalive ping interval, to find half-open watch connections. Default 30 s. */
  keepaliveTimeMs?: number;
  /** gRPC keepalive ping timeout. Default 10 s. */
  keepaliveTimeoutMs?: number;
  /** Most events in one gRPC Watch message. Default 1000. */
  watchBatchMaxEvents?: number;
  /**
   * About the most bytes in one gRPC Watch message (a single larger event still goes, alone), and
   * the most a watch may have written but not yet flushed before it stops reading the store.
   * Default 1 MiB; at most `maxSendMessageBytes`.
   */
  watchBatchMaxBytes?: number;
}

export interface StateServerOptions {
  api: StateApi;
  /** The bearer token writers (and, on non-loopback listeners, readers) must present. */
  token: string;
  /** REST/JSON listener; port 0 picks a free port. */
  http?: { host: string; port: number };
  /**
   * gRPC listeners: `host:port` (port 0 picks one) and/or `unix:///path` (its directory is kept
   * 0700); several addresses serve the same API (the all-in-one node: TCP and a unix socket).
   */
  grpc?: { address: string | string[] };
  logger?: Logger;
  registry?: Registry;
  limits?: ServerLimits;
  /** Let non-loopback listeners serve reads without the token. Default false. */
  anonymousReads?: boolean;
  /** Readiness for /readyz (e.g. the store has loaded); ready when absent. */
  ready?: () => boolean;
}

export type ResolvedLimits = Required<ServerLimits>;

export const DEFAULT_LIMITS: ResolvedLimits = {
  maxBodyBytes: 1024 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxSendMessageBytes: 64 * 1024 * 1024,
  requestTimeoutMs: 30_000,
  maxWatches: 1000,
  bookmarkIntervalMs: 15_000,
  minBookmarkIntervalMs: 50,
  closeGraceMs: 5_000,
  keepaliveTimeMs: 30_000,
  keepaliveTimeoutMs: 10_000,
  watchBatchMaxEvents: 1000,
  watchBatchMaxBytes: 1024 * 1024,
};

export interface ResolvedServerOptions {
  api: StateApi;
  token: string;
  http?: { host: string; port: number };
  grpc?: { addresses: string[] };
  logger: Logger;
  registry: Registry;
  limits: ResolvedLimits;
  anonymousReads: boolean;
  ready: () => boolean;
}

function resolveLimits(limits: ServerLimits = {}): ResolvedLimits {
  const resolved: ResolvedLimits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(limits) as Array<[keyof ServerLimits, number | undefined]>) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_LIMITS)) throw invalid(`limits.${key}`, 'unknown limit');
    if (!Number.isInteger(value) || value <= 0) throw invalid(`limits.${key}`, 'must be a positive integer');
    resolved[key] = value;
  }
  if (resolved.watchBatchMaxBytes > resolved.maxSendMessageBytes) {
    throw invalid(
      'limits.watchBatchMaxBytes',
      `must not exceed limits.maxSendMessageBytes (${resolved.maxSendMessageBytes})`,
    );
  }
  return resolved;
}

function checkListeners(options: StateServerOptions): void {
  if (typeof options.token !== 'string' || options.token === '' || /\s/.test(options.token)) {
    throw invalid('token', 'must be a non-empty string without whitespace');
  }
  if (options.http === undefined && options.grpc === undefined) {
    throw invalid('http', 'at least one of http and grpc must be given');
  }
  const port = options.http?.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw invalid('http.port', 'must be 0-65535');
  }
  if (options.grpc !== undefined) {
    const addresses = ([] as string[]).concat(options.grpc.address);
    if (addresses.length === 0 || addresses.some((a) => a === '')) throw invalid('grpc.address', 'required');
  }
}

/** Checks the options at the door and fills every default in one place. */
export function resolveServerOptions(options: StateServerOptions): ResolvedServerOptions {
  checkListeners(options);
  const resolved: ResolvedServerOptions = {
    api: options.api,
    token: options.token,
    logger: (options.logger ?? silentLogger()).child({ room: 'state', component: 'server' }),
    registry: options.registry ?? createRegistry(),
    limits: resolveLimits(options.limits),
    anonymousReads: options.anonymousReads ?? false,
    ready: options.ready ?? (() => true),
  };
  if (options.http !== undefined) resolved.http = { ...options.http };
  if (options.grpc !== undefined)
    resolved.grpc = { addresses: ([] as string[]).concat(options.grpc.address) };
  return resolved;
}
