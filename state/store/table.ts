// The in-memory object table (committed, durable state), the overlay of accepted-but-not-yet-durable
// writes that validation reads through, and the small pure helpers around stored objects.
import {
  CLUSTER_SCOPED,
  DEFAULT_NAMESPACE,
  KINDS,
  objectKey,
  type Kind,
  type ObjectInput,
  type ObjectRef,
} from '../model';
import type { StoredObject } from '../model';
import type { StateView } from './types';

/** Committed objects, one map per kind, in creation order (Map keeps insertion order; updates keep their place). */
export class ObjectTable {
  private readonly kinds = new Map<Kind, Map<string, StoredObject>>(KINDS.map((kind) => [kind, new Map()]));

  of(kind: Kind): Map<string, StoredObject> {
    const map = this.kinds.get(kind);
    if (map === undefined) throw new Error(`unknown kind ${kind}`);
    return map;
  }

  get(kind: Kind, key: string): StoredObject | undefined {
    return this.of(kind).get(key);
  }

  get size(): number {
    let total = 0;
    for (const map of this.kinds.values()) total += map.size;
    return total;
  }

  /** Every object, as an array that later writes do not change (objects themselves are immutable). */
  all(): StoredObject[] {
    const out: StoredObject[] = [];
    for (const map of this.kinds.values()) for (const obj of map.values()) out.push(obj);
    return out;
  }
}

/** A write the store accepted (validated, revision assigned) that is not durable yet. */
export interface PendingWrite {
  /** The object after the write; undefined for a delete. */
  object: StoredObject | undefined;
  /** Settles when the write's group commit is durable (or failed). */
  durable: Promise<void>;
}

const ALREADY_DURABLE: Promise<void> = Promise.resolve();

/** What the next write sees: the committed table overlaid with pending writes. */
export class OverlayView implements StateView {
  private readonly pending = new Map<Kind, Map<string, PendingWrite>>();

  constructor(private readonly table: ObjectTable) {}

  /** The current object (pending or committed) and, when pending, the promise of its durability. */
  lookup(kind: Kind, key: string): PendingWrite | undefined {
    const pending = this.pending.get(kind)?.get(key);
    if (pending !== undefined) return pending;
    const committed = this.table.get(kind, key);
    return committed === undefined ? undefined : { object: committed, durable: ALREADY_DURABLE };
  }

  get(ref: ObjectRef): StoredObject | undefined {
    return this.lookup(ref.kind, objectKey(ref))?.object;
  }

  *list(kind: Kind): Iterable<StoredObject> {
    const committed = this.table.of(kind);
    const pending = this.pending.get(kind);
    if (pending === undefined) {
      yield* committed.values();
      return;
    }
    for (const [key, obj] of committed) if (!pending.has(key)) yield obj;
    for (const write of pending.values()) if (write.object !== undefined) yield write.object;
  }

  setPending(kind: Kind, key: string, write: PendingWrite): void {
    let map = this.pending.get(kind);
    if (map === undefined) {
      map = new Map();
      this.pending.set(kind, map);
    }
    map.set(key, write);
  }

  /** Forgets a pending write once committed — unless a later write to the key replaced it. */
  clearPending(kind: Kind, key: string, durable: Promise<void>): void {
    const map = this.pending.get(kind);
    if (map?.get(key)?.durable !== durable) return;
    map.delete(key);
    if (map.size === 0) this.pending.delete(kind);
  }

  clearAll(): void {
    this.pending.clear();
  }
}

/** The stored envelope for a validated input, frozen: stores, watchers and caches share it. */
export function buildStoredObject(
  input: ObjectInput,
  revision: number,
  createRevision: number,
): StoredObject {
  const base = { kind: input.kind, name: input.name };
  const namespace = CLUSTER_SCOPED.has(input.kind) ? {} : { namespace: input.namespace ?? DEFAULT_NAMESPACE };
  return deepFreeze({
    ...base,
    ...namespace,
    labels: input.labels ?? {},
    revision,
    createRevision,
    spec: input.spec,
  } as StoredObject);
}

export function refOf(input: ObjectRef): ObjectRef {
  if (CLUSTER_SCOPED.has(input.kind)) return { kind: input.kind, name: input.name };
  return { kind: input.kind, name: input.name, namespace: input.namespace ?? DEFAULT_NAMESPACE };
}

/** True when applying `next` over `current` would change nothing (labels and spec equal). */
export function sameContent(current: StoredObject, next: ObjectInput): boolean {
  return jsonEqual(current.labels, next.labels ?? {}) && jsonEqual(current.spec, next.spec);
}

/** Deep equality of JSON values; object key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  const aRec = a as Record<string, unknown>;
  const bRec = b as Record<string, unknown>;
  // Keys whose value is undefined are absent once serialised.
  const aKeys = Object.keys(aRec).filter((k) => aRec[k] !== undefined);
  const bKeys = Object.keys(bRec).filter((k) => bRec[k] !== undefined);
  return aKeys.length === bKeys.length && aKeys.every((k) => jsonEqual(aRec[k], bRec[k]));
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
