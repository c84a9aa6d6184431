// Types shared by the store's files, and the public option and stats shapes.
import type { Logger, Registry } from '../../lib';
import type { StateApi, WatchEvent } from '../api';
import type { Kind, ObjectInput, ObjectRef, StoredObject } from '../model';

/** A watch event that carries an object (everything but BOOKMARK). */
export type ChangeEvent = Extract<WatchEvent, { object: StoredObject }>;

/** What cross-object validation may read: committed state overlaid with accepted, not yet durable writes. */
export interface StateView {
  get(ref: ObjectRef): StoredObject | undefined;
  list(kind: Kind): Iterable<StoredObject>;
}

/** The validation the store runs before it accepts a write (state/validate in production). */
export interface Validator {
  validateInput(input: unknown): ObjectInput;
  checkConsistency(next: ObjectInput, view: StateView): void;
  checkDeletion(ref: ObjectRef, view: StateView): void;
}

export interface StoreOptions {
  logger?: Logger;
  /** Where the store's metrics are registered; a private registry when absent. */
  registry?: Registry;
  /** Change events kept in memory for watch resumption. Default 100,000. */
  historyLimit?: number;
  /** A watcher whose undelivered events exceed this is ended with SY_STATE_WATCH_OVERFLOW. Default 10,000. */
  watchBufferLimit?: number;
  /** Defaults to state/validate. */
  validate?: Validator;
}

export interface EmbeddedStoreOptions extends StoreOptions {
  /** The data dir (created if missing); the store holds an exclusive lock on it. */
  dir: string;
  /** Snapshot after this many WAL records. Default 100,000. */
  snapshotEveryRecords?: number;
  /** …or after this many WAL bytes, whichever comes first. Default 64 MiB. */
  snapshotEveryBytes?: number;
}

/** An in-process subscription: events are delivered synchronously, in order, as soon as they are durable. */
export interface SubscribeOptions {
  from: number;
  kind?: Kind;
  namespace?: string;
  selector?: string;
}

export interface StoreStats {
  revision: number;
  objects: number;
  watchers: number;
  /** The oldest revision a watch can resume after, minus one. */
  compactedRevision: number;
  /** Group commits (one write + fsync each) and the changes they carried. */
  commits: number;
  committedChanges: number;
  snapshots: number;
  /** Bytes in the current WAL segment (0 for the memory store). */
  walBytes: number;
}

export interface Store extends StateApi {
  /** The last durable revision. */
  readonly revision: number;
  /** Cheap in-process fan-out: `onEvents` runs synchronously with each batch of matching events. */
  subscribe(options: SubscribeOptions, onEvents: (events: readonly ChangeEvent[]) => void): () => void;
  stats(): StoreStats;
  /** Flushes pending writes, ends watches, releases the data dir. */
  close(): Promise<void>;
}

export type EmbeddedStore = Store;
export type MemoryStore = Store;
