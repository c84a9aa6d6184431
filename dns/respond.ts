import type { CompiledAnswer } from './answers';
import { parseQuery, type ParsedQuery } from './query';
import { CLASS_IN, FLAG, HEADER_LENGTH, RCODE } from './wire';
import type { CompiledZone } from './zone';

/**
 * Turn one query into bytes: parse, one lookup, copy the pre-encoded answer, patch the ID and
 * flags, write the client's question over ours, rotate and truncate at record boundaries, append
 * OPT. Pure apart from the random rotation, which is injected.
 */
export interface RespondOptions {
  /** The largest UDP payload we send and advertise in OPT (default 1232, the DNS Flag Day value). */
  readonly maxUdpSize: number;
  /** Forward out-of-zone names (else REFUSED). Also sets RA on errors. */
  readonly forwarding: boolean;
  /** A random integer in [0, n); rotation of multi-record answers. */
  readonly random: (n: number) => number;
}

export type Resolution =
  | { readonly kind: 'reply'; readonly wire: Buffer; readonly rcode: number; readonly qtype: number }
  | { readonly kind: 'forward'; readonly query: ParsedQuery; readonly budget: number }
  | { readonly kind: 'drop'; readonly reason: string };

export type Transport = 'udp' | 'tcp';

const OPT_LENGTH = 11;

function writeOpt(out: Buffer, offset: number, udpSize: number, extendedRcode = 0): void {
  out[offset] = 0;
  out.writeUInt16BE(41, offset + 1);
  out.writeUInt16BE(udpSize, offset + 3);
  out[offset + 5] = extendedRcode;
  out.writeUInt8(0, offset + 6);
  out.writeUInt16BE(0, offset + 7);
  out.writeUInt16BE(0, offset + 9);
}

export function budgetFor(query: ParsedQuery, transport: Transport, maxUdpSize: number): number {
  if (transport === 'tcp') return 65535;
  if (query.edns === undefined) return 512;
  return Math.max(512, Math.min(query.edns.udpSize, maxUdpSize));
}

/** Header + the client's question (+ optional tail) + OPT if the client sent one. */
export function replyWithQuestion(
  request: Buffer,
  query: ParsedQuery,
  flags: number,
  counts: [number, number],
  tail: Buffer | undefined,
  maxUdpSize: number,
  extendedRcode = 0,
): Buffer {
  const optLength = query.edns === undefined ? 0 : OPT_LENGTH;
  const tailLength = tail?.length ?? 0;
  const out = Buffer.allocUnsafe(query.questionEnd + tailLength + optLength);
  out.writeUInt16BE(query.id, 0);
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(counts[0], 6);
  out.writeUInt16BE(counts[1], 8);
  out.writeUInt16BE(optLength === 0 ? 0 : 1, 10);
  request.copy(out, HEADER_LENGTH, HEADER_LENGTH, query.questionEnd);
  if (tail !== undefined) tail.copy(out, query.questionEnd);
  if (optLength > 0) writeOpt(out, query.questionEnd + tailLength, maxUdpSize, extendedRcode);
  return out;
}

/** A header-only error reply (the question could not be parsed). */
export function headerOnlyReply(id: number, requestFlags: number, rcode: number): Buffer {
  const out = Buffer.alloc(HEADER_LENGTH);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(FLAG.QR | (requestFlags & (FLAG.RD | 0x7800)) | rcode, 2);
  return out;
}

interface Cut {
  /** Answer records kept (in rotated order). */
  readonly kept: number;
  /** Authority and additional sections kept. */
  readonly keepRest: boolean;
  readonly length: number;
}

/**
 * What fits in `budget`: everything; else the answers without authority/additional (no TC,
 * RFC 2181 §9); else the longest prefix of the rotated answers, with TC set by the caller.
 */
function planCut(compiled: CompiledAnswer, budget: number, optLength: number, rotation: number): Cut {
  const questionEnd = compiled.questionEnd;
  const count = compiled.count;
  const whole = compiled.length;
  if (whole + optLength <= budget) return { kept: count, keepRest: true, length: whole };
  const answersEnd = count === 0 ? questionEnd : compiled.answerEnd(count - 1);
  if (answersEnd + optLength <= budget) return { kept: count, keepRest: false, length: answersEnd };
  let length = questionEnd;
  let kept = 0;
  for (let j = 0; j < count; j++) {
    const i = (rotation + j) % count;
    const size = compiled.answerEnd(i) - (i === 0 ? questionEnd : compiled.answerEnd(i - 1));
    if (length + size + optLength > budget) break;
    length += size;
    kept++;
  }
  return { kept, keepRest: false, length };
}

