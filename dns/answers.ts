import {
  CLASS_IN,
  FLAG,
  RCODE,
  RR_TYPE,
  WireWriter,
  recordText,
  writeRecord,
  type ResourceRecord,
} from './wire';

/**
 * Pre-encoded responses. Each (name, type) gets a whole DNS message with ID 0 and the question
 * in lower case; the server copies it, patches the ID and RD bit, and writes the client's question
 * bytes over ours (same length: names match case-insensitively). `answerEnd(i)` marks record
 * boundaries so the server can rotate or truncate the answer section without re-encoding.
 *
 * Answers live in shared blocks (an `AnswerSlab`), not one Buffer each: a zone holds several
 * hundred thousand of them, and a Buffer object plus an array of ends per answer cost more than
 * the bytes. At `at` in its block an answer is: u32 wire length, u32 question end, u32 answer
 * count, u32 × count answer ends (relative to the wire), then the wire bytes.
 */
export interface AnswerBlock {
  /** Set when the slab seals the block; never changed after the compile returns. */
  bytes: Buffer;
}

const HEAD = 12;

export class CompiledAnswer {
  constructor(
    /** The query type it answers. */
    readonly type: number,
    protected readonly block: AnswerBlock,
    protected readonly at: number,
  ) {}

  /** Length of the whole message (with authority and additional sections). */
  get length(): number {
    return this.block.bytes.readUInt32LE(this.at);
  }

  get questionEnd(): number {
    return this.block.bytes.readUInt32LE(this.at + 4);
  }

  /** Number of records in the answer section. */
  get count(): number {
    return this.block.bytes.readUInt32LE(this.at + 8);
  }

  /** Offset (in the message) just after answer record `i`. */
  answerEnd(i: number): number {
    return this.block.bytes.readUInt32LE(this.at + HEAD + 4 * i);
  }

  /** Copy message bytes [from, to) into `out` at `offset`; returns the number copied. */
  copyTo(out: Buffer, offset: number, from: number, to: number = this.length): number {
    const wireAt = this.at + HEAD + 4 * this.count;
    return this.block.bytes.copy(out, offset, wireAt + from, wireAt + to);
  }

  /** The 16-bit word at `offset` of the message (the flags are at 2). */
  u16(offset: number): number {
    return this.block.bytes.readUInt16BE(this.at + HEAD + 4 * this.count + offset);
  }

  /** The whole message (a view; for tests and tools, not the hot path). */
  get wire(): Buffer {
    const wireAt = this.at + HEAD + 4 * this.count;
    return this.block.bytes.subarray(wireAt, wireAt + this.length);
  }

  get answerEnds(): number[] {
    return Array.from({ length: this.count }, (_, i) => this.answerEnd(i));
  }
}

let work: Buffer | undefined;

/**
 * Appends encoded answers into blocks. One slab per compile: the full compile fills blocks of
 * `blockBytes`; an incremental one usually fills one small block. `seal()` copies each block to
 * a Buffer of its exact size (the working buffer is reused across compiles, which are synchronous).
 */
export class AnswerSlab {
  private block: AnswerBlock = { bytes: Buffer.alloc(0) };
  private used = 0;

  constructor(private readonly blockBytes = 1 << 20) {}

  /** Append the message in `writer` with its answer ends (the first `count` of `ends`). */
  append(
    type: number,
    writer: WireWriter,
    questionEnd: number,
    ends: readonly number[],
    count: number,
  ): CompiledAnswer {
    const size = HEAD + 4 * count + writer.length;
    if (this.used > 0 && this.used + size > this.blockBytes) this.seal();
    if (work === undefined || work.length < this.used + size) {
      const next = Buffer.allocUnsafe(Math.max(this.blockBytes, 2 * (this.used + size)));
      work?.copy(next, 0, 0, this.used);
      work = next;
    }
    const at = this.used;
    work.writeUInt32LE(writer.length, at);
    work.writeUInt32LE(questionEnd, at + 4);
    work.writeUInt32LE(count, at + 8);
    for (let i = 0; i < count; i++) work.writeUInt32LE(ends[i] as number, at + HEAD + 4 * i);
    writer.copyTo(work, at + HEAD + 4 * count);
    this.used += size;
    return new CompiledAnswer(type, this.block, at);
  }

  /** Fix the current block's bytes and start a new block. Call once more when done. */
  seal(): void {
    if (this.used === 0) return;
    this.block.bytes = Buffer.from((work as Buffer).subarray(0, this.used));
    this.block = { bytes: Buffer.alloc(0) };
    this.used = 0;
  }
}

/**
 * qtype → compiled answer for one owner name. It is itself the answer for its first type (most
 * names have one type, and a zone has ~4 names per task: one object per name, not two plus a
 * Map), and holds the answers for any further types in a short array scanned in order.
 */
export class NameAnswers extends CompiledAnswer implements Iterable<[number, CompiledAnswer]> {
  /** Answers for further types, if any. */
  private readonly rest: readonly CompiledAnswer[] | undefined;

  constructor(list: readonly CompiledAnswer[]) {
    const first = list[0] as NameAnswers;
    super(first.type, first.block, first.at);
    this.rest = list.length > 1 ? list.slice(1) : undefined;
  }

  get(type: number): CompiledAnswer | undefined {
    if (this.type === type) return this;
    if (this.rest === undefined) return undefined;
    for (let i = 0; i < this.rest.length; i++) {
      const answer = this.rest[i] as CompiledAnswer;
      if (answer.type === type) return answer;
    }
    return undefined;
  }

  has(type: number): boolean {
    return this.get(type) !== undefined;
  }

  get size(): number {
    return 1 + (this.rest?.length ?? 0);
  }

