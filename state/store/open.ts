// Opening stores. The embedded store: lock the dir, load the newest whole snapshot, replay WAL
// records after it (cutting off a torn tail), then append to the last segment. The memory store:
// the same core with nothing on disk.
import { mkdir } from 'node:fs/promises';
import type { Logger } from '../../lib';
import { StoreCore, type Persister } from './core';
import { acquireDirLock } from './lock';
import { resolveEmbeddedOptions, resolveOptions } from './options';
import { WalPersister } from './persister';
import type { WalRecord } from './record';
import { loadNewestSnapshot, removeTempSnapshots } from './snapshot';
import type { EmbeddedStore, EmbeddedStoreOptions, MemoryStore, StoreOptions, Validator } from './types';
import { listSegments, readSegment, WalWriter } from './wal';

export async function openEmbeddedStoreWith(
  options: EmbeddedStoreOptions,
  defaultValidator: Validator,
): Promise<EmbeddedStore> {
  const resolved = resolveEmbeddedOptions(options, defaultValidator);
  const { dir, logger } = resolved;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const lock = acquireDirLock(dir, logger);
  try {
    const started = process.hrtime.bigint();
    await removeTempSnapshots(dir);
    const snapshot = await loadNewestSnapshot(dir, logger);
    const baseRevision = snapshot?.revision ?? 0;
    const wal = await replayWal(dir, baseRevision, logger);
    const revision = wal.records.at(-1)?.r ?? baseRevision;
    const writer =
      wal.last === undefined
        ? await WalWriter.create(dir, revision + 1)
        : await WalWriter.reopen(wal.last.path, wal.last.size, wal.last.records);
    const persister = new WalPersister({ ...resolved, lock }, writer);
    const core = new StoreCore({ ...resolved, persister });
    try {
      core.restore(baseRevision, snapshot?.objects ?? [], wal.records);
    } catch (err) {
      await writer.close();
      throw err;
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    logger.info(
      { dir, revision: core.revision, objects: core.stats().objects, snapshotRevision: baseRevision, ms },
      'Opened the state store',
    );
    return core;
  } catch (err) {
    lock.release();
    throw err;
  }
}

export function createMemoryStoreWith(options: StoreOptions, defaultValidator: Validator): MemoryStore {
  const resolved = resolveOptions(options, defaultValidator);
  return new StoreCore({ ...resolved, persister: memoryPersister() });
}

interface ReplayedWal {
  /** Records after the snapshot, in order. */
  records: WalRecord[];
  /** The segment to keep appending to. */
  last: { path: string; size: number; records: number } | undefined;
}

async function replayWal(dir: string, baseRevision: number, logger: Logger): Promise<ReplayedWal> {
  const records: WalRecord[] = [];
  let last: ReplayedWal['last'];
  for (const segment of await listSegments(dir)) {
    const contents = await readSegment(segment.path, logger);
    for (const record of contents.records) if (record.r > baseRevision) records.push(record);
    last = { path: segment.path, size: contents.size, records: contents.records.length };
  }
  return { records, last };
}

function memoryPersister(): Persister {
  return {
    append: () => Promise.resolve(),
    afterCommit: () => Promise.resolve(),
    close: () => Promise.resolve(),
    stats: () => ({ snapshots: 0, walBytes: 0 }),
  };
}