/** Copy a compiled answer for this query: rotate, truncate to `budget`, append OPT. */
export function materialize(
  compiled: CompiledAnswer,
  request: Buffer,
  query: ParsedQuery,
  budget: number,
  options: RespondOptions,
): Buffer {
  const questionEnd = compiled.questionEnd;
  const count = compiled.count;
  const optLength = query.edns === undefined ? 0 : OPT_LENGTH;
  const rotation = count > 1 ? options.random(count) : 0;
  const { kept, keepRest, length } = planCut(compiled, budget, optLength, rotation);
  const out = Buffer.allocUnsafe(length + optLength);
  compiled.copyTo(out, 0, 0, questionEnd);
  let at = questionEnd;
  if (rotation === 0 && kept === count) {
    // The common case: every answer, in compiled order, is one contiguous range.
    if (count > 0) at += compiled.copyTo(out, at, questionEnd, compiled.answerEnd(count - 1));
  } else {
    for (let j = 0; j < kept; j++) {
      const i = (rotation + j) % count;
      at += compiled.copyTo(
        out,
        at,
        i === 0 ? questionEnd : compiled.answerEnd(i - 1),
        compiled.answerEnd(i),
      );
    }
  }
  if (keepRest) at += compiled.copyTo(out, at, count === 0 ? questionEnd : compiled.answerEnd(count - 1));
  out.writeUInt16BE(query.id, 0);
  // Compiled flags (QR, AA, RA, rcode) with the client's RD, and TC when answers were cut.
  const flags =
    (compiled.u16(2) & ~(FLAG.RD | FLAG.TC)) | (query.flags & FLAG.RD) | (kept < count ? FLAG.TC : 0);
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(kept, 6);
  if (!keepRest) out.writeUInt32BE(0, 8);
  if (optLength > 0) {
    writeOpt(out, at, options.maxUdpSize);
    out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  }
  // The client's question, as sent (case preserved); same length as ours by construction.
  if (query.questionEnd === questionEnd) request.copy(out, HEADER_LENGTH, HEADER_LENGTH, questionEnd);
  return out;
}

export function resolveQuery(
  zone: CompiledZone | undefined,
  request: Buffer,
  transport: Transport,
  options: RespondOptions,
): Resolution {
  const parsed = parseQuery(request);
  if (parsed.kind === 'drop') return parsed;
  const ra = options.forwarding ? FLAG.RA : 0;
  if (parsed.kind === 'error')
    return {
      kind: 'reply',
      wire: headerOnlyReply(parsed.id, parsed.flags, parsed.rcode | ra),
      rcode: parsed.rcode,
      qtype: 0,
    };
  const query = parsed.query;
  const plain = (rcode: number, extendedRcode = 0): Resolution => ({
    kind: 'reply',
    wire: replyWithQuestion(
      request,
      query,
      FLAG.QR | ra | (query.flags & FLAG.RD) | rcode,
      [0, 0],
      undefined,
      options.maxUdpSize,
      extendedRcode,
    ),
    rcode: extendedRcode > 0 ? 16 : rcode,
    qtype: query.type,
  });
  // RFC 6891 §6.1.3: only EDNS version 0 exists; anything else is BADVERS (extended rcode 16).
  if (query.edns !== undefined && query.edns.version > 0) return plain(RCODE.NOERROR, 1);
  const budget = budgetFor(query, transport, options.maxUdpSize);
  if (zone === undefined) return plain(RCODE.SERVFAIL);
  if (query.qclass !== CLASS_IN)
    return zone.isAuthoritative(query.name)
      ? plain(RCODE.REFUSED)
      : forwardOrRefuse(query, budget, options, plain);
  const found = zone.lookup(query.name, query.type);
  if (found.kind === 'answer')
    return {
      kind: 'reply',
      wire: materialize(found.answer, request, query, budget, options),
      rcode: RCODE.NOERROR,
      qtype: query.type,
    };
  if (found.kind === 'outside') return forwardOrRefuse(query, budget, options, plain);
  const rcode = found.kind === 'nxdomain' ? RCODE.NXDOMAIN : RCODE.NOERROR;
  const flags =
    FLAG.QR |
    FLAG.AA |
    (zone.state.options.recursionAvailable ? FLAG.RA : 0) |
    (query.flags & FLAG.RD) |
    rcode;
  return {
    kind: 'reply',
    wire: replyWithQuestion(request, query, flags, [0, 1], found.soaTail, options.maxUdpSize),
    rcode,
    qtype: query.type,
  };
}

function forwardOrRefuse(
  query: ParsedQuery,
  budget: number,
  options: RespondOptions,
  plain: (rcode: number) => Resolution,
): Resolution {
  return options.forwarding ? { kind: 'forward', query, budget } : plain(RCODE.REFUSED);
}
