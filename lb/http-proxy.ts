/* eslint-disable max-lines -- one state machine per client connection: its phases and their
   transitions read best in one file; its pure parts already live in http-reply.ts, http-response.ts,
   request-body.ts and http1/. */
import type net from 'node:net';
import type { BackendState, Session } from './backend-state';
import { LbErrorCode } from './errors';
import {
  affinityOf,
  backendRequestHead,
  errorResponse,
  logRequest,
  routeRequest,
  safeToResend,
  statusOf,
  unmapped,
  type Affinity,
} from './http-reply';
import { HeadError, headEnd, leadingEmptyLines, parseRequestHead, type RequestHead } from './http1';
import { BODY_TOO_LARGE, RequestBody } from './request-body';
import { ResponseReader } from './http-response';
import type { PickedBackend } from './pick';
import type { Pool } from './route-table';
import type { FrontendStats, LbRuntime } from './runtime';
import { QueueTimeout, type Upstream, type UpstreamConnection, type UpstreamUser } from './upstream';
import { startTunnel } from './websocket';

/**
 * The L7 proxy, one object per client connection, on raw sockets: the request head is parsed once
 * (`http1/`), routed, and written to a keep-alive connection of the picked backend with the body
 * streamed after it; the response head is rewritten and the body streamed back with its framing
 * tracked, so the next request on either connection starts at the right byte. Nothing per request
 * but the parsed head and two strings. A request that never reached a backend (connect failed) is
 * retried at once elsewhere; so is an idempotent bodiless request whose connection closed before
 * any response (the stale keep-alive race RFC 9110 §9.2.2 allows to retry).
 */

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

/** Phases of a client connection. */
const HEAD = 0;
const CONNECTING = 1;
const FORWARDING = 2;
const TUNNEL = 3;
const CLOSED = 4;

/** Bytes a client may send ahead (a pipelined request, body before the backend is up) before reads pause. */
const READ_AHEAD_BYTES = 64 * 1024;
/** A connection closed by the proxy is destroyed after this even if the client keeps it half open. */
const LINGER_MS = 2000;
const BAD_FRAMING = -2;

export class ClientConnection implements Session, UpstreamUser {
  phase = HEAD;
  /** Start of the current phase's clock: connection, last response, or first byte of a head. */
  since: number;
  /** In HEAD: no byte of the next request yet. */
  idle = true;
  /** Close after the current exchange (the listener is being released). */
  closing = false;
  /** Requests answered on this connection. */
  served = 0;
  readonly client: string;
  private readonly stats: FrontendStats;
  private pending: Buffer | null = null;
  private searched = 0;
  private paused = false;
  /** readHeads is on the stack. */
  private reading = false;
  // The current request.
  head: RequestHead | undefined;
  private headText = '';
  pool: Pool | undefined;
  private affinity: Affinity | undefined;
  started = 0;
  attempts = 0;
  private tried: Set<string> | undefined;
  picked: PickedBackend | undefined;
  private waitingOn: Upstream | undefined;
  private upstream: UpstreamConnection | undefined;
  /** The current attempt holds a session on `picked` (begin() without end() yet). */
  private attemptOpen = false;
  private readonly body = new RequestBody();
  private keepClient = false;
  readonly response = new ResponseReader(this);

  constructor(
    readonly runtime: LbRuntime,
    readonly frontendId: string,
    readonly socket: net.Socket,
    /** `X-Forwarded-Proto/Port` for every request (`forwardedFields`: https over TLS), made once. */
    private readonly forwarded: string,
  ) {
    this.since = runtime.now();
    this.client = unmapped(socket.remoteAddress);
    this.stats = runtime.frontendStatsFor(frontendId);
    socket.on('data', this.onData);
    socket.on('drain', () => this.upstream?.socket.resume());
    socket.on('error', () => undefined);
    socket.on('close', () => this.onClientClose());
  }

