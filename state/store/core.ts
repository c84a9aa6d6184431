// The store itself: validation, revisions, group commit, reads and watches. Durability is a
// Persister (the WAL for the embedded store, nothing for the memory store).
//
// A write is validated, checked against the overlay (committed state plus writes accepted but not
// yet durable, so two racing writes never both pass a check only one should), given the next
// revision and queued. One flush at a time writes + fsyncs the queued batch; writes arriving
// meanwhile form the next batch (group commit). Only after the fsync is the batch applied to the
// table, pushed to history and published to watchers, and its promises resolved: readers never see
// a write before it is durable.
import type { Logger } from '../../lib';
import type { ListQuery, ListResult, WatchEvent, WatchOptions, WriteOptions } from '../api';
import { StateError, StateErrorCode } from '../errors';
import { isKind, objectKey, type Kind, type ObjectInput, type ObjectRef, type StoredObject } from '../model';
import { compileFilter } from './filter';
import { EventHistory } from './history';
import { WatchHub, type WatchContext } from './hub';
import type { StoreMetrics, WriteOp } from './metrics';
import type { WalRecord } from './record';
import { ObjectTable, OverlayView, buildStoredObject, deepFreeze, refOf, sameContent } from './table';
import type { ChangeEvent, Store, StoreStats, SubscribeOptions, Validator } from './types';
import { Subscription, Watcher } from './watcher';

export interface Persister {
  /** Durably appends one group commit. */
  append(records: readonly WalRecord[]): Promise<void>;
  /** Runs after a commit, before the next append: may rotate the WAL and snapshot `objects()`. */
  afterCommit(revision: number, objects: () => StoredObject[]): Promise<void>;
  close(): Promise<void>;
  stats(): { snapshots: number; walBytes: number };
}

export interface CoreDeps {
  persister: Persister;
  validator: Validator;
  logger: Logger;
  metrics: StoreMetrics;
  historyLimit: number;
  bufferLimit: number;
}

interface Batch {
  records: WalRecord[];
  durable: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

const OP_OF: Record<WalRecord['t'], WriteOp> = { ADDED: 'create', MODIFIED: 'update', DELETED: 'delete' };

export class StoreCore implements Store, WatchContext {
  readonly hub: WatchHub;
  readonly history: EventHistory;
  readonly bufferLimit: number;
  private readonly table = new ObjectTable();
  private readonly overlay = new OverlayView(this.table);
  private committed = 0;
  private assigned = 0;
  private openBatch: Batch | undefined;
  private flushing = false;
  private idleWaiters: Array<() => void> = [];
  private broken: StateError | undefined;
  private closing: Promise<void> | undefined;
  private commits = 0;
  private committedChanges = 0;

  constructor(private readonly deps: CoreDeps) {
    this.history = new EventHistory(deps.historyLimit);
    this.bufferLimit = deps.bufferLimit;
    this.hub = new WatchHub((count) => deps.metrics.watchers.set(count));
  }

  /** Loads recovered state: a snapshot's objects at `baseRevision`, then WAL records after it. */
  restore(baseRevision: number, objects: readonly StoredObject[], records: readonly WalRecord[]): void {
    // Snapshot objects get a shallow freeze: a deep one would double start-up time for 100k tasks.
    for (const obj of objects) this.table.of(obj.kind).set(objectKey(obj), Object.freeze(obj));
    this.committed = baseRevision;
    this.history.reset(baseRevision);
    for (const record of records) {
      if (record.r !== this.committed + 1) {
        throw new StateError(
          StateErrorCode.CORRUPT,
          `WAL jumps from revision ${this.committed} to ${record.r}: records are missing`,
        );
      }
      this.applyRecord({ ...record, o: deepFreeze(record.o) });
    }
    this.assigned = this.committed;
    this.deps.metrics.revision.set(this.committed);
    for (const kind of this.touchedKinds(objects, records)) this.countKind(kind);
  }

  get revision(): number {
    return this.committed;
  }

  currentRevision(): number {
    return this.committed;
  }

