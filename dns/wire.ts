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

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + extra));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(value: number): void {
    this.ensure(1);
    this.buf.writeUInt8(value, this.length);
    this.length += 1;
  }

  u16(value: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(value, this.length);
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
    const labels = name.length === 0 ? [] : name.split('.');
    for (let i = 0; i < labels.length; i++) {
      const suffix = i === 0 ? name : labels.slice(i).join('.');
      const known = compress ? this.dictionary.get(suffix) : undefined;
      if (known !== undefined) {
        this.u16(0xc000 | known);
        return;
      }
      if (remember && this.length < 0x3fff && !this.dictionary.has(suffix))
        this.dictionary.set(suffix, this.length);
      const label = Buffer.from(labels[i] as string, 'latin1');
      this.u8(label.length);
      this.bytes(label);
    }
    this.u8(0);
  }

  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }
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
    case 'A':
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

export function addressBytes(address: string): Buffer {
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
