// WAL record codec (pure). One record per change:
//   u32 BE payload length | u32 BE CRC32 (zlib.crc32, Node >= 20.15) of the payload | JSON payload
// The payload is the change itself — revision, event type and the object as stored — so a replayed
// record is also the watch event it produced.
import { crc32 } from 'node:zlib';
import { StateError, StateErrorCode } from '../errors';
import type { StoredObject } from '../model';

export const RECORD_HEADER_BYTES = 8;
/** A length past this is damage, not a record: objects are small and validated. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WalRecord {
  /** The revision of this change. */
  r: number;
  t: ChangeType;
  /** The object after the change; for DELETED, as it was, carrying the delete's revision. */
  o: StoredObject;
}

export function encodeRecord(record: WalRecord): Buffer {
  const payload = Buffer.from(JSON.stringify(record), 'utf8');
  const out = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.writeUInt32BE(crc32(payload), 4);
  payload.copy(out, RECORD_HEADER_BYTES);
  return out;
}

export interface DecodeResult {
  records: WalRecord[];
  /** Offset just past the last good record: everything from here on is a torn tail. */
  validBytes: number;
  /** Why decoding stopped before the end of the buffer; absent when the buffer was whole. */
  tornReason?: string;
}

/**
 * Decodes records until the end of `buf` or the first one that is short, has an impossible length
 * or a bad CRC — a torn write — and reports where the good part ends. A record whose CRC matches but
 * whose JSON does not parse is not a torn write: it throws, because the bytes were written that way.
 */
export function decodeRecords(buf: Buffer): DecodeResult {
  const records: WalRecord[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const torn = checkFrame(buf, offset);
    if (torn !== undefined) return { records, validBytes: offset, tornReason: torn };
    const length = buf.readUInt32BE(offset);
    const start = offset + RECORD_HEADER_BYTES;
    records.push(parsePayload(buf.toString('utf8', start, start + length), offset));
    offset = start + length;
  }
  return { records, validBytes: offset };
}

function checkFrame(buf: Buffer, offset: number): string | undefined {
  const remaining = buf.length - offset;
  if (remaining < RECORD_HEADER_BYTES) return `short header (${remaining} bytes)`;
  const length = buf.readUInt32BE(offset);
  if (length === 0 || length > MAX_RECORD_BYTES) return `bad length ${length}`;
  if (length > remaining - RECORD_HEADER_BYTES) return `short record (${length} bytes announced)`;
  const start = offset + RECORD_HEADER_BYTES;
  const expected = buf.readUInt32BE(offset + 4);
  if (crc32(buf.subarray(start, start + length)) !== expected) return 'CRC mismatch';
  return undefined;
}

function parsePayload(text: string, offset: number): WalRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw corrupt(`record at offset ${offset} has a good CRC but is not JSON`, err);
  }
  if (!isWalRecord(value)) throw corrupt(`record at offset ${offset} is not a change record`);
  return value;
}

function isWalRecord(value: unknown): value is WalRecord {
  if (typeof value !== 'object' || value === null) return false;
  const rec = value as Partial<WalRecord>;
  return (
    Number.isSafeInteger(rec.r) &&
    (rec.t === 'ADDED' || rec.t === 'MODIFIED' || rec.t === 'DELETED') &&
    typeof rec.o === 'object' &&
    rec.o !== null
  );
}

/** Intact bytes that do not hold a record: damage the store must not repair silently. */
function corrupt(message: string, cause?: unknown): StateError {
  return new StateError(StateErrorCode.CORRUPT, message, { cause });
}
