import type { Kind, ObjectInput, ObjectRef, StoredObject } from './model';

/**
 * The one interface every piece of Switchyard reads and writes state through. The embedded store,
 * the etcd store and the gRPC client all implement it, so the informer (list + watch with resume)
 * and every consumer work the same over any of them.
 */
export interface StateApi {
  /** Throws SY_STATE_NOT_FOUND. */
  get(ref: ObjectRef): Promise<StoredObject>;
  list(query: ListQuery): Promise<ListResult>;
  /**
   * Create or update. `expectedRevision`: 0 means "must not exist yet"; N means "must be at
   * revision N" (SY_STATE_CONFLICT otherwise). Throws SY_STATE_INVALID naming the field.
   * Resolves only once the write is durable.
   */
  apply(input: ObjectInput, options?: WriteOptions): Promise<StoredObject>;
  /** Resolves with the object as it was, at the delete's revision. Throws SY_STATE_NOT_FOUND. */
  delete(ref: ObjectRef, options?: WriteOptions): Promise<StoredObject>;
  /**
   * Ordered events with revision > `from`. Throws (on first iteration) SY_STATE_REVISION_EXPIRED
   * when `from` has been compacted away (re-list), SY_STATE_REVISION_TOO_NEW when `from` is ahead
   * of this server. Ends when `signal` aborts.
   */
  watch(options: WatchOptions): AsyncIterable<WatchEvent>;
}

export interface WriteOptions {
  expectedRevision?: number;
}

export interface ListQuery {
  kind: Kind;
  /** Only this namespace (namespaced kinds); all namespaces when absent. */
  namespace?: string;
  /** A label selector string: `app=web,tier!=db,env in (a,b),!legacy`. */
  selector?: string;
}

export interface ListResult {
  items: StoredObject[];
  /** The store revision the list reflects: watch from here to miss nothing. */
  revision: number;
}

export interface WatchOptions {
  /** Deliver events with revision > from. */
  from: number;
  /** Only this kind; all kinds when absent. */
  kind?: Kind;
  namespace?: string;
  selector?: string;
  /** A BOOKMARK event (revision only) at least this often while idle; 0 disables. */
  bookmarkIntervalMs?: number;
  signal?: AbortSignal;
}

export type WatchEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; revision: number; object: StoredObject }
  /** Nothing for you since the last event, but the store is at `revision`: resume from here. */
  | { type: 'BOOKMARK'; revision: number };