  async get(ref: ObjectRef): Promise<StoredObject> {
    this.checkOpen();
    const kind = checkKind(ref.kind);
    const found = this.table.get(kind, objectKey(ref));
    if (found === undefined) throw notFound(objectKey(ref));
    return found;
  }

  async list(query: ListQuery): Promise<ListResult> {
    this.checkOpen();
    const kind = checkKind(query.kind);
    const filter = compileFilter(query);
    const items: StoredObject[] = [];
    for (const obj of this.table.of(kind).values()) if (filter === undefined || filter(obj)) items.push(obj);
    return { items, revision: this.committed };
  }

  async apply(input: ObjectInput, options: WriteOptions = {}): Promise<StoredObject> {
    this.checkWritable();
    const next = this.deps.validator.validateInput(input);
    const ref = refOf(next);
    const key = objectKey(ref);
    const current = this.overlay.lookup(ref.kind, key);
    checkExpected(key, current?.object, options.expectedRevision);
    if (current?.object !== undefined && sameContent(current.object, next)) {
      // Declarative apply: nothing changes, no revision, no event — but never ack before durable.
      await current.durable;
      return current.object;
    }
    this.deps.validator.checkConsistency(next, this.overlay);
    const revision = ++this.assigned;
    const object = buildStoredObject(next, revision, current?.object?.createRevision ?? revision);
    await this.enqueue({ r: revision, t: current?.object === undefined ? 'ADDED' : 'MODIFIED', o: object });
    return object;
  }

  async delete(ref: ObjectRef, options: WriteOptions = {}): Promise<StoredObject> {
    this.checkWritable();
    const target = refOf({ ...ref, kind: checkKind(ref.kind) });
    const key = objectKey(target);
    const current = this.overlay.lookup(target.kind, key)?.object;
    if (current === undefined) throw notFound(key);
    checkExpected(key, current, options.expectedRevision);
    this.deps.validator.checkDeletion(target, this.overlay);
    const revision = ++this.assigned;
    const gone = deepFreeze({ ...current, revision });
    await this.enqueue({ r: revision, t: 'DELETED', o: gone });
    return gone;
  }

  watch(options: WatchOptions): AsyncIterable<WatchEvent> {
    return {
      // Checked when iteration starts, like every other watch error.
      [Symbol.asyncIterator]: (): AsyncIterator<WatchEvent> =>
        this.closing === undefined ? new Watcher(this, options) : failingIterator(closedError()),
    };
  }

  subscribe(options: SubscribeOptions, onEvents: (events: readonly ChangeEvent[]) => void): () => void {
    this.checkOpen();
    const subscription = new Subscription(this, options, onEvents, this.deps.logger);
    return () => subscription.end();
  }

