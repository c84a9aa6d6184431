// Snapshots: every object plus the revision they reflect, in `snap-<revision>.snap`.
// Format: one JSON object per line, each line ending in `,\n`, then one trailer line
// `{"format":1,"revision":R,"count":N,"crc":C}` where C is the CRC32 of everything before it.
// Loading parses the lines in large batches with one JSON.parse each (no per-object validation:
// the objects were validated when written), which keeps start-up with 100k tasks well under 2 s.
// Writing: tmp file → fsync → rename → fsync dir, so a snapshot either exists whole or not at all.
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from '../../lib';
import type { StoredObject } from '../model';
import { syncPath } from './wal';

const SNAPSHOT_PATTERN = /^snap-(\d{16})\.snap$/;
const TMP_SUFFIX = '.tmp';
const FORMAT = 1;
/** Objects serialised per write while snapshotting; between batches the event loop runs. */
const WRITE_BATCH = 2000;
/** Bytes of lines handed to one JSON.parse while loading. */
const PARSE_CHUNK_BYTES = 8 * 1024 * 1024;
const NEWLINE = 0x0a;

export interface SnapshotFile {
  path: string;
  revision: number;
}

export interface Snapshot {
  revision: number;
  objects: StoredObject[];
}

interface Trailer {
  format: number;
  revision: number;
  count: number;
  crc: number;
}

export function snapshotPath(dir: string, revision: number): string {
  return join(dir, `snap-${String(revision).padStart(16, '0')}.snap`);
}

/** Snapshots in the dir, newest first. */
export async function listSnapshots(dir: string): Promise<SnapshotFile[]> {
  const out: SnapshotFile[] = [];
  for (const name of await readdir(dir)) {
    const match = SNAPSHOT_PATTERN.exec(name);
    if (match?.[1] !== undefined) out.push({ path: join(dir, name), revision: Number(match[1]) });
  }
  return out.sort((a, b) => b.revision - a.revision);
}

/** Removes leftovers of snapshots that were being written when the process died. */
export async function removeTempSnapshots(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.startsWith('snap-') && name.endsWith(TMP_SUFFIX)) await unlink(join(dir, name));
  }
}

/** Writes a snapshot durably and returns its path. `objects` must not change while this runs. */
export async function writeSnapshot(
  dir: string,
  revision: number,
  objects: readonly StoredObject[],
): Promise<string> {
  const finalPath = snapshotPath(dir, revision);
  const tmpPath = finalPath + TMP_SUFFIX;
  const handle = await open(tmpPath, 'w', 0o600);
  let crc = 0;
  try {
    for (let start = 0; start < objects.length; start += WRITE_BATCH) {
      const batch = objects.slice(start, start + WRITE_BATCH);
      const chunk = Buffer.from(batch.map((obj) => JSON.stringify(obj) + ',\n').join(''), 'utf8');
      crc = crc32(chunk, crc);
      await handle.writeFile(chunk);
    }
    const trailer: Trailer = { format: FORMAT, revision, count: objects.length, crc };
    await handle.writeFile(JSON.stringify(trailer) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmpPath, finalPath);
  await syncPath(dir);
  return finalPath;
}

/**
 * Loads the newest snapshot that is whole (trailer present, CRC and count match). A damaged one is
 * skipped with a warning; the caller checks that the WAL still covers the gap.
 */
export async function loadNewestSnapshot(dir: string, logger: Logger): Promise<Snapshot | undefined> {
  for (const file of await listSnapshots(dir)) {
    try {
      return await readSnapshot(file);
    } catch (err) {
      logger.warn({ path: file.path, err }, 'Skipping a damaged snapshot');
    }
  }
  return undefined;
}

async function readSnapshot(file: SnapshotFile): Promise<Snapshot> {
  const buf = await readFile(file.path);
  if (buf.length === 0 || buf[buf.length - 1] !== NEWLINE) throw new Error('no trailer');
  const bodyEnd = buf.lastIndexOf(NEWLINE, buf.length - 2) + 1;
  const trailer = JSON.parse(buf.toString('utf8', bodyEnd)) as Partial<Trailer>;
  if (trailer.format !== FORMAT) throw new Error(`unknown format ${String(trailer.format)}`);
  if (trailer.revision !== file.revision) throw new Error('trailer revision does not match the file name');
  if (crc32(buf.subarray(0, bodyEnd)) !== trailer.crc) throw new Error('CRC mismatch');
  const objects = parseLines(buf, bodyEnd);
  if (objects.length !== trailer.count)
    throw new Error(`expected ${trailer.count} objects, read ${objects.length}`);
  return { revision: file.revision, objects };
}

/** Parses `obj,\n` lines in chunks: `[` + lines minus the last `,\n` + `]` is one JSON array. */
function parseLines(buf: Buffer, end: number): StoredObject[] {
  const out: StoredObject[] = [];
  let start = 0;
  while (start < end) {
    const probe = Math.min(start + PARSE_CHUNK_BYTES, end) - 1;
    const chunkEnd = buf.indexOf(NEWLINE, probe) + 1;
    if (chunkEnd <= start || chunkEnd > end) throw new Error('unterminated line');
    const items = JSON.parse('[' + buf.toString('utf8', start, chunkEnd - 2) + ']') as StoredObject[];
    for (const item of items) out.push(item);
    start = chunkEnd;
  }
  return out;
}
