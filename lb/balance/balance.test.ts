import { ConsistentHashBalancer } from './consistent-hash';
import { LeastConnectionsBalancer } from './least-connections';
import { RoundRobinBalancer } from './round-robin';
import type { Candidate } from './types';

const c = (id: string, weight = 1, active = 0): Candidate => ({ id, weight, active });

function sequence(pick: () => Candidate | undefined, n: number): string {
  return Array.from({ length: n }, () => pick()?.id).join('');
}

describe('smooth weighted round-robin', () => {
  const cases = [
    { desc: 'equal weights alternate', candidates: [c('a'), c('b'), c('c')], n: 6, expected: 'abcabc' },
    {
      desc: 'weights 5:1:1 are spread out',
      candidates: [c('a', 5), c('b'), c('c')],
      n: 7,
      expected: 'aabacaa',
    },
    { desc: 'weights 2:1', candidates: [c('a', 2), c('b')], n: 6, expected: 'abaaba' },
  ];
  test.each(cases)('$desc', ({ candidates, n, expected }) => {
    const rr = new RoundRobinBalancer();
    expect(sequence(() => rr.pick(candidates), n)).toBe(expected);
  });

  test('positions survive a candidate leaving and coming back', () => {
    const rr = new RoundRobinBalancer();
    const all = [c('a'), c('b'), c('c')];
    expect(sequence(() => rr.pick(all), 2)).toBe('ab');
    expect(rr.pick([c('a'), c('c')])?.id).toBe('c');
    expect(rr.pick([])).toBeUndefined();
  });
});

describe('least connections', () => {
  test.each([
    { desc: 'fewest active wins', candidates: [c('a', 1, 3), c('b', 1, 1), c('c', 1, 2)], expected: 'b' },
    { desc: 'active is divided by weight', candidates: [c('a', 4, 4), c('b', 1, 2)], expected: 'a' },
  ])('$desc', ({ candidates, expected }) => {
    expect(new LeastConnectionsBalancer().pick(candidates)?.id).toBe(expected);
  });

  test('ties rotate', () => {
    const lc = new LeastConnectionsBalancer();
    const picks = new Set(Array.from({ length: 6 }, () => lc.pick([c('a'), c('b'), c('c')])?.id));
    expect(picks).toEqual(new Set(['a', 'b', 'c']));
  });
});

describe('consistent hashing', () => {
  const backends = Array.from({ length: 5 }, (_, i) => c(`Task/default/web-${i}#8080`));
  const keys = Array.from({ length: 2000 }, (_, i) => `198.18.${i >> 8}.${i & 255}`);

  test('the same key always goes to the same backend, and keys spread', () => {
    const ch = new ConsistentHashBalancer();
    const first = keys.map((k) => ch.pick(backends, { hashKey: k })?.id);
    expect(keys.map((k) => ch.pick(backends, { hashKey: k })?.id)).toEqual(first);
    const counts = new Map<string, number>();
    for (const id of first) counts.set(id ?? '', (counts.get(id ?? '') ?? 0) + 1);
    expect(counts.size).toBe(5);
    for (const n of counts.values()) expect(n).toBeGreaterThan(2000 / 5 / 2);
  });

  test('removing one backend moves only the keys it owned', () => {
    const ch = new ConsistentHashBalancer();
    const before = keys.map((k) => ch.pick(backends, { hashKey: k })?.id);
    const removed = backends[2]?.id;
    const after = keys.map(
      (k) =>
        ch.pick(
          backends.filter((b) => b.id !== removed),
          { hashKey: k },
        )?.id,
    );
    const moved = before.filter((id, i) => id !== after[i]);
    expect(moved.every((id) => id === removed)).toBe(true);
    expect(moved.length).toBe(before.filter((id) => id === removed).length);
  });
});
