import { FLAG, HEADER_LENGTH, RCODE, RR_TYPE } from './wire';

/**
 * The hot-path query parser: header, the one question, and the OPT record if any. Every read
 * is bounds-checked; nothing here throws on hostile input (a short header is dropped, anything
 * else malformed is FORMERR), and no compression pointer is followed, so loops are impossible.
 */
export interface EdnsInfo {
  readonly udpSize: number;
  readonly version: number;
  readonly dnssecOk: boolean;
}

export interface ParsedQuery {
  readonly id: number;
  readonly flags: number;
  /** Lower-case, without the trailing dot; `''` for the root. */
  readonly name: string;
  /** Offset just after the question (name + type + class). */
  readonly questionEnd: number;
  readonly type: number;
  readonly qclass: number;
  readonly edns: EdnsInfo | undefined;
}

export type QueryParseResult =
  | { readonly kind: 'query'; readonly query: ParsedQuery }
  | {
      readonly kind: 'error';
      readonly id: number;
      readonly flags: number;
      readonly rcode: number;
      readonly reason: string;
    }
  | { readonly kind: 'drop'; readonly reason: string };

const MAX_NAME_LENGTH = 255;

function readQuestionName(buf: Buffer, start: number): { name: string; end: number } | string {
  const labels: string[] = [];
  let offset = start;
  let wireLength = 1;
  for (;;) {
    if (offset >= buf.length) return 'question name runs past the end';
    const len = buf[offset] as number;
    if (len === 0) return { name: labels.join('.').toLowerCase(), end: offset + 1 };
    if (len > 63) return 'compressed or extended label in the question';
    wireLength += len + 1;
    if (wireLength > MAX_NAME_LENGTH) return 'question name longer than 255 bytes';
    if (offset + 1 + len > buf.length) return 'question label runs past the end';
    labels.push(buf.toString('latin1', offset + 1, offset + 1 + len));
    offset += 1 + len;
  }
}

/** Offset after a (possibly compressed) name, or -1 when malformed. */
export function skipName(buf: Buffer, start: number): number {
  let offset = start;
  for (;;) {
    if (offset >= buf.length) return -1;
    const len = buf[offset] as number;
    if (len === 0) return offset + 1;
    if ((len & 0xc0) === 0xc0) return offset + 2 <= buf.length ? offset + 2 : -1;
    if (len > 63) return -1;
    offset += 1 + len;
  }
}

/** Walk the records after the question looking for the OPT record (RFC 6891 §6.1.1). */
function findEdns(buf: Buffer, start: number, recordCount: number): EdnsInfo | undefined | string {
  let offset = start;
  let edns: EdnsInfo | undefined;
  for (let i = 0; i < recordCount; i++) {
    const nameEnd = skipName(buf, offset);
    if (nameEnd < 0 || nameEnd + 10 > buf.length) return 'truncated record';
    const type = buf.readUInt16BE(nameEnd);
    const rdataLength = buf.readUInt16BE(nameEnd + 8);
    const end = nameEnd + 10 + rdataLength;
    if (end > buf.length) return 'record data runs past the end';
    if (type === RR_TYPE.OPT) {
      if (edns !== undefined) return 'more than one OPT record';
      if (nameEnd !== offset + 1) return 'OPT owner is not the root';
      edns = {
        udpSize: buf.readUInt16BE(nameEnd + 2),
        version: buf[nameEnd + 5] as number,
        dnssecOk: ((buf[nameEnd + 6] as number) & 0x80) !== 0,
      };
    }
    offset = end;
  }
  return edns;
}

export function parseQuery(buf: Buffer): QueryParseResult {
  if (buf.length < HEADER_LENGTH) return { kind: 'drop', reason: 'shorter than a DNS header' };
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  // Never answer a response: that is how reflection loops start.
  if ((flags & FLAG.QR) !== 0) return { kind: 'drop', reason: 'QR bit set' };
  const fail = (rcode: number, reason: string): QueryParseResult => ({
    kind: 'error',
    id,
    flags,
    rcode,
    reason,
  });
  if (((flags >>> 11) & 0xf) !== 0) return fail(RCODE.NOTIMP, 'opcode is not QUERY');
  if (buf.readUInt16BE(4) !== 1) return fail(RCODE.FORMERR, 'question count is not 1');
  const question = readQuestionName(buf, HEADER_LENGTH);
  if (typeof question === 'string') return fail(RCODE.FORMERR, question);
  if (question.end + 4 > buf.length) return fail(RCODE.FORMERR, 'question type/class missing');
  const type = buf.readUInt16BE(question.end);
  const qclass = buf.readUInt16BE(question.end + 2);
  const questionEnd = question.end + 4;
  const otherRecords = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  const edns = findEdns(buf, questionEnd, otherRecords);
  if (typeof edns === 'string') return fail(RCODE.FORMERR, edns);
  return { kind: 'query', query: { id, flags, name: question.name, questionEnd, type, qclass, edns } };
}
