import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { HTTP_STATUS, LbError, LbErrorCode } from './errors';
import { clientAddress, cookieValue, forwardRequestHeaders, forwardResponseHeaders } from './headers';
import type { BackendState } from './backend-state';
import type { PickedBackend } from './pick';
import { matchRoute } from './route-match';
import type { Pool } from './route-table';
import type { FrontendStats, LbRuntime } from './runtime';

/**
 * The L7 proxy: route by host and path, pick a backend, forward over the backend's keep-alive
 * undici pool. A request that never reached a backend (connect failed) is retried at once on
 * another backend; so is an idempotent, bodiless request whose connection closed before any
 * response (the stale keep-alive race, which RFC 9110 §9.2.2 allows to retry).
 */

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const STATUS_TEXT: Readonly<Record<number, string>> = {
  404: 'Not Found',
  413: 'Payload Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Answer with an error the proxy made itself; the code travels in a header for operators. */
export function sendError(
  res: ServerResponse,
  stats: FrontendStats | undefined,
  code: LbErrorCode,
  close = false,
): void {
  const status = HTTP_STATUS[code];
  if (status < 500) stats?.refuse(status);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${status} ${STATUS_TEXT[status] ?? 'Error'} (${code})\n`;
  const headers: Record<string, string | number> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-switchyard-error': code,
  };
  if (close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

/** The request body as undici pulls it: not read until a connection is up, so a failed connect can be retried. */
class LazyBody implements AsyncIterable<Buffer> {
  started = false;
  private bytes = 0;

  constructor(
    private readonly req: IncomingMessage,
    private readonly limit: number,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    this.started = true;
    const req = this.req;
    for (;;) {
      const chunk = req.read() as Buffer | null;
      if (chunk !== null) {
        this.bytes += chunk.length;
        if (this.limit > 0 && this.bytes > this.limit)
          throw new LbError(LbErrorCode.BODY_TOO_LARGE, 'Request body over the limit');
        yield chunk;
        continue;
      }
      if (req.readableEnded) return;
      if (req.destroyed) throw new LbError(LbErrorCode.BACKEND_RESET, 'Client went away');
      await new Promise<void>((resolve) => {
        const done = (): void => {
          req.off('readable', done).off('end', done).off('close', done);
          resolve();
        };
        req.on('readable', done).on('end', done).on('close', done);
      });
    }
  }
}

const CLIENT_GONE = 'Client went away';

/**
 * One try of a request on one backend: the undici dispatch handler, and the session a drain's
 * grace time can cut. One object per try, methods on the prototype (this is the hot path).
 */
class Attempt implements Dispatcher.DispatchHandler {
  requestSent = false;
  responseStarted = false;
  controller: Dispatcher.DispatchController | undefined;
  private finished = false;
  private draining = false;

  constructor(
    private readonly exchange: HttpExchange,
    readonly picked: PickedBackend,
  ) {}

  /** The session is over on this backend (idempotent). */
  end(): void {
    if (this.finished) return;
    this.finished = true;
    this.picked.state.end();
    this.picked.state.sessions.delete(this);
  }

  /** Session: the drain grace time is over. */
  abort(): void {
    this.controller?.abort(new LbError(LbErrorCode.BACKEND_RESET, 'Drain grace time over'));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.requestSent = true;
    if (this.exchange.clientGone) controller.abort(new LbError(LbErrorCode.BACKEND_RESET, CLIENT_GONE));
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    if (statusCode < 200) return;
    this.responseStarted = true;
    this.exchange.responseStart(statusCode, headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.picked.state.bytesOut += chunk.length;
    const res = this.exchange.res;
    if (res.write(chunk)) return;
    controller.pause();
    if (this.draining) return;
    this.draining = true;
    res.on('drain', () => controller.resume());
  }

  onResponseEnd(): void {
    this.end();
    this.exchange.responseEnd(this);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.end();
    this.exchange.onError(this, error);
  }
}

class HttpExchange {
  /** Backends that failed this request already (made on the first retry). */
  private tried: Set<string> | undefined;
  private readonly started: number;
  private attempts = 0;
  private current: Attempt | undefined;
  clientGone = false;
  private status = 0;
  private readonly body: LazyBody | undefined;

  constructor(
    private readonly runtime: LbRuntime,
    private readonly stats: FrontendStats,
    private readonly frontendId: string,
    private readonly pool: Pool,
    private readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly hashKey: string,
    /** A new affinity cookie to hand the client (consistent hashing on a cookie it did not have). */
    private readonly setCookie: string | undefined,
  ) {
    this.started = runtime.now();
    this.body = hasBody(req) ? new LazyBody(req, runtime.config.maxBodyBytes) : undefined;
    res.once('close', () => {
      if (res.writableFinished) return;
      // The client went away: cancel the upstream request so nothing leaks.
      this.clientGone = true;
      this.current?.controller?.abort(new LbError(LbErrorCode.BACKEND_RESET, CLIENT_GONE));
    });
  }

  start(): void {
    const picked =
      this.runtime.pick(this.pool, this.hashKey, this.tried) ??
      (this.attempts > 0 ? this.runtime.pick(this.pool, this.hashKey) : undefined);
    if (!picked) {
      if (this.attempts === 0)
        this.runtime.noBackend.set(this.pool.id, (this.runtime.noBackend.get(this.pool.id) ?? 0) + 1);
      this.fail(this.attempts === 0 ? LbErrorCode.NO_BACKEND : LbErrorCode.CONNECT_FAILED);
      return;
    }
    this.attempts++;
    const attempt = new Attempt(this, picked);
    this.current = attempt;
    picked.state.begin(this.runtime.now());
    picked.state.sessions.add(attempt);
    const req = this.req;
    this.runtime.upstream(picked.backend).dispatch(
      {
        path: req.url ?? '/',
        method: req.method as Dispatcher.HttpMethod,
        headers: forwardRequestHeaders(req),
        // undici streams any async iterable; its typings only list Readable.
        body: (this.body ?? null) as Readable | null,
      },
      attempt,
    );
  }

  responseStart(statusCode: number, headers: IncomingHttpHeaders): void {
    this.status = statusCode;
    if (this.clientGone) return;
    const out = forwardResponseHeaders(headers);
    if (this.setCookie) out['set-cookie'] = appendCookie(out['set-cookie'], this.setCookie);
    this.res.writeHead(statusCode, out);
  }

  responseEnd(attempt: Attempt): void {
    const state = attempt.picked.state;
    this.runtime.recordOutcome(this.pool, state, this.status >= 500);
    state.responses[Math.floor(this.status / 100)]! += 1;
    this.res.end();
    this.log(attempt);
  }

  onError(attempt: Attempt, error: Error): void {
    if (this.clientGone) {
      this.log(attempt);
      return;
    }
    const code = (error as { code?: string }).code;
    if (code === LbErrorCode.BODY_TOO_LARGE) {
      sendError(this.res, this.stats, LbErrorCode.BODY_TOO_LARGE, true);
      return;
    }
    const neverSent = !attempt.requestSent;
    const failure = classifyFailure(code, neverSent);
    countFailure(attempt.picked.state, failure);
    this.runtime.recordOutcome(this.pool, attempt.picked.state, true);
    if (this.retryable(attempt, failure) && this.attempts <= this.runtime.config.retries) {
      attempt.picked.state.redispatches++;
      this.runtime.retries++;
      (this.tried ??= new Set()).add(attempt.picked.id);
      this.start();
      return;
    }
    if (attempt.responseStarted) {
      this.res.destroy();
      this.log(attempt);
      return;
    }
    this.status = HTTP_STATUS[failure];
    sendError(this.res, this.stats, failure);
    this.log(attempt, failure);
  }

  /** Never sent (connect failed), or an idempotent bodiless request reset before any response. */
  private retryable(attempt: Attempt, failure: LbErrorCode): boolean {
    if (!attempt.requestSent) return !this.body?.started;
    return (
      failure === LbErrorCode.BACKEND_RESET &&
      !attempt.responseStarted &&
      this.body === undefined &&
      IDEMPOTENT.has(this.req.method ?? '')
    );
  }

  private fail(code: LbErrorCode): void {
    this.status = HTTP_STATUS[code];
    sendError(this.res, this.stats, code);
    this.log(undefined, code);
  }

  private log(attempt: Attempt | undefined, error?: LbErrorCode): void {
    this.stats.responses[Math.floor(this.status / 100)]! += 1;
    if (!this.runtime.config.accessLog) return;
    this.runtime.logger.info(
      {
        frontend: this.frontendId,
        pool: this.pool.id,
        backend: attempt?.picked.id,
        client: clientAddress(this.req),
        method: this.req.method,
        path: this.req.url,
        status: this.clientGone ? 499 : this.status,
        durationMs: this.runtime.now() - this.started,
        attempts: this.attempts,
        error,
      },
      'Request',
    );
  }
}

function classifyFailure(code: string | undefined, neverSent: boolean): LbErrorCode {
  if (neverSent) return LbErrorCode.CONNECT_FAILED;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return LbErrorCode.BACKEND_TIMEOUT;
  return LbErrorCode.BACKEND_RESET;
}

function countFailure(state: BackendState, failure: LbErrorCode): void {
  if (failure === LbErrorCode.CONNECT_FAILED) state.connectFailures++;
  else if (failure === LbErrorCode.BACKEND_TIMEOUT) state.timeouts++;
  else state.resets++;
}

const NO_AFFINITY = { hashKey: '', setCookie: undefined } as const;

/** Consistent hashing: the key to hash, and a new cookie when the client has none yet. */
function affinityOf(
  runtime: LbRuntime,
  pool: Pool,
  req: IncomingMessage,
): { hashKey: string; setCookie: string | undefined } {
  if (pool.algorithm !== 'consistent-hash') return NO_AFFINITY;
  if (pool.hashOn !== 'cookie') return { hashKey: clientAddress(req), setCookie: undefined };
  const name = runtime.config.stickyCookie;
  const existing = cookieValue(req.headers.cookie, name);
  if (existing !== undefined) return { hashKey: existing, setCookie: undefined };
  const hashKey = randomBytes(12).toString('base64url');
  return { hashKey, setCookie: `${name}=${hashKey}; Path=/; HttpOnly` };
}

function appendCookie(existing: string | number | string[] | undefined, cookie: string): string[] {
  if (existing === undefined) return [cookie];
  return Array.isArray(existing) ? [...existing, cookie] : [String(existing), cookie];
}

/** The pool for a request on a frontend of the current table, or why there is none. */
export function routeRequest(
  runtime: LbRuntime,
  frontendId: string,
  req: IncomingMessage,
): Pool | LbErrorCode {
  const frontend = runtime.table.frontendsById.get(frontendId);
  if (!frontend?.router) return LbErrorCode.NO_BACKEND;
  const poolId = matchRoute(frontend.router, req.headers.host, req.url ?? '/');
  const pool = poolId === undefined ? undefined : runtime.table.pools.get(poolId);
  return pool ?? LbErrorCode.NO_ROUTE;
}

/** Handle one request on an HTTP frontend. Never throws: a top-level catch answers 502. */
export function handleHttpRequest(
  runtime: LbRuntime,
  frontendId: string,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const stats = runtime.frontendStatsFor(frontendId);
  stats.requests++;
  try {
    const pool = routeRequest(runtime, frontendId, req);
    if (typeof pool === 'string') {
      sendError(res, stats, pool);
      return;
    }
    const length = Number(req.headers['content-length'] ?? 0);
    if (runtime.config.maxBodyBytes > 0 && length > runtime.config.maxBodyBytes) {
      sendError(res, stats, LbErrorCode.BODY_TOO_LARGE, true);
      return;
    }
    const { hashKey, setCookie } = affinityOf(runtime, pool, req);
    new HttpExchange(runtime, stats, frontendId, pool, req, res, hashKey, setCookie).start();
  } catch (err) {
    runtime.panics++;
    runtime.logger.error({ err, frontend: frontendId }, 'Proxy handler failed');
    sendError(res, stats, LbErrorCode.INTERNAL);
  }
}
