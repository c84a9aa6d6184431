import { HeadError } from './head';

/**
 * The chunked transfer coding (RFC 9112 §7.1) as a byte-at-a-time state machine over the bytes as
 * they arrive, so the proxy can forward chunked bodies verbatim and still know exactly where each
 * message ends (the next request on a keep-alive connection starts right after). Chunk data is
 * skipped in one step; only size lines, extensions and trailers are walked byte by byte. With an
 * `onData` callback it also decodes (for HTTP/1.0 clients, which cannot read chunked).
 */

const SIZE = 0;
const SIZE_OR_EXT = 1;
const EXT = 2;
const SIZE_LF = 3;
const DATA = 4;
const DATA_CR = 5;
const DATA_LF = 6;
const LINE_START = 7;
const TRAILER = 8;
const TRAILER_LF = 9;
const END_LF = 10;
const DONE = 11;

const CR = 13;
const LF = 10;
/** 12 hex digits: chunks up to 256 TiB, and no float precision loss. */
const MAX_SIZE_DIGITS = 12;
/** Size lines with extensions, and each trailer line, are bounded. */
const MAX_LINE = 4096;
/** The whole trailer section is bounded too (a head's worth). */
const MAX_TRAILER_BYTES = 16 * 1024;

export type DataSink = (buffer: Buffer, start: number, end: number) => void;

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

export class ChunkedBody {
  private state = SIZE;
  private size = 0;
  private digits = 0;
  private lineBytes = 0;
  private trailerBytes = 0;
  /** Data bytes seen so far (not counting framing). */
  dataBytes = 0;

  constructor(private readonly status: 400 | 502) {}

  get done(): boolean {
    return this.state === DONE;
  }

  private fail(message: string): never {
    throw new HeadError(this.status, `Malformed chunked body: ${message}`);
  }

  /**
   * Consume `buffer[start, end)`. Returns the index just past the end of the message, or -1 when
   * it needs more bytes. Throws HeadError on bad framing.
   */
  feed(buffer: Buffer, start: number, end: number, onData?: DataSink): number {
    let i = start;
    while (i < end) {
      const state = this.state;
      if (state === DATA) {
        const n = Math.min(this.size, end - i);
        onData?.(buffer, i, i + n);
        this.size -= n;
        this.dataBytes += n;
        i += n;
        if (this.size === 0) this.state = DATA_CR;
        continue;
      }
      if (state === DONE) return i;
      const byte = buffer[i++] as number;
      if (state < LINE_START) this.chunkByte(byte);
      else this.trailerByte(byte);
      if (this.state === DONE) return i;
    }
    return this.state === DONE ? i : -1;
  }

  /** A byte of a size line, or the CRLF after chunk data. */
  private chunkByte(byte: number): void {
    switch (this.state) {
      case SIZE:
      case SIZE_OR_EXT:
        this.sizeByte(byte);
        break;
      case EXT:
        if (byte === CR) this.state = SIZE_LF;
        else this.lineByte(byte, 'chunk extension');
        break;
      case SIZE_LF:
        if (byte !== LF) this.fail('expected LF after the chunk size');
        this.state = this.size === 0 ? LINE_START : DATA;
        break;
      case DATA_CR:
        if (byte !== CR) this.fail('chunk data longer than its size');
        this.state = DATA_LF;
        break;
      case DATA_LF:
        if (byte !== LF) this.fail('expected LF after chunk data');
        this.reset();
        break;
      default:
    }
  }

  /** A byte of the trailer section (after the last chunk), up to the final CRLF. */
  private trailerByte(byte: number): void {
    if (++this.trailerBytes > MAX_TRAILER_BYTES) this.fail('trailer section too long');
    switch (this.state) {
      case LINE_START:
        this.lineBytes = 0;
        if (byte === CR) this.state = END_LF;
        else {
          this.state = TRAILER;
          this.lineByte(byte, 'trailer line');
        }
        break;
      case TRAILER:
        if (byte === CR) this.state = TRAILER_LF;
        else this.lineByte(byte, 'trailer line');
        break;
      case TRAILER_LF:
        if (byte !== LF) this.fail('expected LF after a trailer line');
        this.state = LINE_START;
        break;
      case END_LF:
        if (byte !== LF) this.fail('expected LF at the end');
        this.state = DONE;
        break;
      default:
    }
  }

  /**
   * A byte of a chunk extension or trailer line other than its CR: the line is bounded, and a bare
   * LF (or another control character) is refused, since a backend that ends lines at a bare LF
   * would frame the body differently from us: request smuggling (RFC 9112 §2.2, §7.1.1, §7.1.2).
   */
  private lineByte(byte: number, what: string): void {
    if (++this.lineBytes > MAX_LINE) this.fail(`${what} too long`);
    if ((byte < 32 && byte !== 9) || byte === 127) this.fail(`control character in a ${what}`);
  }

  private sizeByte(byte: number): void {
    const digit = hexValue(byte);
    if (digit >= 0 && this.state === SIZE) {
      if (++this.digits > MAX_SIZE_DIGITS) this.fail('chunk size too large');
      this.size = this.size * 16 + digit;
      return;
    }
    if (this.digits === 0) this.fail('missing chunk size');
    if (byte === CR) this.state = SIZE_LF;
    else if (byte === 59 /* ; */) this.state = EXT;
    else if (byte === 32 || byte === 9) {
      // Whitespace before an extension: counted with the line, so it cannot run on forever.
      if (++this.lineBytes > MAX_LINE) this.fail('chunk size line too long');
      this.state = SIZE_OR_EXT;
    } else this.fail('invalid chunk size');
  }

  private reset(): void {
    this.state = SIZE;
    this.size = 0;
    this.digits = 0;
    this.lineBytes = 0;
  }
}
