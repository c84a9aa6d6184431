import type net from 'node:net';
import { ChunkedBody, HeadError, headEnd, parseResponseHead, type DataSink, type RequestHead } from './http1';

/**
 * The backend's side of one exchange: read the response head (interim 1xx responses skipped),
 * rewrite it for the client, then stream the body with its framing tracked — a length, chunked
 * (passed through verbatim, or decoded for an HTTP/1.0 client), none (HEAD, 204, 304) or until the
 * backend closes — and say when it is complete and whether the backend connection can be reused.
 */

/** What the reader needs from the client connection that owns it. */
export interface ResponseOwner {
  readonly socket: net.Socket;
  writeClient(data: string | Buffer): void;
  /** Lines to add to the client's head (cookie, Connection); `closeAfter`: the client connection must close. */
  clientHeadSuffix(closeAfter: boolean): string;
  responseDone(reusable: boolean, idleHintMs: number): void;
  badResponse(): void;
}

const NONE = 0;
const LENGTH = 1;
const CHUNKED = 2;
const UNTIL_CLOSE = 3;

const BAD = 0;
const INTERIM = 1;
const FINAL = 2;

/** A first body part up to this size is copied to sit right after the head: one plain write. */
const MERGE_BYTES = 16 * 1024;
/** A backend's response head larger than this is refused (502). */
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

export class ResponseReader {
  /** The client's head has been written: an error can no longer be answered with a status. */
  started = false;
  status = 0;
  private request: RequestHead | undefined;
  private pending: Buffer | null = null;
  private searched = 0;
  private headParsed = false;
  private mode = NONE;
  private remaining = 0;
  private chunks: ChunkedBody | undefined;
  private dechunk = false;
  private keepAlive = false;
  private idleHintMs = -1;
  /** The backend sent bytes past the end of the response: its connection cannot be reused. */
  private overrun = false;
  private readonly sink: DataSink;
  /** The client's head, between parsing it and writing it with the first body bytes. */
  private headOut = '';

  constructor(private readonly owner: ResponseOwner) {
    this.sink = (buffer, start, end) => owner.writeClient(buffer.subarray(start, end));
  }

  reset(request: RequestHead): void {
    this.request = request;
    this.started = false;
    this.status = 0;
    this.pending = null;
    this.searched = 0;
    this.headParsed = false;
    this.chunks = undefined;
    this.dechunk = false;
    this.overrun = false;
  }

  /** The response is delimited by the backend closing, and its head has arrived. */
  untilClose(): boolean {
    return this.headParsed && this.mode === UNTIL_CLOSE;
  }

  read(chunk: Buffer): void {
    if (this.headParsed) {
      this.body(chunk);
      return;
    }
    const pending = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    const end = headEnd(pending, this.searched);
    if (end < 0) {
      this.pending = pending;
      this.searched = pending.length;
      if (pending.length > MAX_RESPONSE_HEAD_BYTES) this.owner.badResponse();
      return;
    }
    this.pending = null;
    this.searched = 0;
    const rest = pending.subarray(end);
    const kind = this.head(pending.toString('latin1', 0, end - 4));
    if (kind === INTERIM) {
      // An interim response (100, 103): dropped; the final one follows.
      if (rest.length > 0) this.read(rest);
    } else if (kind === FINAL) this.first(rest);
  }

  /** The head and the first body bytes leave in one write (one syscall). */
  private first(rest: Buffer): void {
    const head = this.headOut;
    this.headOut = '';
    if (this.mode === LENGTH && rest.length <= this.remaining && rest.length <= MERGE_BYTES) {
      // The common case, a small body that came with its head: one buffer, the cheapest write.
      const out = Buffer.allocUnsafe(head.length + rest.length);
      out.write(head, 0, 'latin1');
      rest.copy(out, head.length);
      this.remaining -= rest.length;
      this.owner.writeClient(out);
      if (this.remaining === 0) this.finish();
      return;
    }
    const socket = this.owner.socket;
    socket.cork();
    try {
      this.owner.writeClient(head);
      const empty = this.mode === NONE || (this.mode === LENGTH && this.remaining === 0);
      if (rest.length > 0 || empty) this.body(rest);
    } finally {
      socket.uncork();
    }
  }

  /** Parse and forward a head: FINAL, INTERIM (a 1xx, dropped) or BAD (reported). */
  private head(text: string): number {
    let parsed;
    try {
      parsed = parseResponseHead(text);
    } catch (err) {
      if (!(err instanceof HeadError)) throw err;
      this.owner.badResponse();
      return BAD;
    }
    if (parsed.status < 200) {
      if (parsed.status !== 101) return INTERIM;
      this.owner.badResponse();
      return BAD;
    }
    const request = this.request as RequestHead;
    this.headParsed = true;
    this.status = parsed.status;
    this.keepAlive = parsed.keepAlive;
    this.idleHintMs = parsed.keepAliveTimeoutMs;
    this.remaining = parsed.contentLength;
    if (request.method === 'HEAD' || parsed.status === 204 || parsed.status === 304) this.mode = NONE;
    else if (parsed.chunked) this.mode = CHUNKED;
    else if (parsed.contentLength >= 0) this.mode = LENGTH;
    else this.mode = UNTIL_CLOSE;
    let framing = '';
    if (this.mode === CHUNKED) {
      this.chunks = new ChunkedBody(502);
      this.dechunk = request.minor === 0;
      if (!this.dechunk) framing = 'Transfer-Encoding: chunked\r\n';
    } else if (parsed.contentLength >= 0) framing = `Content-Length: ${parsed.contentLength}\r\n`;
    const suffix = this.owner.clientHeadSuffix(this.mode === UNTIL_CLOSE || this.dechunk);
    this.started = true;
    this.headOut = `HTTP/1.1${parsed.statusRest}\r\n${parsed.headers}${framing}${suffix}\r\n`;
    return FINAL;
  }

  private body(buffer: Buffer): void {
    const length = buffer.length;
    switch (this.mode) {
      case LENGTH: {
        const n = Math.min(this.remaining, length);
        if (n > 0) this.owner.writeClient(n === length ? buffer : buffer.subarray(0, n));
        this.remaining -= n;
        if (n < length) this.overrun = true;
        if (this.remaining === 0) this.finish();
        return;
      }
      case CHUNKED:
        this.chunked(buffer);
        return;
      case UNTIL_CLOSE:
        if (length > 0) this.owner.writeClient(buffer);
        return;
      default:
        if (length > 0) this.overrun = true;
        this.finish();
    }
  }

  private chunked(buffer: Buffer): void {
    const chunks = this.chunks as ChunkedBody;
    let end: number;
    try {
      end = chunks.feed(buffer, 0, buffer.length, this.dechunk ? this.sink : undefined);
    } catch (err) {
      if (!(err instanceof HeadError)) throw err;
      this.owner.badResponse();
      return;
    }
    if (!this.dechunk)
      this.owner.writeClient(end < 0 || end === buffer.length ? buffer : buffer.subarray(0, end));
    if (end < 0) return;
    if (end < buffer.length) this.overrun = true;
    this.finish();
  }

  private finish(): void {
    this.headParsed = false;
    this.owner.responseDone(this.keepAlive && !this.overrun, this.idleHintMs);
  }
}
