import { hash32 } from '../lib';
/**
 * A persistent (immutable) string-keyed map: a hash array mapped trie (Bagwell 2001, as in
 * Clojure and Immutable.js) whose leaves are small buckets. Method and cost: a 30-bit hash picks
 * 5 bits per level; a branch has up to 32 children; a bucket is one flat array of up to
 * `BUCKET` entries `[hash, key, value, …]`, split into a branch when it overflows (unless the
 * hash is used up: then it just grows, holding keys with equal hashes). A lookup walks about
 * three branches at a million keys and scans one bucket; `update` copies only the branches on the
 * paths of the changed keys and their buckets — O(changes · (log32 n + BUCKET)), never O(n), so
 * no single change pays for the size of the zone. Buckets instead of one node per entry keep the
 * object count (and so the garbage collector's work) low: a zone has millions of entries.
 * `from` builds bottom-up from entries radix-sorted by hash, allocating each node once.
 * Old versions stay valid: this is what lets `compileZone(snapshot, prev)` be pure while
 * recompiling only the names a change touches.
 */
const BITS = 5;
const MASK = 31;
const MAX_SHIFT = 30;
const BUCKET = 32;
const STRIDE = 3;

/** `[hash, key, value, hash, key, value, …]` */
type Bucket = readonly unknown[];

interface Branch {
  readonly bitmap: number;
  readonly children: readonly Node[];
}

type Node = Branch | Bucket;

function isBucket(node: Node): node is Bucket {
  return Array.isArray(node);
}

/** The shared 32-bit string hash (lib/hash.ts), cut to 30 bits. */
export function hashKey(key: string): number {
  return hash32(key) & 0x3fffffff;
}

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  v = (v + (v >>> 4)) & 0x0f0f0f0f;
  return Math.imul(v, 0x01010101) >>> 24;
}

function indexIn(bucket: Bucket, h: number, key: string): number {
  for (let i = 0; i < bucket.length; i += STRIDE) if (bucket[i] === h && bucket[i + 1] === key) return i;
  return -1;
}

/** Distribute a bucket's entries by their chunk at `shift` into a branch of buckets. */
function split(bucket: Bucket, shift: number): Branch {
  const parts: unknown[][] = [];
  let bitmap = 0;
  for (let i = 0; i < bucket.length; i += STRIDE) {
    const chunk = ((bucket[i] as number) >>> shift) & MASK;
    bitmap |= 1 << chunk;
    (parts[chunk] ??= []).push(bucket[i], bucket[i + 1], bucket[i + 2]);
  }
  return { bitmap, children: parts.filter((p) => p !== undefined) };
}

interface Counter {
  delta: number;
}

function assoc(node: Node, shift: number, h: number, key: string, value: unknown, count: Counter): Node {
  if (isBucket(node)) {
    const at = indexIn(node, h, key);
    if (at >= 0) {
      if (node[at + 2] === value) return node;
      const copy = node.slice();
      copy[at + 2] = value;
      return copy;
    }
    if (node.length / STRIDE < BUCKET || shift >= MAX_SHIFT) {
      count.delta++;
      return [...node, h, key, value];
    }
    return assoc(split(node, shift), shift, h, key, value, count);
  }
  const bit = 1 << ((h >>> shift) & MASK);
  const index = popcount(node.bitmap & (bit - 1));
  const children = node.children.slice();
  if ((node.bitmap & bit) === 0) {
    count.delta++;
    children.splice(index, 0, [h, key, value]);
    return { bitmap: node.bitmap | bit, children };
  }
  const child = node.children[index] as Node;
  const next = assoc(child, shift + BITS, h, key, value, count);
  if (next === child) return node;
  children[index] = next;
  return { bitmap: node.bitmap, children };
}