  private readonly onData = (chunk: Buffer): void => {
    const phase = this.phase;
    if (phase === CLOSED || phase === TUNNEL) return;
    try {
      this.pending = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
      if (phase === HEAD) this.readHeads();
      else if (!this.body.done && this.upstream) this.forwardBody(this.upstream);
      if (this.pending !== null && this.pending.length > READ_AHEAD_BYTES && !this.paused) {
        this.paused = true;
        this.socket.pause();
      }
    } catch (err) {
      this.panic(err);
    }
  };

  private panic(err: unknown): void {
    this.runtime.panics++;
    this.runtime.logger.error({ err, frontend: this.frontendId }, 'Proxy handler failed');
    this.abandonUpstream();
    this.replyError(502, LbErrorCode.INTERNAL, true);
  }

  /** Parse every complete request head buffered, one exchange at a time. */
  private readHeads(): void {
    this.reading = true;
    try {
      this.readBufferedHeads();
    } finally {
      this.reading = false;
    }
    if (this.phase === HEAD) this.resumeReading();
  }

  private readBufferedHeads(): void {
    while (this.phase === HEAD && this.pending !== null) {
      const pending = this.dropEmptyLines(this.pending);
      if (pending === null) break;
      if (this.idle) {
        this.idle = false;
        this.since = this.runtime.now();
      }
      const end = headEnd(pending, this.searched);
      const limit = this.runtime.config.maxHeaderBytes;
      if (end < 0 ? pending.length > limit : end - 4 > limit) {
        this.stats.requests++;
        this.startClock();
        this.replyError(431, LbErrorCode.BAD_REQUEST, true);
        return;
      }
      if (end < 0) {
        this.searched = pending.length;
        break;
      }
      this.headText = pending.toString('latin1', 0, end - 4);
      this.pending = end < pending.length ? pending.subarray(end) : null;
      this.searched = 0;
      this.beginRequest();
    }
  }

  /** The buffered bytes without the empty lines a client may send before a request line. */
  private dropEmptyLines(pending: Buffer): Buffer | null {
    if (pending[0] !== 13 || this.searched > 0) return pending;
    const skip = leadingEmptyLines(pending);
    this.pending = skip === pending.length ? null : pending.subarray(skip);
    return this.pending;
  }

  private startClock(): void {
    this.started = this.runtime.now();
    this.response.started = false;
    this.head = undefined;
    this.pool = undefined;
    this.picked = undefined;
    this.attempts = 0;
    this.tried = undefined;
  }

  private beginRequest(): void {
    this.stats.requests++;
    this.startClock();
    const head = this.parseHead();
    const pool = head && this.routeOrRefuse(head);
    if (!head || !pool) return;
    this.affinity = affinityOf(this.runtime, pool, head, this.client);
    const forward = backendRequestHead(head, this.client, this.forwarded);
    if (head.upgrade !== undefined) {
      this.phase = TUNNEL;
      startTunnel(this, pool, forward, this.takePending());
      return;
    }
    this.body.start(head);
    this.keepClient = head.keepAlive && !this.closing;
    this.headText = forward;
    if (head.expectContinue && !this.body.done && head.minor === 1) this.socket.write(CONTINUE);
    this.dispatch();
  }

  private parseHead(): RequestHead | undefined {
    try {
      this.head = parseRequestHead(this.headText);
      return this.head;
    } catch (err) {
      if (!(err instanceof HeadError)) throw err;
      const code = err.status === 501 ? LbErrorCode.NOT_IMPLEMENTED : LbErrorCode.BAD_REQUEST;
      this.replyError(err.status, code, true);
      return undefined;
    }
  }

  /** The request's pool, or undefined after answering why there is none (or why not to go on). */
  private routeOrRefuse(head: RequestHead): Pool | undefined {
    const pool = routeRequest(this.runtime, this.frontendId, head);
    if (typeof pool === 'string') {
      // A body we will not read cannot be told from the next request: close after answering.
      this.replyError(statusOf(pool), pool, head.chunked || head.contentLength > 0 || !head.keepAlive);
      return undefined;
    }
    const maxBody = this.runtime.config.maxBodyBytes;
    if (maxBody > 0 && head.contentLength > maxBody) {
      this.replyError(413, LbErrorCode.BODY_TOO_LARGE, true);
      return undefined;
    }
    this.pool = pool;
    return pool;
  }