  stats(): StoreStats {
    const persisted = this.deps.persister.stats();
    return {
      revision: this.committed,
      objects: this.table.size,
      watchers: this.hub.size,
      compactedRevision: this.history.oldest - 1,
      commits: this.commits,
      committedChanges: this.committedChanges,
      snapshots: persisted.snapshots,
      walBytes: persisted.walBytes,
    };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.whenIdle();
      this.hub.endAll();
      await this.deps.persister.close();
    })();
    return this.closing;
  }

  // ---- group commit ----------------------------------------------------------------------------

  private enqueue(record: WalRecord): Promise<void> {
    const batch = (this.openBatch ??= newBatch());
    batch.records.push(record);
    const kind = record.o.kind;
    const object = record.t === 'DELETED' ? undefined : record.o;
    this.overlay.setPending(kind, objectKey(record.o), { object, durable: batch.durable });
    if (!this.flushing) {
      this.flushing = true;
      // A microtask later, so every write issued in this turn joins the first batch.
      queueMicrotask(() => void this.flushLoop());
    }
    return batch.durable;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.openBatch !== undefined) {
        const batch = this.openBatch;
        this.openBatch = undefined;
        try {
          await this.deps.persister.append(batch.records);
        } catch (err) {
          this.breakStore(err, batch);
          return;
        }
        this.commit(batch);
        batch.resolve();
        await this.deps.persister.afterCommit(this.committed, () => this.table.all());
      }
    } finally {
      this.flushing = false;
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private commit(batch: Batch): void {
    const events: ChangeEvent[] = [];
    const kinds = new Set<Kind>();
    for (const record of batch.records) {
      events.push(this.applyRecord(record));
      this.overlay.clearPending(record.o.kind, objectKey(record.o), batch.durable);
      this.deps.metrics.writes.inc({ op: OP_OF[record.t] });
      kinds.add(record.o.kind);
    }
    this.commits++;
    this.committedChanges += batch.records.length;
    this.deps.metrics.revision.set(this.committed);
    for (const kind of kinds) this.countKind(kind);
    this.hub.publish(events);
  }

  /** Applies one durable change to the table and history. */
  private applyRecord(record: WalRecord): ChangeEvent {
    const objects = this.table.of(record.o.kind);
    const key = objectKey(record.o);
    if (record.t === 'DELETED') objects.delete(key);
    else objects.set(key, record.o);
    const event: ChangeEvent = { type: record.t, revision: record.r, object: record.o };
    this.history.push(event);
    this.committed = record.r;
    return event;
  }

  /** A failed WAL write leaves the disk in doubt: fail everything queued and refuse further writes. */
  private breakStore(err: unknown, batch: Batch): void {
    this.broken = new StateError(
      StateErrorCode.UNAVAILABLE,
      'The WAL write failed; the store refuses writes',
      {
        cause: err,
      },
    );
    this.deps.logger.error({ err, revision: this.committed }, 'WAL write failed; refusing further writes');
    batch.reject(this.broken);
    this.openBatch?.reject(this.broken);
    this.openBatch = undefined;
    this.overlay.clearAll();
    this.assigned = this.committed;
  }

  private whenIdle(): Promise<void> {
    if (!this.flushing) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private checkOpen(): void {
    if (this.closing !== undefined) throw closedError();
  }

  private checkWritable(): void {
    this.checkOpen();
    if (this.broken !== undefined) throw this.broken;
  }

  private countKind(kind: Kind): void {
    this.deps.metrics.setObjectCount(kind, this.table.of(kind).size);
  }

  private touchedKinds(objects: readonly StoredObject[], records: readonly WalRecord[]): Set<Kind> {
    const kinds = new Set<Kind>();
    for (const obj of objects) kinds.add(obj.kind);
    for (const record of records) kinds.add(record.o.kind);
    return kinds;
  }
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const durable = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Every writer awaits this; the no-op handler only keeps a failed batch from counting as unhandled.
  durable.catch(() => undefined);
  return { records: [], durable, resolve, reject };
}

function checkKind(kind: unknown): Kind {
  if (!isKind(kind)) throw new StateError(StateErrorCode.BAD_REQUEST, `Unknown kind ${String(kind)}`);
  return kind;
}

function checkExpected(key: string, current: StoredObject | undefined, expected: number | undefined): void {
  if (expected === undefined) return;
  if (expected === 0 && current !== undefined) {
    throw new StateError(StateErrorCode.CONFLICT, `${key} already exists (revision ${current.revision})`, {
      details: { key, revision: current.revision },
    });
  }
  if (expected > 0 && current?.revision !== expected) {
    const actual = current === undefined ? 'does not exist' : `is at revision ${current.revision}`;
    throw new StateError(StateErrorCode.CONFLICT, `${key} ${actual}, not ${expected}`, {
      details: { key, expected, revision: current?.revision },
    });
  }
}

function closedError(): StateError {
  return new StateError(StateErrorCode.UNAVAILABLE, 'The store is closed');
}

function failingIterator(err: StateError): AsyncIterator<WatchEvent> {
  let thrown = false;
  return {
    next: () => {
      if (thrown) return Promise.resolve({ value: undefined, done: true });
      thrown = true;
      return Promise.reject(err);
    },
  };
}

function notFound(key: string): StateError {
  return new StateError(StateErrorCode.NOT_FOUND, `${key} not found`, { details: { key } });
}
