import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { HTTP_STATUS, LbErrorCode } from './errors';
import { cookieValue } from './headers';
import type { RequestHead } from './http1';
import type { PickedBackend } from './pick';
import { matchRoute } from './route-match';
import type { Pool } from './route-table';
import type { LbRuntime } from './runtime';

/** Responses the proxy makes itself, request routing and affinity: the L7 proxy's pure helpers. */

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** A request that may be sent again after its connection closed unanswered: idempotent, no body. */
export function safeToResend(head: RequestHead): boolean {
  return head.contentLength <= 0 && !head.chunked && IDEMPOTENT.has(head.method);
}

/** A complete response the proxy makes itself; the code travels in a header for operators. */
export function errorResponse(status: number, code: LbErrorCode, close: boolean): string {
  const text = STATUS_TEXT[status] ?? 'Error';
  const body = `${status} ${text} (${code})\n`;
  return (
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${body.length}\r\nX-Switchyard-Error: ${code}\r\n` +
    `${close ? 'Connection: close\r\n' : ''}\r\n${body}`
  );
}

export function statusOf(code: LbErrorCode): number {
  return HTTP_STATUS[code];
}

/** The pool for a request on a frontend of the current table, or why there is none. */
export function routeRequest(
  runtime: LbRuntime,
  frontendId: string,
  head: Pick<RequestHead, 'host' | 'target'>,
): Pool | LbErrorCode {
  const frontend = runtime.table.frontendsById.get(frontendId);
  if (!frontend?.router) return LbErrorCode.NO_BACKEND;
  const poolId = matchRoute(frontend.router, head.host, head.target);
  const pool = poolId === undefined ? undefined : runtime.table.pools.get(poolId);
  return pool ?? LbErrorCode.NO_ROUTE;
}

export interface Affinity {
  readonly hashKey: string;
  /** A `Set-Cookie` line to add to the response (consistent hashing on a cookie the client lacked). */
  readonly setCookie: string;
}

const NO_AFFINITY: Affinity = { hashKey: '', setCookie: '' };

/** Consistent hashing: the key to hash, and a new cookie when the client has none yet. */
export function affinityOf(runtime: LbRuntime, pool: Pool, head: RequestHead, client: string): Affinity {
  if (pool.algorithm !== 'consistent-hash') return NO_AFFINITY;
  if (pool.hashOn !== 'cookie') return { hashKey: client, setCookie: '' };
  const name = runtime.config.stickyCookie;
  const existing = cookieValue(head.cookie, name);
  if (existing !== undefined) return { hashKey: existing, setCookie: '' };
  const hashKey = randomBytes(12).toString('base64url');
  return { hashKey, setCookie: `Set-Cookie: ${name}=${hashKey}; Path=/; HttpOnly\r\n` };
}

/** The client address as the backend should see it (IPv4-mapped IPv6 unwrapped). */
export function unmapped(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * `X-Forwarded-Proto` and `X-Forwarded-Port` for every request of one client connection, made once
 * when it is accepted: the port it came in on, and `https` when it came over TLS (HAProxy's
 * `X-Forwarded-Proto https if { ssl_fc }`).
 */
export function forwardedFields(socket: net.Socket, secure: boolean): string {
  return `X-Forwarded-Proto: ${secure ? 'https' : 'http'}\r\nX-Forwarded-Port: ${socket.localPort ?? 0}\r\n`;
}

/**
 * The request head for the backend: always HTTP/1.1, hop-by-hop fields gone (the parser dropped
 * them), `X-Forwarded-For` extended with the client address, `X-Forwarded-Proto/Port/Host` set
 * from what this proxy saw (`forwarded`, from `forwardedFields`; client-sent values are not
 * trusted), framing restated once.
 */
export function backendRequestHead(head: RequestHead, client: string, forwarded: string): string {
  const forwardedFor = head.forwardedFor === undefined ? client : `${head.forwardedFor}, ${client}`;
  let out =
    `${head.method} ${head.target} HTTP/1.1\r\n${head.headers}X-Forwarded-For: ${forwardedFor}\r\n` +
    forwarded;
  if (head.host !== undefined) out += `X-Forwarded-Host: ${head.host}\r\n`;
  if (head.upgrade !== undefined) out += `Connection: Upgrade\r\nUpgrade: ${head.upgrade}\r\n`;
  if (head.chunked) out += 'Transfer-Encoding: chunked\r\n';
  else if (head.contentLength >= 0) out += `Content-Length: ${head.contentLength}\r\n`;
  return `${out}\r\n`;
}

/** What the access log reads from a client connection about its current request. */
export interface LoggedRequest {
  readonly frontendId: string;
  readonly client: string;
  readonly pool: Pool | undefined;
  readonly picked: PickedBackend | undefined;
  readonly head: RequestHead | undefined;
  readonly started: number;
  readonly attempts: number;
}

/** One structured access-log line per request (499: the client went away first). */
export function logRequest(
  runtime: LbRuntime,
  request: LoggedRequest,
  status: number,
  error: LbErrorCode | undefined,
): void {
  runtime.logger.info(
    {
      frontend: request.frontendId,
      pool: request.pool?.id,
      backend: request.picked?.id,
      client: request.client,
      method: request.head?.method,
      path: request.head?.target,
      status,
      durationMs: runtime.now() - request.started,
      attempts: request.attempts,
      error,
    },
    'Request',
  );
}
