import { PersistentMap, type KeyIndex, type KeySet } from './persistent-map';
import type { ResourceRecord } from './wire';

/** Buckets up to this size are arrays (copied on change); larger ones are persistent maps. */
const SMALL_SET = 16;

export function members(set: KeySet | undefined): Iterable<string> {
  if (set === undefined) return [];
  if (typeof set === 'string') return [set];
  return set instanceof PersistentMap ? set.keys() : set;
}

export function toKeySet(list: readonly string[]): KeySet | undefined {
  if (list.length <= 1) return list[0];
  return list.length <= SMALL_SET ? list : PersistentMap.from(list.map((m) => [m, true] as const));
}

function updateSet(
  set: KeySet | undefined,
  changes: ReadonlyMap<string, true | undefined>,
): KeySet | undefined {
  if (set instanceof PersistentMap) {
    const next = set.update(changes);
    return next.size > SMALL_SET / 2 ? next : toKeySet([...next.keys()]);
  }
  const next = new Set(members(set));
  for (const [member, present] of changes) {
    if (present) next.add(member);
    else next.delete(member);
  }
  return toKeySet([...next]);
}

/**
 * Batches adds and removes on a `key → set of strings` index and commits them as one new
 * version. Cost: O(changes · log n) — buckets are persistent sets, so a change to a bucket of a
 * hundred thousand members copies a handful of trie nodes, not the bucket.
 */
export class IndexStaging {
  private readonly staged = new Map<string, Map<string, true | undefined>>();

  constructor(private readonly base: KeyIndex) {}

  private changesOf(key: string): Map<string, true | undefined> {
    let changes = this.staged.get(key);
    if (changes === undefined) {
      changes = new Map();
      this.staged.set(key, changes);
    }
    return changes;
  }

  add(key: string, value: string): void {
    this.changesOf(key).set(value, true);
  }

  remove(key: string, value: string): void {
    this.changesOf(key).set(value, undefined);
  }

  /** The members of `key` with the staged changes applied. */
  *current(key: string): IterableIterator<string> {
    const changes = this.staged.get(key);
    for (const member of members(this.base.get(key))) if (!changes?.has(member)) yield member;
    for (const [member, present] of changes ?? []) if (present) yield member;
  }

  commit(): KeyIndex {
    const next = new Map<string, KeySet | undefined>();
    for (const [key, changes] of this.staged) next.set(key, updateSet(this.base.get(key), changes));
    return this.base.update(next);
  }
}

/** Build an index from scratch (the full compile): plain sets first, persistent once. */
export function buildIndex(buckets: ReadonlyMap<string, ReadonlySet<string> | readonly string[]>): KeyIndex {
  const out = new Map<string, KeySet>();
  for (const [key, list] of buckets) {
    const set = toKeySet([...list]);
    if (set !== undefined) out.set(key, set);
  }
  return PersistentMap.from(out);
}

export function srvTargets(records: readonly ResourceRecord[]): Set<string> {
  const out = new Set<string>();
  for (const record of records) if (record.data.type === 'SRV') out.add(record.data.target);
  return out;
}
