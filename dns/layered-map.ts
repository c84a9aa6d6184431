/**
 * An immutable map with cheap updates: a shared, never-mutated base plus a small overlay of
 * changes. `update` copies only the overlay (O(changes so far)), and folds it into a new base once
 * it grows past ~4·√size, so a single change costs O(√n) and the occasional fold O(n) —
 * amortised O(√n) instead of O(n) per change. Older versions stay valid: this is what lets
 * `compileZone(snapshot, prev)` be pure while recompiling only the names a change touches.
 */
const DELETED: unique symbol = Symbol('deleted');
type Slot<V> = V | typeof DELETED;

export class LayeredMap<K, V> {
  private constructor(
    private readonly base: ReadonlyMap<K, V>,
    private readonly overlay: ReadonlyMap<K, Slot<V>>,
    readonly size: number,
  ) {}

  static empty<K, V>(): LayeredMap<K, V> {
    return new LayeredMap<K, V>(new Map(), new Map(), 0);
  }

  static from<K, V>(entries: Iterable<readonly [K, V]>): LayeredMap<K, V> {
    const base = new Map<K, V>();
    for (const [k, v] of entries) base.set(k, v);
    return new LayeredMap<K, V>(base, new Map(), base.size);
  }

  get(key: K): V | undefined {
    const slot = this.overlay.get(key);
    if (slot !== undefined) return slot === DELETED ? undefined : slot;
    return this.base.get(key);
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /** A new version with `changes` applied; an `undefined` value deletes the key. */
  update(changes: ReadonlyMap<K, V | undefined>): LayeredMap<K, V> {
    if (changes.size === 0) return this;
    const overlay = new Map<K, Slot<V>>(this.overlay);
    let size = this.size;
    for (const [key, value] of changes) {
      const existed = this.get(key) !== undefined;
      if (value === undefined) {
        if (existed) size--;
        if (this.base.has(key)) overlay.set(key, DELETED);
        else overlay.delete(key);
      } else {
        if (!existed) size++;
        overlay.set(key, value);
      }
    }
    if (overlay.size > Math.max(256, 4 * Math.sqrt(size))) return LayeredMap.fold(this.base, overlay, size);
    return new LayeredMap<K, V>(this.base, overlay, size);
  }

  private static fold<K, V>(
    base: ReadonlyMap<K, V>,
    overlay: ReadonlyMap<K, Slot<V>>,
    size: number,
  ): LayeredMap<K, V> {
    const merged = new Map<K, V>(base);
    for (const [key, slot] of overlay) {
      if (slot === DELETED) merged.delete(key);
      else merged.set(key, slot);
    }
    return new LayeredMap<K, V>(merged, new Map(), size);
  }

  *entries(): IterableIterator<[K, V]> {
    for (const [key, value] of this.base) {
      if (!this.overlay.has(key)) yield [key, value];
    }
    for (const [key, slot] of this.overlay) {
      if (slot !== DELETED) yield [key, slot];
    }
  }

  *keys(): IterableIterator<K> {
    for (const [key] of this.entries()) yield key;
  }
}
