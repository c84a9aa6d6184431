import type { LayeredMap } from './layered-map';
import type { OwnedRecord } from './zone';

/** Batches add/remove on a `key → string[]` index and commits them as one new LayeredMap version. */
export class IndexStaging {
  private readonly staged = new Map<string, Set<string>>();

  constructor(private readonly base: LayeredMap<string, readonly string[]>) {}

  private touch(key: string): Set<string> {
    let set = this.staged.get(key);
    if (set === undefined) {
      set = new Set(this.base.get(key) ?? []);
      this.staged.set(key, set);
    }
    return set;
  }

  add(key: string, value: string): void {
    this.touch(key).add(value);
  }

  remove(key: string, value: string): void {
    this.touch(key).delete(value);
  }

  current(key: string): readonly string[] {
    const set = this.staged.get(key);
    return set === undefined ? (this.base.get(key) ?? []) : [...set];
  }

  commit(): LayeredMap<string, readonly string[]> {
    const changes = new Map<string, readonly string[] | undefined>();
    for (const [key, set] of this.staged) changes.set(key, set.size > 0 ? [...set] : undefined);
    return this.base.update(changes);
  }
}

export function srvTargets(list: readonly OwnedRecord[] | undefined): Set<string> {
  const out = new Set<string>();
  for (const { record } of list ?? []) if (record.data.type === 'SRV') out.add(record.data.target);
  return out;
}
