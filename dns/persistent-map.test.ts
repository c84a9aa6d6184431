import { PersistentMap, groupByKey, hashKey, type KeyIndex, type KeySet } from './persistent-map';
import { IndexStaging, members, toKeySet } from './staging';

/** A deterministic pseudo-random sequence. */
function lcg(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
}

function contents<V>(map: PersistentMap<V>): [string, V][] {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function sorted<V>(map: Map<string, V>): [string, V][] {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Two different keys whose 30-bit hashes are equal (birthday search; a few hundred thousand tries). */
function collidingKeys(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const key = `k${i}`;
    const h = hashKey(key);
    const other = seen.get(h);
    if (other !== undefined) return [other, key];
    seen.set(h, key);
  }
}

describe('PersistentMap', () => {
  const cases: Array<{ desc: string; keys: number; steps: number; batch: number }> = [
    { desc: 'a handful of keys (one bucket)', keys: 20, steps: 400, batch: 1 },
    { desc: 'thousands of keys (branches and splits), single changes', keys: 5000, steps: 3000, batch: 1 },
    { desc: 'thousands of keys, batches of changes', keys: 5000, steps: 300, batch: 40 },
  ];
  for (const c of cases) {
    it(`matches a Map under random sets and deletes: ${c.desc}`, () => {
      const random = lcg(c.keys);
      const model = new Map<string, number>();
      let map = PersistentMap.empty<number>();
      for (let step = 0; step < c.steps; step++) {
        const changes = new Map<string, number | undefined>();
        for (let b = 0; b < c.batch; b++) {
          const key = `name-${random(c.keys)}.marathon.mesos`;
          changes.set(key, random(4) === 0 ? undefined : step);
        }
        for (const [key, value] of changes) {
          if (value === undefined) model.delete(key);
          else model.set(key, value);
        }
        map = map.update(changes);
        expect(map.size).toBe(model.size);
        for (const key of changes.keys()) expect(map.get(key)).toBe(model.get(key));
      }
      expect(contents(map)).toEqual(sorted(model));
      expect(contents(PersistentMap.from(model))).toEqual(sorted(model));
    });
  }

  it('leaves older versions as they were', () => {
    const base = PersistentMap.from(Array.from({ length: 3000 }, (_, i) => [`k${i}`, i] as const));
    const next = base.update(
      new Map<string, number | undefined>([
        ['k1', -1],
        ['k2', undefined],
        ['new', 7],
      ]),
    );
    expect([base.get('k1'), base.get('k2'), base.get('new'), base.size]).toEqual([1, 2, undefined, 3000]);
    expect([next.get('k1'), next.get('k2'), next.get('new'), next.size]).toEqual([-1, undefined, 7, 3000]);
  });

  it('keeps keys whose hashes collide apart', () => {
    const [a, b] = collidingKeys();
    expect(hashKey(a)).toBe(hashKey(b));
    let map = PersistentMap.from([[a, 1] as const, [b, 2] as const]);
    expect([map.get(a), map.get(b), map.size]).toEqual([1, 2, 2]);
    map = map.update(new Map([[a, undefined]]));
    expect([map.get(a), map.get(b), map.size]).toEqual([undefined, 2, 1]);
    // Many colliding-free neighbours around them, so the pair sits deep in the trie.
    const crowd = PersistentMap.from([
      [a, 1] as const,
      [b, 2] as const,
      ...Array.from({ length: 2000 }, (_, i) => [`n${i}`, i] as const),
    ]);
    expect([crowd.get(a), crowd.get(b), crowd.get('n1999'), crowd.size]).toEqual([1, 2, 1999, 2002]);
  });

  it('from(): a later duplicate key wins; update() with no change returns the same version', () => {
    const map = PersistentMap.from<number>([['x', 1] as const, ['y', 2] as const, ['x', 3] as const]);
    expect(contents(map)).toEqual([
      ['x', 3],
      ['y', 2],
    ]);
    expect(map.update(new Map([['y', 2]]))).toBe(map);
    expect(map.update(new Map([['absent', undefined]]))).toBe(map);
    expect(
      map.update(
        new Map<string, number | undefined>([
          ['x', undefined],
          ['y', undefined],
        ]),
      ).size,
    ).toBe(0);
  });
});

describe('groupByKey', () => {
  it('groups equal keys in input order, one group per key, in trie order', () => {
    const [a, b] = collidingKeys();
    const input = ['web', a, 'db', 'web', b, a, 'db', 'web'];
    const { keys, order, starts } = groupByKey(input);
    const groups = new Map<string, number[]>();
    keys.forEach((key, g) => groups.set(key, Array.from(order.subarray(starts[g], starts[g + 1]))));
    expect(Object.fromEntries(groups)).toEqual({ web: [0, 3, 7], db: [2, 6], [a]: [1, 5], [b]: [4] });
    const built = PersistentMap.fromGrouped(
      keys,
      groupByKey(input).hashes,
      keys.map((k) => k.length),
    );
    expect(built.get('web')).toBe(3);
    expect(built.get(b)).toBe(b.length);
  });
});

describe('IndexStaging and key sets', () => {
  const cases: Array<{ desc: string; size: number; form: string }> = [
    { desc: 'one member is the string itself', size: 1, form: 'string' },
    { desc: 'a few members are an array', size: 5, form: 'array' },
    { desc: 'many members are a persistent map', size: 100, form: 'map' },
  ];
  for (const c of cases) {
    it(c.desc, () => {
      const set = toKeySet(Array.from({ length: c.size }, (_, i) => `t${i}`));
      const form = typeof set === 'string' ? 'string' : Array.isArray(set) ? 'array' : 'map';
      expect(form).toBe(c.form);
      expect([...members(set)].sort()).toEqual(Array.from({ length: c.size }, (_, i) => `t${i}`).sort());
    });
  }

  it('grows and shrinks a bucket through every form, leaving the old index intact', () => {
    let index: KeyIndex = PersistentMap.empty<KeySet>();
    const versions = [index];
    for (let i = 0; i < 40; i++) {
      const staging = new IndexStaging(index);
      staging.add('node-1', `task-${i}`);
      index = staging.commit();
      versions.push(index);
    }
    expect([...members(index.get('node-1'))].length).toBe(40);
    for (let i = 0; i < 40; i++) {
      const staging = new IndexStaging(index);
      staging.remove('node-1', `task-${i}`);
      staging.add('node-2', `task-${i}`);
      expect([...staging.current('node-1')].length).toBe(39 - i);
      index = staging.commit();
    }
    expect(index.get('node-1')).toBeUndefined();
    expect([...members(index.get('node-2'))].length).toBe(40);
    expect([...members(versions[10]?.get('node-1'))].length).toBe(10);
  });
});
