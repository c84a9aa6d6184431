import { StateErrorCode } from '../errors';
import type { StoredObject } from '../model';
import { RECORD_HEADER_BYTES, decodeRecords, encodeRecord, type WalRecord } from './record';

function record(revision: number): WalRecord {
  const object = {
    kind: 'Task',
    name: `t${revision}`,
    namespace: 'default',
    labels: { app: 'web' },
    revision,
    createRevision: revision,
    spec: { note: 'ünïcode ✓' },
  } as unknown as StoredObject;
  return { r: revision, t: 'ADDED', o: object };
}

const two = Buffer.concat([encodeRecord(record(1)), encodeRecord(record(2))]);
const firstLength = encodeRecord(record(1)).length;

describe('WAL records', () => {
  it('round-trips records, unicode included', () => {
    const decoded = decodeRecords(two);
    expect(decoded.records).toEqual([record(1), record(2)]);
    expect(decoded.validBytes).toBe(two.length);
    expect(decoded.tornReason).toBeUndefined();
  });

  const torn: Array<{ desc: string; bytes: Buffer; reason: RegExp; kept?: number }> = [
    { desc: 'last record cut short', bytes: two.subarray(0, two.length - 3), reason: /short record/ },
    { desc: 'only part of the header', bytes: two.subarray(0, firstLength + 5), reason: /short header/ },
    {
      desc: 'garbage appended',
      bytes: Buffer.concat([two, Buffer.from('garbage that is no record')]),
      reason: /bad length|short record/,
      kept: 2,
    },
    {
      desc: 'zeroes appended (a preallocated tail)',
      bytes: Buffer.concat([two, Buffer.alloc(64)]),
      reason: /bad length 0/,
      kept: 2,
    },
    {
      desc: 'a flipped byte in the last payload',
      bytes: (() => {
        const copy = Buffer.from(two);
        copy[two.length - 5] = (copy[two.length - 5] ?? 0) ^ 0xff;
        return copy;
      })(),
      reason: /CRC mismatch/,
    },
    {
      desc: 'an absurd length',
      bytes: (() => {
        const copy = Buffer.from(two);
        copy.writeUInt32BE(0xfffffff0, firstLength);
        return copy;
      })(),
      reason: /bad length/,
    },
  ];

  it.each(torn)('keeps the good prefix when $desc', ({ bytes, reason, kept = 1 }) => {
    const decoded = decodeRecords(bytes);
    expect(decoded.records).toEqual([record(1), record(2)].slice(0, kept));
    expect(decoded.validBytes).toBe(kept === 1 ? firstLength : two.length);
    expect(decoded.tornReason).toMatch(reason);
  });

  it('refuses a record whose CRC matches but whose payload is not a change', () => {
    const payload = Buffer.from('{"hello":1}');
    const { crc32 } = jest.requireActual<typeof import('node:zlib')>('node:zlib');
    const header = Buffer.alloc(RECORD_HEADER_BYTES);
    header.writeUInt32BE(payload.length, 0);
    header.writeUInt32BE(crc32(payload), 4);
    expect(() => decodeRecords(Buffer.concat([header, payload]))).toThrow(
      expect.objectContaining({ code: StateErrorCode.CORRUPT }),
    );
  });
});
