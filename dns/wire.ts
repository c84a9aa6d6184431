import { parseIp } from '../lib';

/**
 * A small DNS wire codec for the record types this room serves (RFC 1035, 2782, 3596, 6891).
 * Encoding happens at compile time; the hot path only parses the header and question and
 * copies pre-encoded bytes. Compression rule that makes answers rotatable and truncatable by
 * plain byte ranges: names in the ANSWER section may point only into the question, and nothing
 * points into the answer section, so answer records can be reordered or cut at record boundaries.
 */
export const RR_TYPE = {
  A: 1,
  NS: 2,
  SOA: 6,
  PTR: 12,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  ANY: 255,
} as const;
export type RecordTypeName = 'A' | 'AAAA' | 'SRV' | 'PTR' | 'TXT' | 'NS' | 'SOA';
export const CLASS_IN = 1;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export const HEADER_LENGTH = 12;
/** Header flag bits (second 16-bit word). */
export const FLAG = { QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080, CD: 0x0010 } as const;

export type RecordData =
  | { readonly type: 'A' | 'AAAA'; readonly address: string }
  | {
      readonly type: 'SRV';
      readonly priority: number;
      readonly weight: number;
      readonly port: number;
      readonly target: string;
    }
  | { readonly type: 'PTR' | 'NS'; readonly target: string }
  | { readonly type: 'TXT'; readonly text: string }
  | {
      readonly type: 'SOA';
      readonly mname: string;
      readonly rname: string;
      readonly serial: number;
      readonly refresh: number;
      readonly retry: number;
      readonly expire: number;
      readonly minimum: number;
    };

/** One resource record; names are lower-case and without the trailing dot (`''` is the root). */
export interface ResourceRecord {
  readonly name: string;
  readonly ttl: number;
  readonly data: RecordData;
}

/** Zone-file text of one record, e.g. `web.marathon.mesos. 60 IN A 198.18.0.5`. */
export function recordText(rr: ResourceRecord): string {
  return `${rr.name}. ${rr.ttl} IN ${rr.data.type} ${rdataText(rr.data)}`;
}

export function rdataText(data: RecordData): string {
  switch (data.type) {
    case 'A':
    case 'AAAA':
      return data.address;
    case 'SRV':
      return `${data.priority} ${data.weight} ${data.port} ${data.target}.`;
    case 'PTR':
    case 'NS':
      return `${data.target}.`;
    case 'TXT':
      return JSON.stringify(data.text);
    case 'SOA':
      return `${data.mname}. ${data.rname}. ${data.serial} ${data.refresh} ${data.retry} ${data.expire} ${data.minimum}`;
  }
}

/** A growable writer with a compression dictionary (lower-case suffix → offset). */
export class WireWriter {
  private buf = Buffer.allocUnsafe(512);
  length = 0;
  private readonly dictionary = new Map<string, number>();
  /** The question written by `question()`; its suffixes join the dictionary only when needed. */
  private questionName: string | undefined;
  private questionAt = 0;
  private questionPending = false;

  /** Start a new message, keeping the buffer (compile is synchronous, so one writer can be reused). */
  reset(): this {
    this.length = 0;
    // Map.clear() allocates a fresh table even when empty: most messages never use the dictionary.
    if (this.dictionary.size > 0) this.dictionary.clear();
    this.questionName = undefined;
    this.questionPending = false;
    return this;
  }

  /**
   * Write the question name, uncompressed and remembered. Names equal to it (every answer's owner)
   * become a pointer without touching the dictionary; its suffixes are added on first need. The
   * bytes are the same as `name(question, false, true)` followed by the same later calls.
   */
  question(name: string): void {
    this.questionName = name;
    this.questionAt = this.length;
    this.questionPending = this.length < 0x3fff;
    this.name(name, false, false);
  }