function dissoc(node: Node, shift: number, h: number, key: string, count: Counter): Node | undefined {
  if (isBucket(node)) {
    const at = indexIn(node, h, key);
    if (at < 0) return node;
    count.delta--;
    if (node.length === STRIDE) return undefined;
    return [...node.slice(0, at), ...node.slice(at + STRIDE)];
  }
  const bit = 1 << ((h >>> shift) & MASK);
  if ((node.bitmap & bit) === 0) return node;
  const index = popcount(node.bitmap & (bit - 1));
  const child = node.children[index] as Node;
  const next = dissoc(child, shift + BITS, h, key, count);
  if (next === child) return node;
  const children = node.children.slice();
  if (next !== undefined) children[index] = next;
  else children.splice(index, 1);
  if (children.length === 0) return undefined;
  // A branch left with one bucket becomes that bucket (its entries share this level's chunk).
  if (children.length === 1 && isBucket(children[0] as Node)) return children[0];
  return { bitmap: next === undefined ? node.bitmap & ~bit : node.bitmap, children };
}

/** The hash with its 5-bit chunks reversed: sorting by it groups entries level by level. */
export function levelOrder(h: number): number {
  let out = 0;
  for (let shift = 0; shift < MAX_SHIFT; shift += BITS) out = out * 32 + ((h >>> shift) & MASK);
  return out;
}

/** Stable LSD radix sort of 0..n-1 by a 30-bit key (three 10-bit passes). */
function sortByKey(sortKeys: Uint32Array): Uint32Array {
  const n = sortKeys.length;
  let order = new Uint32Array(n);
  let next = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let pass = 0; pass < 3; pass++) {
    const shift = pass * 10;
    const counts = new Uint32Array(1025);
    for (let i = 0; i < n; i++) {
      const slot = (((sortKeys[i] as number) >>> shift) & 1023) + 1;
      counts[slot] = (counts[slot] as number) + 1;
    }
    for (let b = 0; b < 1024; b++) counts[b + 1] = (counts[b + 1] as number) + (counts[b] as number);
    for (let i = 0; i < n; i++) {
      const index = order[i] as number;
      const bucket = ((sortKeys[index] as number) >>> shift) & 1023;
      next[counts[bucket] as number] = index;
      counts[bucket] = (counts[bucket] as number) + 1;
    }
    [order, next] = [next, order];
  }
  return order;
}

/**
 * Group string keys without a large hash table (whose random accesses are what cost, at a
 * million keys): hash each key once, radix-sort by hash in trie order, then split runs of equal
 * hashes by key. Group g is `order[starts[g]] … order[starts[g + 1] - 1]` (indexes into the
 * input, in input order), under its first key instance `keys[g]`; groups come out in trie order,
 * ready for `PersistentMap.fromGrouped`.
 */
export interface Grouped {
  readonly keys: readonly string[];
  readonly hashes: readonly number[];
  readonly order: Uint32Array;
  /** One more entry than there are groups. */
  readonly starts: readonly number[];
}

export function groupByKey(input: readonly string[]): Grouped {
  const n = input.length;
  const inputHashes = new Uint32Array(n);
  const sortKeys = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const h = hashKey(input[i] as string);
    inputHashes[i] = h;
    sortKeys[i] = levelOrder(h);
  }
  const order = sortByKey(sortKeys);
  const keys: string[] = [];
  const hashes: number[] = [];
  const starts: number[] = [];
  for (let start = 0; start < n;) {
    const h = inputHashes[order[start] as number] as number;
    let end = start + 1;
    let mixed = false;
    const first = input[order[start] as number] as string;
    while (end < n && inputHashes[order[end] as number] === h) {
      if (input[order[end] as number] !== first) mixed = true;
      end++;
    }
    if (mixed) regroupRun(input, order, start, end);
    for (let i = start; i < end; i++) {
      const key = input[order[i] as number] as string;
      if (i === start || key !== keys[keys.length - 1]) {
        keys.push(key);
        hashes.push(h);
        starts.push(i);
      }
    }
    start = end;
  }
  starts.push(n);
  return { keys, hashes, order, starts };
}

/** Distinct keys with one hash (rare): make each key's entries contiguous, keeping input order. */
function regroupRun(input: readonly string[], order: Uint32Array, start: number, end: number): void {
  const byKey = new Map<string, number[]>();
  for (let i = start; i < end; i++) {
    const key = input[order[i] as number] as string;
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [order[i] as number]);
    else list.push(order[i] as number);
  }
  let at = start;
  for (const list of byKey.values()) for (const index of list) order[at++] = index;
}

