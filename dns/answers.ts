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
 * bytes over ours (same length: names match case-insensitively). `answerEnds` marks record
 * boundaries so the server can rotate or truncate the answer section without re-encoding.
 */
export interface CompiledAnswer {
  readonly wire: Buffer;
  readonly questionEnd: number;
  readonly answerEnds: readonly number[];
}

/** qtype → compiled answer for one owner name. */
export type NameAnswers = ReadonlyMap<number, CompiledAnswer>;

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

export function encodeAnswer(
  name: string,
  qtype: number,
  answers: readonly ResourceRecord[],
  additional: readonly ResourceRecord[],
  recursionAvailable: boolean,
): CompiledAnswer {
  const writer = new WireWriter();
  writer.u16(0);
  writer.u16(FLAG.QR | FLAG.AA | (recursionAvailable ? FLAG.RA : 0) | RCODE.NOERROR);
  writer.u16(1);
  writer.u16(answers.length);
  writer.u16(0);
  writer.u16(additional.length);
  writer.name(name, false, true);
  writer.u16(qtype);
  writer.u16(CLASS_IN);
  const questionEnd = writer.length;
  const answerEnds: number[] = [];
  for (const record of answers) {
    writeRecord(writer, record, true);
    answerEnds.push(writer.length);
  }
  for (const record of additional) writeRecord(writer, record, false);
  return { wire: writer.finish(), questionEnd, answerEnds };
}

/** Drop records with identical text (several owners may publish the same value). */
export function uniqueRecords(records: readonly ResourceRecord[]): ResourceRecord[] {
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

/**
 * All answers for one name. `addressesOf(target)` returns the A/AAAA records of an SRV target,
 * which go into the additional section.
 */
export function compileNameAnswers(
  name: string,
  records: readonly ResourceRecord[],
  addressesOf: (target: string) => readonly ResourceRecord[],
  recursionAvailable: boolean,
): NameAnswers {
  const byType = new Map<number, ResourceRecord[]>();
  for (const record of uniqueRecords(records)) {
    const type = RR_TYPE[record.data.type];
    const list = byType.get(type);
    if (list === undefined) byType.set(type, [record]);
    else list.push(record);
  }
  const out = new Map<number, CompiledAnswer>();
  for (const [type, list] of byType) {
    let additional: ResourceRecord[] = [];
    if (type === RR_TYPE.SRV) {
      const targets = new Set(list.map((r) => (r.data.type === 'SRV' ? r.data.target : '')));
      additional = uniqueRecords([...targets].flatMap((t) => addressesOf(t)));
    }
    out.set(type, encodeAnswer(name, type, list, additional, recursionAvailable));
  }
  return out;
}

/** A position-independent SOA record (no compression), appended after any question. */
export function encodeNegativeTail(soa: ResourceRecord): Buffer {
  const writer = new WireWriter();
  writeRecord(writer, soa, true);
  return writer.finish();
}
