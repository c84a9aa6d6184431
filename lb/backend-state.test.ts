import { createBalancer } from './balance';
import { applyCheckResult, BackendStates, recordOutcome, type HealthCounters } from './backend-state';
import { DEFAULT_PASSIVE } from './config';
import { eligibleBackends } from './pick';
import type { Pool } from './route-table';

describe('active checks: HAProxy rise/fall', () => {
  const run = (start: HealthCounters, results: string): string => {
    let h = start;
    let out = '';
    for (const r of results) {
      h = applyCheckResult(h, r === '+', 2, 3);
      out += h.health === 'up' ? 'U' : 'D';
    }
    return out;
  };
  const down = { health: 'down', streak: 0 } as const;
  const up = { health: 'up', streak: 0 } as const;
  test.each([
    { desc: 'a new backend needs rise=2 passes', start: down, results: '++', expected: 'DU' },
    { desc: 'a failure while rising resets the count', start: down, results: '+-++', expected: 'DDDU' },
    { desc: 'an UP backend falls after fall=3 failures', start: up, results: '---', expected: 'UUD' },
    { desc: 'a pass between failures resets the count', start: up, results: '--+---', expected: 'UUUUUD' },
  ])('$desc', ({ start, results, expected }) => expect(run(start, results)).toBe(expected));
});

function pool(n: number): { pool: Pool; states: BackendStates } {
  const states = new BackendStates();
  const backends = Array.from({ length: n }, (_, i) => ({
    id: `b${i}`,
    taskKey: `t${i}`,
    host: '127.0.0.1',
    port: 1000 + i,
    weight: 1,
  }));
  for (const b of backends) {
    const s = states.ensure(b.id, b.host, b.port, 0);
    s.health = 'up';
  }
  const p: Pool = {
    id: 'p',
    serviceKey: 's',
    mode: 'http',
    algorithm: 'round-robin',
    hashOn: 'cookie',
    healthCheck: { type: 'tcp', path: '/', intervalMs: 1, timeoutMs: 1, rise: 1, fall: 1 },
    backends,
    signature: '',
  };
  return { pool: p, states };
}

describe('passive ejection (injected clock)', () => {
  const options = {
    ...DEFAULT_PASSIVE,
    consecutiveErrors: 3,
    baseEjectionMs: 1000,
    maxEjectionMs: 2500,
    maxEjectionPercent: 20,
  };

  test('N consecutive errors eject for a growing, capped time', () => {
    const { states } = pool(10);
    const s = states.get('b0');
    if (!s) throw new Error('no state');
    const all = [...states.values()];
    const fail = (now: number): boolean => recordOutcome(s, true, all, now, options);
    expect([fail(0), fail(0), fail(0)]).toEqual([false, false, true]);
    expect(s.isEjected(999)).toBe(true);
    expect(s.isEjected(1000)).toBe(false);
    for (let i = 0; i < 3; i++) fail(1000);
    expect(s.ejectedUntil).toBe(3000); // 2 × base
    for (let i = 0; i < 3; i++) fail(3000);
    expect(s.ejectedUntil).toBe(5500); // 3 × base capped at 2.5 s
  });

  test('a success resets the consecutive count', () => {
    const { states } = pool(10);
    const s = states.get('b0');
    if (!s) throw new Error('no state');
    const all = [...states.values()];
    recordOutcome(s, true, all, 0, options);
    recordOutcome(s, true, all, 0, options);
    recordOutcome(s, false, all, 0, options);
    expect(recordOutcome(s, true, all, 0, options)).toBe(false);
  });

  test('never more than maxEjectionPercent of a pool is ejected', () => {
    const { states } = pool(10);
    const all = [...states.values()];
    let ejected = 0;
    for (const s of all) for (let i = 0; i < 3; i++) if (recordOutcome(s, true, all, 0, options)) ejected++;
    expect(ejected).toBe(2);
  });
});

describe('eligible backends and panic mode', () => {
  test.each([
    { desc: 'ejected backends are skipped', ejected: 1, total: 4, eligible: 3 },
    { desc: 'at 50% healthy, ejected ones still skipped', ejected: 2, total: 4, eligible: 2 },
    { desc: 'below 50% healthy: panic, route to all UP', ejected: 3, total: 4, eligible: 4 },
  ])('$desc', ({ ejected, total, eligible }) => {
    const { pool: p, states } = pool(total);
    for (let i = 0; i < ejected; i++) {
      const s = states.get(`b${i}`);
      if (s) s.ejectedUntil = 10_000;
    }
    expect(eligibleBackends(p, states, 0, 50)).toHaveLength(eligible);
  });

  test('DOWN, draining, weight-0 and excluded backends are not eligible', () => {
    const { pool: p, states } = pool(5);
    const get = (id: string) => states.get(id) ?? (null as never);
    get('b0').health = 'down';
    get('b1').admin = 'drain';
    get('b2').admin = 'maint';
    const weighted: Pool = {
      ...p,
      backends: p.backends.map((b) => (b.id === 'b3' ? { ...b, weight: 0 } : b)),
    };
    expect(eligibleBackends(weighted, states, 0, 50).map((c) => c.id)).toEqual(['b4']);
    expect(eligibleBackends(weighted, states, 0, 50, new Set(['b4']))).toEqual([]);
    expect(
      createBalancer('round-robin').pick(eligibleBackends(weighted, states, 0, 50), { hashKey: '' })?.id,
    ).toBe('b4');
  });
});