  /** The buffered bytes, handed over (to a tunnel). */
  takePending(): Buffer | null {
    const pending = this.pending;
    this.pending = null;
    // Paused until the splice pipes it: data with no listener would be lost.
    this.socket.pause();
    this.socket.off('data', this.onData);
    return pending;
  }

  /** Pick a backend not tried yet (any backend when all were) and get a connection to it. */
  private dispatch(): void {
    const pool = this.pool as Pool;
    const hashKey = (this.affinity as Affinity).hashKey;
    const runtime = this.runtime;
    const picked =
      runtime.pick(pool, hashKey, this.tried) ??
      (this.attempts > 0 ? runtime.pick(pool, hashKey) : undefined);
    if (!picked) {
      if (this.attempts === 0) runtime.noBackend.set(pool.id, (runtime.noBackend.get(pool.id) ?? 0) + 1);
      const code = this.attempts === 0 ? LbErrorCode.NO_BACKEND : LbErrorCode.CONNECT_FAILED;
      this.replyError(statusOf(code), code, !this.body.done || !this.keepClient);
      return;
    }
    this.attempts++;
    this.picked = picked;
    picked.state.begin(runtime.now());
    picked.state.sessions.add(this);
    this.attemptOpen = true;
    this.phase = CONNECTING;
    const upstream = runtime.upstreamFor(picked.backend);
    this.waitingOn = upstream;
    upstream.acquire(this.onConnection);
  }

  private readonly onConnection = (result: UpstreamConnection | Error): void => {
    this.waitingOn = undefined;
    if (this.phase !== CONNECTING) {
      if (!(result instanceof Error)) result.release(true);
      return;
    }
    try {
      // HAProxy's `timeout queue`: a clear 503, not counted against the (only busy) backend.
      if (result instanceof QueueTimeout)
        this.replyError(503, LbErrorCode.QUEUE_TIMEOUT, !this.body.done || !this.keepClient);
      else if (result instanceof Error) this.connectFailed();
      else this.send(result);
    } catch (err) {
      this.panic(err);
    }
  };

  private connectFailed(): void {
    const state = (this.picked as PickedBackend).state;
    state.connectFailures++;
    this.endAttempt();
    this.runtime.recordOutcome(this.pool as Pool, state, true);
    if (this.attempts <= this.runtime.config.retries) {
      this.redispatch(state);
      return;
    }
    this.replyError(502, LbErrorCode.CONNECT_FAILED, !this.body.done || !this.keepClient);
  }

  private redispatch(state: BackendState): void {
    state.redispatches++;
    this.runtime.retries++;
    (this.tried ??= new Set()).add(state.id);
    this.dispatch();
  }

  private send(connection: UpstreamConnection): void {
    this.upstream = connection;
    connection.user = this;
    this.phase = FORWARDING;
    this.response.reset(this.head as RequestHead);
    const socket = connection.socket;
    socket.cork();
    // Heads were read as latin1: written back the same way, every byte is what the client sent.
    socket.write(this.headText, 'latin1');
    if (!this.body.done) this.forwardBody(connection);
    socket.uncork();
  }