  *[Symbol.iterator](): IterableIterator<[number, CompiledAnswer]> {
    yield [this.type, this];
    for (const answer of this.rest ?? []) yield [answer.type, answer];
  }
}

/** Answer types in the order an ANY query picks its one RRset (RFC 8482 minimal answers). */
export const ANY_ORDER: readonly number[] = [
  RR_TYPE.A,
  RR_TYPE.AAAA,
  RR_TYPE.SRV,
  RR_TYPE.PTR,
  RR_TYPE.TXT,
  RR_TYPE.SOA,
  RR_TYPE.NS,
];

let scratch: WireWriter | undefined;
/** Answer ends of the message being encoded (reused: compile is synchronous). */
const endsScratch: number[] = [];

/** One writer reused by every encode (compile is synchronous); `finish` copies the bytes out. */
function writer(): WireWriter {
  scratch ??= new WireWriter();
  return scratch.reset();
}

export function encodeAnswer(
  name: string,
  qtype: number,
  answers: readonly ResourceRecord[],
  additional: readonly ResourceRecord[],
  recursionAvailable: boolean,
  slab: AnswerSlab,
): CompiledAnswer {
  const w = writer();
  w.u16(0);
  w.u16(FLAG.QR | FLAG.AA | (recursionAvailable ? FLAG.RA : 0) | RCODE.NOERROR);
  w.u16(1);
  w.u16(answers.length);
  w.u16(0);
  w.u16(additional.length);
  w.question(name);
  w.u16(qtype);
  w.u16(CLASS_IN);
  const questionEnd = w.length;
  for (let i = 0; i < answers.length; i++) {
    writeRecord(w, answers[i] as ResourceRecord, true);
    endsScratch[i] = w.length;
  }
  for (const record of additional) writeRecord(w, record, false);
  return slab.append(qtype, w, questionEnd, endsScratch, answers.length);
}

/** Drop records with identical text (several owners may publish the same value). */
export function uniqueRecords(records: readonly ResourceRecord[]): ResourceRecord[] {
  if (records.length < 2) return [...records];
  const seen = new Set<string>();
  const out: ResourceRecord[] = [];
  for (const record of records) {
    const text = recordText(record);
    if (seen.has(text)) continue;
    seen.add(text);
    out.push(record);
  }
  return out;
}

function sameRecordAtName(a: ResourceRecord, b: ResourceRecord): boolean {
  if (a.ttl !== b.ttl) return false;
  const x = a.data;
  const y = b.data;
  if (x === y) return true;
  if (x.type !== y.type) return false;
  switch (x.type) {
    case 'A':
    case 'AAAA':
      return x.address === (y as typeof x).address;
    case 'SRV': {
      const z = y as typeof x;
      return x.port === z.port && x.target === z.target && x.priority === z.priority && x.weight === z.weight;
    }
    case 'PTR':
    case 'NS':
      return x.target === (y as typeof x).target;
    default:
      return recordText(a) === recordText(b);
  }
}

/** `uniqueRecords` for records that share one name: pairwise when few, by key when many. */
function uniqueAtName(records: readonly ResourceRecord[]): readonly ResourceRecord[] {
  if (records.length < 2) return records;
  if (records.length > 16) return uniqueRecords(records);
  const out: ResourceRecord[] = [];
  for (const record of records) if (!out.some((kept) => sameRecordAtName(kept, record))) out.push(record);
  return out.length === records.length ? records : out;
}

/** Records grouped by type, in first-seen order (most names have a single type: no Map then). */
function groupByType(records: readonly ResourceRecord[]): Iterable<[number, readonly ResourceRecord[]]> {
  const first = RR_TYPE[(records[0] as ResourceRecord).data.type];
  if (records.every((r) => RR_TYPE[r.data.type] === first)) return [[first, records]];
  const byType = new Map<number, ResourceRecord[]>();
  for (const record of records) {
    const type = RR_TYPE[record.data.type];
    const list = byType.get(type);
    if (list === undefined) byType.set(type, [record]);
    else list.push(record);
  }
  return byType;
}

/**
 * All answers for one name. `addressesOf(target)` returns the A/AAAA records of an SRV target,
 * which go into the additional section.
 */
export function compileNameAnswers(
  name: string,
  records: readonly ResourceRecord[],
  addressesOf: (target: string) => readonly ResourceRecord[],
  recursionAvailable: boolean,
  slab: AnswerSlab,
): NameAnswers {
  const unique = uniqueAtName(records);
  const firstType = (unique[0] as ResourceRecord).data.type;
  let single = firstType !== 'SRV';
  for (let i = 1; single && i < unique.length; i++)
    single = (unique[i] as ResourceRecord).data.type === firstType;
  if (single)
    return new NameAnswers([encodeAnswer(name, RR_TYPE[firstType], unique, [], recursionAvailable, slab)]);
  const out: CompiledAnswer[] = [];
  for (const [type, list] of groupByType(unique)) {
    let additional: ResourceRecord[] = [];
    if (type === RR_TYPE.SRV) {
      // Records at different names never repeat each other: dedupe per target.
      const targets = new Set(list.map((r) => (r.data.type === 'SRV' ? r.data.target : '')));
      additional = [...targets].flatMap((t) => uniqueAtName(addressesOf(t)));
    }
    out.push(encodeAnswer(name, type, list, additional, recursionAvailable, slab));
  }
  return new NameAnswers(out);
}

/** A position-independent SOA record (no compression), appended after any question. */
export function encodeNegativeTail(soa: ResourceRecord): Buffer {
  const w = writer();
  writeRecord(w, soa, true);
  return w.finish();
}
