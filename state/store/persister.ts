// Durability for the embedded store: group commits go to the current WAL segment (write + fdatasync);
// past a record or byte threshold the WAL rotates and a snapshot of that moment is written in the
// background, after which the older segments and snapshots are removed.
import { unlink } from 'node:fs/promises';
import type { Logger } from '../../lib';
import type { StoredObject } from '../model';
import type { Persister } from './core';
import type { DirLock } from './lock';
import type { StoreMetrics } from './metrics';
import { encodeRecord, type WalRecord } from './record';
import { listSnapshots, writeSnapshot } from './snapshot';
import { listSegments, WalWriter } from './wal';

export interface WalPersisterConfig {
  dir: string;
  logger: Logger;
  metrics: StoreMetrics;
  lock: DirLock;
  snapshotEveryRecords: number;
  snapshotEveryBytes: number;
}

export class WalPersister implements Persister {
  private snapshotting: Promise<void> | undefined;
  private snapshotCount = 0;

  constructor(
    private readonly config: WalPersisterConfig,
    private writer: WalWriter,
  ) {}

  async append(records: readonly WalRecord[]): Promise<void> {
    const chunk = Buffer.concat(records.map(encodeRecord));
    const stopTimer = this.config.metrics.fsyncSeconds.startTimer();
    await this.writer.append(chunk, records.length);
    stopTimer();
  }

  async afterCommit(revision: number, objects: () => StoredObject[]): Promise<void> {
    const { snapshotEveryRecords, snapshotEveryBytes } = this.config;
    if (this.snapshotting !== undefined) return;
    if (this.writer.records < snapshotEveryRecords && this.writer.size < snapshotEveryBytes) return;
    let next: WalWriter;
    try {
      next = await WalWriter.create(this.config.dir, revision + 1);
    } catch (err) {
      // Keep appending to the current segment; the next commit tries again.
      this.config.logger.error({ err, revision }, 'Could not start a new WAL segment');
      return;
    }
    const previous = this.writer;
    this.writer = next;
    await previous
      .close()
      .catch((err: unknown) => this.config.logger.warn({ err }, 'Closing a WAL segment failed'));
    // Captured now, between commits: exactly the objects at `revision` (objects are immutable).
    const captured = objects();
    this.snapshotting = this.snapshot(revision, captured).finally(() => {
      this.snapshotting = undefined;
    });
  }

  async close(): Promise<void> {
    await this.snapshotting;
    await this.writer.close();
    this.config.lock.release();
  }

  stats(): { snapshots: number; walBytes: number } {
    return { snapshots: this.snapshotCount, walBytes: this.writer.size };
  }

  private async snapshot(revision: number, objects: readonly StoredObject[]): Promise<void> {
    const { dir, logger, metrics } = this.config;
    const started = process.hrtime.bigint();
    try {
      const path = await writeSnapshot(dir, revision, objects);
      this.snapshotCount++;
      metrics.snapshots.inc();
      const removed = await removeObsolete(dir, revision);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info({ path, revision, objects: objects.length, ms, removed }, 'Wrote a snapshot');
    } catch (err) {
      // Nothing is lost: the older segments stay until a later snapshot succeeds.
      logger.error({ err, revision }, 'Writing a snapshot failed');
    }
  }
}

/** Removes segments wholly covered by the snapshot at `revision`, and older snapshots. */
async function removeObsolete(dir: string, revision: number): Promise<number> {
  let removed = 0;
  for (const segment of await listSegments(dir)) {
    if (segment.firstRevision > revision) continue;
    await unlink(segment.path);
    removed++;
  }
  for (const snapshot of await listSnapshots(dir)) {
    if (snapshot.revision >= revision) continue;
    await unlink(snapshot.path);
    removed++;
  }
  return removed;
}