  /** Stream buffered request body bytes to the backend; what follows the body stays buffered. */
  private forwardBody(connection: UpstreamConnection): void {
    const pending = this.pending;
    if (pending === null) return;
    let end: number;
    try {
      end = this.body.take(pending, this.runtime.config.maxBodyBytes);
    } catch (err) {
      if (!(err instanceof HeadError)) throw err;
      end = BAD_FRAMING;
    }
    if (end < 0) {
      this.abandonUpstream();
      if (end === BODY_TOO_LARGE) this.replyError(413, LbErrorCode.BODY_TOO_LARGE, true);
      else this.replyError(400, LbErrorCode.BAD_REQUEST, true);
      return;
    }
    this.pending = end < pending.length ? pending.subarray(end) : null;
    (this.picked as PickedBackend).state.bytesIn += end;
    const written = connection.socket.write(end === pending.length ? pending : pending.subarray(0, end));
    if (written) this.resumeReading();
    else if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  onUpstreamDrain(): void {
    if (this.phase === FORWARDING) this.resumeReading();
  }

  private resumeReading(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
  }

  onUpstreamData(chunk: Buffer): void {
    try {
      this.response.read(chunk);
    } catch (err) {
      this.panic(err);
    }
  }

  /** ResponseReader: write to the client; the backend's reads pause while the client's buffer is full. */
  writeClient(data: string | Buffer): void {
    // Heads count too (HAProxy's bytes out do); a latin1 string's length is its byte count.
    (this.picked as PickedBackend).state.bytesOut += data.length;
    if (!this.socket.write(data, 'latin1')) this.upstream?.socket.pause();
  }

  /** ResponseReader: the head as the client gets it. */
  clientHeadSuffix(closeAfter: boolean): string {
    const head = this.head as RequestHead;
    if (closeAfter) this.keepClient = false;
    let suffix = (this.affinity as Affinity).setCookie;
    if (!this.keepClient) suffix += 'Connection: close\r\n';
    else if (head.minor === 0) suffix += 'Connection: keep-alive\r\n';
    return suffix;
  }

  /** ResponseReader: the response is complete; the backend connection is reusable or not. */
  responseDone(reusable: boolean, idleHintMs: number): void {
    const connection = this.upstream;
    this.upstream = undefined;
    connection?.socket.resume();
    connection?.release(reusable && this.body.done, idleHintMs);
    const state = (this.picked as PickedBackend).state;
    const status = this.response.status;
    this.endAttempt();
    this.runtime.recordOutcome(this.pool as Pool, state, status >= 500);
    state.responses[Math.floor(status / 100)]! += 1;
    this.log(status);
    // The backend answered before the whole body arrived: the rest cannot be told from a request.
    if (!this.body.done) this.keepClient = false;
    this.nextRequest();
  }

  private nextRequest(): void {
    this.served++;
    if (!this.keepClient || this.closing) {
      this.close();
      return;
    }
    this.phase = HEAD;
    this.idle = true;
    this.since = this.runtime.now();
    // Inside readHeads (an error answered at once) its loop goes on: no recursion per request.
    if (this.reading) return;
    if (this.pending !== null) this.readHeads();
    else this.resumeReading();
  }

  onUpstreamClose(): void {
    this.upstream = undefined;
    if (this.response.untilClose()) {
      this.responseDone(false, -1);
      return;
    }
    this.upstreamFailed(LbErrorCode.BACKEND_RESET);
  }

  onUpstreamTimeout(): void {
    this.abandonUpstream();
    this.upstreamFailed(LbErrorCode.BACKEND_TIMEOUT);
  }

  /** ResponseReader: the backend's response is malformed. */
  badResponse(): void {
    this.abandonUpstream();
    this.upstreamFailed(LbErrorCode.BAD_RESPONSE);
  }

  /** The exchange failed on the backend's side after the request was (at least partly) sent. */
  private upstreamFailed(code: LbErrorCode): void {
    if (this.phase !== FORWARDING) return;
    const state = (this.picked as PickedBackend).state;
    if (code === LbErrorCode.BACKEND_TIMEOUT) state.timeouts++;
    else state.resets++;
    this.endAttempt();
    this.runtime.recordOutcome(this.pool as Pool, state, true);
    const retryable = code === LbErrorCode.BACKEND_RESET && !this.response.started;
    if (retryable && safeToResend(this.head as RequestHead) && this.attempts <= this.runtime.config.retries) {
      this.redispatch(state);
      return;
    }
    if (this.response.started) {
      this.log(this.response.status, code);
      this.socket.destroy();
      this.phase = CLOSED;
      return;
    }
    this.replyError(statusOf(code), code, !this.body.done || !this.keepClient);
  }

  /** Detach from the backend connection and close it (its state is unknown). */
  private abandonUpstream(): void {
    const connection = this.upstream;
    this.upstream = undefined;
    if (connection) {
      connection.user = undefined;
      connection.socket.destroy();
    }
    if (this.waitingOn) {
      this.waitingOn.cancel(this.onConnection);
      this.waitingOn = undefined;
    }
  }

  private endAttempt(): void {
    const picked = this.picked;
    if (!picked || !this.attemptOpen) return;
    this.attemptOpen = false;
    picked.state.sessions.delete(this);
    picked.state.end();
  }

  /** Answer with an error the proxy made itself, then go on or close. */
  replyError(status: number, code: LbErrorCode, close: boolean): void {
    if (status < 500) this.stats.refuse(status);
    this.endAttempt();
    if (this.phase === CLOSED) return;
    if (this.response.started) {
      // The client is reading a response already: an error now can only cut it.
      this.abandonUpstream();
      this.log(status, code);
      this.destroy();
      return;
    }
    this.socket.write(errorResponse(status, code, close));
    this.log(status, code);
    if (close) this.keepClient = false;
    else this.keepClient = (this.head?.keepAlive ?? false) && this.body.done;
    this.nextRequest();
  }

  /** End the connection after what was written; destroy it if the client lingers. */
  close(): void {
    if (this.phase === CLOSED) return;
    this.phase = CLOSED;
    this.pending = null;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
  }

  /** Session: a drain's grace time is over. */
  abort(): void {
    if (this.phase !== CONNECTING && this.phase !== FORWARDING) return;
    const started = this.response.started;
    this.abandonUpstream();
    if (this.picked) this.picked.state.resets++;
    if (started) this.socket.destroy();
    else this.replyError(502, LbErrorCode.BACKEND_RESET, true);
  }

  private onClientClose(): void {
    // By what is held, not by phase: a timeout may have set CLOSED before this event.
    const inFlight = this.attemptOpen || this.upstream !== undefined || this.waitingOn !== undefined;
    if (this.phase !== TUNNEL) this.phase = CLOSED;
    if (!inFlight) return;
    // The client went away: cancel the upstream request so nothing leaks.
    this.abandonUpstream();
    this.endAttempt();
    this.log(499);
  }

  /** Timeouts, checked by the listener's sweep (no timer per request). */
  checkTimeouts(now: number): void {
    const t = this.runtime.config.timeouts;
    if (this.phase === HEAD) {
      if (this.idle && this.served > 0) {
        if (now - this.since >= t.clientKeepAliveMs) this.destroy();
      } else if (now - this.since >= t.clientHeadersMs) {
        this.stats.requests++;
        this.startClock();
        this.replyError(408, LbErrorCode.CLIENT_TIMEOUT, true);
      }
    } else if ((this.phase === CONNECTING || this.phase === FORWARDING) && !this.body.done) {
      if (now - this.started < t.clientRequestMs) return;
      if (this.response.started) this.destroy();
      else {
        this.abandonUpstream();
        this.replyError(408, LbErrorCode.CLIENT_TIMEOUT, true);
      }
    }
  }

  /** The listener is going away: idle connections close now, busy ones after their exchange. */
  closeWhenIdle(): void {
    this.closing = true;
    if (this.phase === HEAD && this.idle) this.destroy();
  }

  destroy(): void {
    this.phase = CLOSED;
    this.socket.destroy();
  }

  get isClosed(): boolean {
    return this.phase === CLOSED || this.phase === TUNNEL;
  }

  private log(status: number, error?: LbErrorCode): void {
    this.stats.responses[Math.floor(status / 100)]! += 1;
    if (this.runtime.config.accessLog) logRequest(this.runtime, this, status, error);
  }
}
