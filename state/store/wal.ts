// WAL segments on disk: `wal-<first revision>.log`, append-only, each write followed by fdatasync.
// A new segment starts at every snapshot; older ones are removed once the snapshot is durable.
import { open, readdir, readFile, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../lib';
import { decodeRecords, type WalRecord } from './record';

const SEGMENT_PATTERN = /^wal-(\d{16})\.log$/;

export interface SegmentFile {
  path: string;
  /** The revision of the first record the segment was opened for. */
  firstRevision: number;
}

export function segmentPath(dir: string, firstRevision: number): string {
  return join(dir, `wal-${String(firstRevision).padStart(16, '0')}.log`);
}

/** Segments in the dir, oldest first. */
export async function listSegments(dir: string): Promise<SegmentFile[]> {
  const names = await readdir(dir);
  const out: SegmentFile[] = [];
  for (const name of names) {
    const match = SEGMENT_PATTERN.exec(name);
    if (match?.[1] !== undefined) out.push({ path: join(dir, name), firstRevision: Number(match[1]) });
  }
  return out.sort((a, b) => a.firstRevision - b.firstRevision);
}

export interface SegmentContents {
  records: WalRecord[];
  /** Bytes of good records: the size after any torn tail was cut off. */
  size: number;
}

/**
 * Reads a segment. A torn tail (a write cut short by a crash, or garbage after the last record) is
 * truncated away — with a warning saying where and how much — so it is never loaded or appended to.
 */
export async function readSegment(path: string, logger: Logger): Promise<SegmentContents> {
  const buf = await readFile(path);
  const decoded = decodeRecords(buf);
  if (decoded.tornReason !== undefined) {
    logger.warn(
      {
        path,
        offset: decoded.validBytes,
        droppedBytes: buf.length - decoded.validBytes,
        reason: decoded.tornReason,
        keptRecords: decoded.records.length,
      },
      'Dropping a torn WAL tail',
    );
    await truncate(path, decoded.validBytes);
    await syncPath(path);
  }
  return { records: decoded.records, size: decoded.validBytes };
}

/** The segment being appended to. One append runs at a time (the store's group commit serialises). */
export class WalWriter {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private bytes: number,
    private recordCount: number,
  ) {}

  /** Creates a new empty segment and makes its name durable. */
  static async create(dir: string, firstRevision: number): Promise<WalWriter> {
    const path = segmentPath(dir, firstRevision);
    const handle = await open(path, 'wx', 0o600);
    await handle.sync();
    await syncPath(dir);
    return new WalWriter(path, handle, 0, 0);
  }

  /** Reopens an existing segment (already truncated to its good records) for appending. */
  static async reopen(path: string, size: number, recordCount: number): Promise<WalWriter> {
    const handle = await open(path, 'a', 0o600);
    return new WalWriter(path, handle, size, recordCount);
  }

  get size(): number {
    return this.bytes;
  }

  get records(): number {
    return this.recordCount;
  }

  /** Writes the encoded records and waits until they are on stable storage. */
  async append(chunk: Buffer, recordCount: number): Promise<void> {
    let written = 0;
    while (written < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, written, chunk.length - written);
      written += bytesWritten;
    }
    this.bytes += chunk.length;
    this.recordCount += recordCount;
    await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** fsync a file or directory by path (a directory fsync makes a create, rename or unlink durable). */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