  private rememberQuestion(): void {
    this.questionPending = false;
    const name = this.questionName as string;
    // Each label's length byte stands where the dot before it was: a suffix at character c is at questionAt + c.
    for (let start = 0; start < name.length;) {
      const suffix = start === 0 ? name : name.slice(start);
      if (this.questionAt + start < 0x3fff && !this.dictionary.has(suffix))
        this.dictionary.set(suffix, this.questionAt + start);
      const dot = name.indexOf('.', start);
      start = dot < 0 ? name.length : dot + 1;
    }
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + extra));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(value: number): void {
    this.ensure(1);
    this.buf[this.length] = value & 0xff;
    this.length += 1;
  }

  u16(value: number): void {
    this.ensure(2);
    this.buf[this.length] = (value >>> 8) & 0xff;
    this.buf[this.length + 1] = value & 0xff;
    this.length += 2;
  }

  u32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(value >>> 0, this.length);
    this.length += 4;
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  setU16(offset: number, value: number): void {
    this.buf.writeUInt16BE(value, offset);
  }

  /** `compress`: may end in a pointer; `remember`: later names may point here. */
  name(name: string, compress: boolean, remember: boolean): void {
    if (this.questionPending || this.questionName !== undefined) {
      if (this.questionShortcut(name, compress, remember)) return;
    }
    for (let start = 0; start < name.length;) {
      const suffix = start === 0 ? name : name.slice(start);
      const known = compress ? this.dictionary.get(suffix) : undefined;
      if (known !== undefined) {
        this.u16(0xc000 | known);
        return;
      }
      if (remember && this.length < 0x3fff && !this.dictionary.has(suffix))
        this.dictionary.set(suffix, this.length);
      start = this.label(name, start);
    }
    this.u8(0);
  }

  /** Names the question decides: itself (a pointer), or one no suffix of the question can match. */
  private questionShortcut(name: string, compress: boolean, remember: boolean): boolean {
    if (compress && name === this.questionName && name.length > 0 && this.questionAt < 0x3fff) {
      this.u16(0xc000 | this.questionAt);
      return true;
    }
    if (this.questionPending && compress && !remember && !sameLastLabel(name, this.questionName as string)) {
      // Only the question is in the dictionary, and no suffix of `name` can match it: write it whole.
      this.name(name, false, false);
      return true;
    }
    if (this.questionPending && (compress || remember)) this.rememberQuestion();
    return false;
  }

  /** Write the label of `name` starting at `start`; returns where the next one starts. */
  private label(name: string, start: number): number {
    const dot = name.indexOf('.', start);
    const end = dot < 0 ? name.length : dot;
    this.ensure(end - start + 1);
    const buf = this.buf;
    let at = this.length;
    buf[at++] = end - start;
    for (let i = start; i < end; i++) buf[at++] = name.charCodeAt(i) & 0xff;
    this.length = at;
    return end + 1;
  }

  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }

  /** Copy the bytes written so far into `target` at `at` (a loop: no view object per call). */
  copyTo(target: Buffer, at: number): void {
    const buf = this.buf;
    for (let i = 0; i < this.length; i++) target[at + i] = buf[i] as number;
  }

  /** The bytes written so far, without copying: valid until the next write or reset. */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function sameLastLabel(a: string, b: string): boolean {
  const ta = a.lastIndexOf('.');
  const tb = b.lastIndexOf('.');
  return a.length - ta === b.length - tb && a.endsWith(b.slice(tb + 1));
}

/** Append one record. Returns nothing; the caller reads `writer.length` for record boundaries. */
export function writeRecord(writer: WireWriter, rr: ResourceRecord, inAnswerSection: boolean): void {
  const remember = !inAnswerSection;
  writer.name(rr.name, true, remember);
  writer.u16(RR_TYPE[rr.data.type]);
  writer.u16(CLASS_IN);
  writer.u32(rr.ttl);
  const lengthAt = writer.length;
  writer.u16(0);
  writeRdata(writer, rr.data, remember);
  writer.setU16(lengthAt, writer.length - lengthAt - 2);
}

function writeRdata(writer: WireWriter, data: RecordData, remember: boolean): void {
  switch (data.type) {
    case 'A': {
      const v4 = ipv4Value(data.address);
      if (v4 >= 0) writer.u32(v4);
      else writer.bytes(addressBytes(data.address));
      return;
    }
    case 'AAAA':
      writer.bytes(addressBytes(data.address));
      return;
    case 'SRV':
      writer.u16(data.priority);
      writer.u16(data.weight);
      writer.u16(data.port);
      // RFC 2782: the SRV target is never compressed.
      writer.name(data.target, false, remember);
      return;
    case 'PTR':
    case 'NS':
      writer.name(data.target, true, remember);
      return;
    case 'TXT': {
      const text = Buffer.from(data.text, 'utf8');
      for (let i = 0; i < text.length || i === 0; i += 255) {
        const chunk = text.subarray(i, i + 255);
        writer.u8(chunk.length);
        writer.bytes(chunk);
      }
      return;
    }
    case 'SOA':
      writer.name(data.mname, true, remember);
      writer.name(data.rname, true, remember);
      for (const n of [data.serial, data.refresh, data.retry, data.expire, data.minimum]) writer.u32(n);
      return;
  }
}

/**
 * A strict dotted-decimal IPv4 address (four parts 0–255, no leading zeros, nothing else; the
 * forms lib's `parseIp` accepts) as an unsigned 32-bit integer, or -1. The fast path of compile.
 */
export function ipv4Value(text: string): number {
  let value = 0;
  let part = -1;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || parts === 4) return -1;
      value = value * 256 + part;
      parts++;
      part = -1;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (part === 0 || digits === 3) return -1;
      part = (part < 0 ? 0 : part * 10) + (c - 48);
      digits++;
      if (part > 255) return -1;
    } else return -1;
  }
  return parts === 4 ? value : -1;
}

/** True for an address lib's `parseIp` accepts (IPv4 dotted decimal or IPv6). */
export function isIpAddress(text: string): boolean {
  if (ipv4Value(text) >= 0) return true;
  if (!text.includes(':')) return false;
  try {
    parseIp(text);
    return true;
  } catch {
    return false;
  }
}

export function addressBytes(address: string): Buffer {
  const v4 = ipv4Value(address);
  if (v4 >= 0) {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(v4);
    return out;
  }
  const { family, value } = parseIp(address);
  const size = family === 4 ? 4 : 16;
  const out = Buffer.alloc(size);
  let v = value;
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** An encoded name, uncompressed (for position-independent tails and the question). */
export function encodeName(name: string): Buffer {
  const writer = new WireWriter();
  writer.name(name, false, false);
  return writer.finish();
}
