import { Packet } from 'dns2';

/**
 * Decode a DNS message with dns2 (an independent decoder, so tests check our encoder against
 * someone else's reading of the wire) and render it as zone-file text by section.
 */
export interface DecodedMessage {
  readonly rcode: number;
  readonly flags: { aa: boolean; tc: boolean; rd: boolean; ra: boolean };
  readonly question: string;
  readonly answer: string[];
  readonly authority: string[];
  readonly additional: string[];
  readonly errors: number;
}

const TYPE_NAMES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  6: 'SOA',
  12: 'PTR',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  41: 'OPT',
};

interface DecodedRecord {
  name: string;
  ttl: number;
  type: number;
  [field: string]: unknown;
}

function rdata(r: DecodedRecord): string {
  switch (TYPE_NAMES[r.type]) {
    case 'A':
    case 'AAAA':
      return String(r.address);
    case 'SRV':
      return `${String(r.priority)} ${String(r.weight)} ${String(r.port)} ${String(r.target)}.`;
    case 'PTR':
    case 'NS':
      return `${String(r.domain ?? r.ns)}.`;
    case 'TXT':
      return JSON.stringify((r.data as string[]).join(''));
    case 'SOA':
      return `${String(r.primary)}. ${String(r.admin)}. ${String(r.serial)} ${String(r.refresh)} ${String(r.retry)} ${String(r.expiration)} ${String(r.minimum)}`;
    default:
      return '?';
  }
}

export function recordLine(r: DecodedRecord): string {
  return `${r.name}. ${r.ttl} IN ${TYPE_NAMES[r.type] ?? String(r.type)} ${rdata(r)}`;
}

export function decodeMessage(wire: Buffer): DecodedMessage {
  const packet = Packet.parse(wire);
  const h = packet.header as unknown as { rcode: number; aa: number; tc: number; rd: number; ra: number };
  const lines = (list: unknown[]): string[] =>
    (list as DecodedRecord[]).filter((r) => r.type !== 41).map(recordLine);
  const q = packet.questions[0] as unknown as { name: string; type: number } | undefined;
  return {
    rcode: h.rcode,
    flags: { aa: h.aa === 1, tc: h.tc === 1, rd: h.rd === 1, ra: h.ra === 1 },
    question: q === undefined ? '' : `${q.name}. ${TYPE_NAMES[q.type] ?? String(q.type)}`,
    answer: lines(packet.answers),
    authority: lines(packet.authorities),
    additional: lines(packet.additionals),
    errors: packet.errors.length,
  };
}
