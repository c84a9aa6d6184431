import { ChunkedBody, type RequestHead } from './http1';

/** `take` answers this when the body went over the limit. */
export const BODY_TOO_LARGE = -1;

/**
 * Where a request body ends in the bytes a client sends: a Content-Length counted down, or chunked
 * framing tracked (and forwarded verbatim), with the size limit applied as bytes arrive.
 */
export class RequestBody {
  /** The whole body has been taken (or there is none). */
  done = true;
  private remaining = 0;
  private chunks: ChunkedBody | undefined;

  start(head: RequestHead): void {
    this.chunks = head.chunked ? new ChunkedBody(400) : undefined;
    this.remaining = head.contentLength > 0 ? head.contentLength : 0;
    this.done = !head.chunked && this.remaining === 0;
  }

  /**
   * How many leading bytes of `pending` belong to the body, or BODY_TOO_LARGE. Throws HeadError
   * (400) on bad chunked framing.
   */
  take(pending: Buffer, maxBytes: number): number {
    const chunks = this.chunks;
    if (!chunks) {
      const n = Math.min(this.remaining, pending.length);
      this.remaining -= n;
      this.done = this.remaining === 0;
      return n;
    }
    const end = chunks.feed(pending, 0, pending.length);
    if (maxBytes > 0 && chunks.dataBytes > maxBytes) return BODY_TOO_LARGE;
    this.done = end >= 0;
    return end < 0 ? pending.length : end;
  }
}