/** The node for entries [lo, hi) of unique keys in trie order, which share every chunk below `shift`. */
function build(
  keys: readonly string[],
  hashes: readonly number[],
  values: readonly unknown[],
  lo: number,
  hi: number,
  shift: number,
): Node {
  if (hi - lo <= BUCKET || shift >= MAX_SHIFT) {
    const bucket = new Array<unknown>((hi - lo) * STRIDE);
    for (let i = lo, at = 0; i < hi; i++, at += STRIDE) {
      bucket[at] = hashes[i];
      bucket[at + 1] = keys[i];
      bucket[at + 2] = values[i];
    }
    return bucket;
  }
  let bitmap = 0;
  const children: Node[] = [];
  for (let start = lo; start < hi;) {
    const chunk = ((hashes[start] as number) >>> shift) & MASK;
    let end = start + 1;
    while (end < hi && (((hashes[end] as number) >>> shift) & MASK) === chunk) end++;
    bitmap |= 1 << chunk;
    children.push(build(keys, hashes, values, start, end, shift + BITS));
    start = end;
  }
  return { bitmap, children };
}

const EMPTY: Bucket = [];

export class PersistentMap<V> {
  private static readonly EMPTY_MAP = new PersistentMap<never>(EMPTY, 0);

  private constructor(
    private readonly root: Node,
    readonly size: number,
  ) {}

  static empty<V>(): PersistentMap<V> {
    return PersistentMap.EMPTY_MAP as PersistentMap<V>;
  }

  /** Build from entries (a later duplicate key wins). O(n): hash, radix-sort, build bottom-up. */
  static from<V>(entries: Iterable<readonly [string, V]>): PersistentMap<V> {
    const keys: string[] = [];
    const values: V[] = [];
    for (const [key, value] of entries) {
      keys.push(key);
      values.push(value);
    }
    const { keys: unique, hashes, order, starts } = groupByKey(keys);
    const last = unique.map((_, g) => values[order[(starts[g + 1] as number) - 1] as number] as V);
    return PersistentMap.fromGrouped(unique, hashes, last);
  }

  /** Build from unique keys in trie order with their hashes (as `groupByKey` returns them). */
  static fromGrouped<V>(
    keys: readonly string[],
    hashes: readonly number[],
    values: readonly V[],
  ): PersistentMap<V> {
    if (keys.length === 0) return PersistentMap.empty();
    return new PersistentMap<V>(build(keys, hashes, values, 0, keys.length, 0), keys.length);
  }

  get(key: string): V | undefined {
    const h = hashKey(key);
    let node = this.root;
    for (let shift = 0; !isBucket(node); shift += BITS) {
      const bit = 1 << ((h >>> shift) & MASK);
      if ((node.bitmap & bit) === 0) return undefined;
      node = node.children[popcount(node.bitmap & (bit - 1))] as Node;
    }
    for (let i = 0; i < node.length; i += STRIDE)
      if (node[i] === h && node[i + 1] === key) return node[i + 2] as V;
    return undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** A new version with `changes` applied; an `undefined` value deletes the key. */
  update(changes: ReadonlyMap<string, V | undefined>): PersistentMap<V> {
    const count: Counter = { delta: 0 };
    let root = this.root;
    for (const [key, value] of changes) {
      const h = hashKey(key);
      root =
        value === undefined
          ? (dissoc(root, 0, h, key, count) ?? EMPTY)
          : assoc(root, 0, h, key, value, count);
    }
    return root === this.root ? this : new PersistentMap<V>(root, this.size + count.delta);
  }

  *entries(): IterableIterator<[string, V]> {
    const stack: Node[] = [this.root];
    while (stack.length > 0) {
      const node = stack.pop() as Node;
      if (isBucket(node)) {
        for (let i = 0; i < node.length; i += STRIDE) yield [node[i + 1] as string, node[i + 2] as V];
      } else for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i] as Node);
    }
  }

  *keys(): IterableIterator<string> {
    for (const [key] of this.entries()) yield key;
  }
}

/**
 * A set of strings in an index bucket, in its most compact form for its size: one member as the
 * string itself, a few as a frozen array, many as a persistent map to `true`.
 */
export type KeySet = string | readonly string[] | PersistentMap<true>;
/** key → set of strings: an index whose buckets may be large and still change cheaply. */
export type KeyIndex = PersistentMap<KeySet>;
