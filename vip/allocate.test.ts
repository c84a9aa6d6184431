import { parseCidr, parseIp } from '../lib';
import type { StoredObject } from '../state';
import { allocateAddresses, buildPool, hashSlot, type AddressPool, type AllocationRequest } from './allocate';
import { parseReserved } from './config';
import { VIP_ERROR_CODES } from './errors';
import { networkInput, stored } from './test-fixtures';

function poolOf(serviceCIDR: string, reserved: string[] = [], extra: string[] = []): AddressPool {
  const podCIDR = serviceCIDR.includes(':') ? 'fc00::/16' : '198.18.0.0/16';
  const networks = [
    stored<'Network'>(networkInput(serviceCIDR, 'main', podCIDR)),
    ...extra.map((cidr, i) =>
      stored<'Network'>(networkInput(cidr, `other-${i}`, `198.18.${(i + 1) * 16}.0/20`)),
    ),
  ];
  const { pool } = buildPool(networks as StoredObject<'Network'>[], {
    reserved: reserved.map((r) => parseReserved(r)),
  });
  if (pool === undefined) throw new Error('no pool');
  return pool;
}

/** Two VIP names whose hash lands on the same address of `pool`, the first sorting first. */
function collidingPair(pool: AddressPool): [string, string] {
  const seen = new Map<string, string>();
  for (let i = 0; ; i++) {
    const vip = `app-${i}.marathon`;
    const slot = hashSlot(vip, pool);
    const other = seen.get(slot);
    if (other !== undefined) return other < vip ? [other, vip] : [vip, other];
    seen.set(slot, vip);
  }
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const named = (count: number): AllocationRequest[] =>
  Array.from({ length: count }, (_, i) => ({ vip: `svc-${i}.marathon` }));

describe('allocateAddresses: deterministic', () => {
  const pool = poolOf('198.19.0.0/24');

  it('gives the same addresses for the same requests, whatever their order', () => {
    const requests = named(60);
    const first = allocateAddresses(requests, pool);
    for (const seed of [1, 7, 42]) {
      const again = allocateAddresses(shuffled(requests, seed), pool);
      expect([...again.addresses].sort()).toEqual([...first.addresses].sort());
    }
    expect(new Set(first.addresses.values()).size).toBe(60);
    expect(first.problems).toEqual([]);
    expect(first.free).toBe(254n - 60n);
  });

  it('starts at the hash slot of the object name', () => {
    const { addresses } = allocateAddresses([{ vip: 'web.marathon' }], pool);
    expect(addresses.get('web.marathon')).toBe(hashSlot('web.marathon', pool));
  });

  it('never hands out the network or broadcast address, even when the CIDR is nearly full', () => {
    const tiny = poolOf('198.19.0.0/29');
    const { addresses, problems, free } = allocateAddresses(named(6), tiny);
    expect([...addresses.values()].sort()).toEqual([
      '198.19.0.1',
      '198.19.0.2',
      '198.19.0.3',
      '198.19.0.4',
      '198.19.0.5',
      '198.19.0.6',
    ]);
    expect(problems).toEqual([]);
    expect(free).toBe(0n);
  });

  it('works the same for IPv6', () => {
    const v6 = poolOf('fd00:0:0:2::/112');
    const { addresses } = allocateAddresses(named(3), v6);
    for (const address of addresses.values()) {
      expect(address.startsWith('fd00:0:0:2::')).toBe(true);
      expect(address).not.toBe('fd00:0:0:2::');
      expect(address).not.toBe('fd00:0:0:2::ffff');
    }
    expect(allocateAddresses(shuffled(named(3), 3), v6).addresses).toEqual(addresses);
  });
});

describe('allocateAddresses: collisions', () => {
  const pool = poolOf('198.19.0.0/29');
  const [a, b] = collidingPair(pool);
  const slot = hashSlot(a, pool);
  const next = (address: string): string => {
    const value = parseIp(address).value;
    return value === parseIp('198.19.0.6').value ? '198.19.0.1' : `198.19.0.${Number(value & 0xffn) + 1}`;
  };

  it('probes to the next free address; the name first in order keeps the slot', () => {
    const { addresses } = allocateAddresses([{ vip: b }, { vip: a }], pool);
    expect(addresses.get(a)).toBe(slot);
    expect(addresses.get(b)).toBe(next(slot));
  });

  it('keeps stored addresses, so whoever came first keeps the slot (stable across restarts)', () => {
    const { addresses } = allocateAddresses([{ vip: a }, { vip: b, current: slot }], pool);
    expect(addresses.get(b)).toBe(slot);
    expect(addresses.get(a)).toBe(next(slot));
  });

  it('wraps from the last usable address to the first', () => {
    const taken = ['198.19.0.2', '198.19.0.3', '198.19.0.4', '198.19.0.5', '198.19.0.6'];
    const requests = taken.map((current, i) => ({ vip: `held-${i}.marathon`, current }));
    const { addresses } = allocateAddresses([...requests, { vip: 'new.marathon' }], pool);
    expect(addresses.get('new.marathon')).toBe('198.19.0.1');
  });
});

describe('allocateAddresses: stored, explicit and reserved addresses', () => {
  const pool = poolOf('198.19.0.0/24', ['198.19.0.0/25', '198.19.0.200'], ['198.19.128.0/24']);

  it('skips reserved ranges when hashing', () => {
    const { addresses, free } = allocateAddresses(named(40), pool);
    for (const address of addresses.values()) {
      const last = Number(parseIp(address).value & 0xffn);
      expect(last).toBeGreaterThanOrEqual(128);
      expect(address).not.toBe('198.19.0.200');
    }
    // 254 usable, 127 reserved (198.19.0.1-127) + 1 (198.19.0.200), 40 taken.
    expect(free).toBe(254n - 128n - 40n);
  });

  it('lets explicit addresses use reserved ranges and other Networks, without using up the pool', () => {
    const { addresses, problems, free } = allocateAddresses(
      [
        { vip: 'static.marathon', explicit: '198.19.0.10' },
        { vip: 'side.marathon', explicit: '198.19.128.10' },
      ],
      pool,
    );
    expect(problems).toEqual([]);
    expect(addresses.get('static.marathon')).toBe('198.19.0.10');
    expect(addresses.get('side.marathon')).toBe('198.19.128.10');
    expect(free).toBe(254n - 128n);
  });

  it('keeps a stored address even outside the hashing range', () => {
    const { addresses } = allocateAddresses([{ vip: 'old.marathon', current: '198.19.0.7' }], pool);
    expect(addresses.get('old.marathon')).toBe('198.19.0.7');
  });

  it('re-hashes a stored address that is no longer usable', () => {
    const plain = poolOf('198.19.0.0/24');
    const { addresses } = allocateAddresses([{ vip: 'old.marathon', current: '198.20.0.7' }], plain);
    expect(addresses.get('old.marathon')).toBe(hashSlot('old.marathon', plain));
  });

  it('gives a keep-only request its stored address or nothing', () => {
    const { addresses } = allocateAddresses(
      [
        { vip: 'leaving.marathon', current: '198.19.0.150', keepOnly: true },
        { vip: 'gone.marathon', current: '198.20.0.1', keepOnly: true },
      ],
      pool,
    );
    expect([...addresses]).toEqual([['leaving.marathon', '198.19.0.150']]);
  });

  it('steps around addresses held outside VIP objects, and refuses them to explicit requests', () => {
    const plain = poolOf('198.19.0.0/29');
    const held = new Map([[hashSlot('web.marathon', plain), 'Service/default/db (spec.vip.address)']]);
    const { addresses, problems, free } = allocateAddresses(
      [{ vip: 'web.marathon' }, { vip: 'x.ip.vip', explicit: hashSlot('web.marathon', plain) }],
      plain,
      held,
    );
    expect(addresses.get('web.marathon')).not.toBe(hashSlot('web.marathon', plain));
    expect(problems.map((p) => p.reason)).toEqual([
      `${hashSlot('web.marathon', plain)} is already the address of Service/default/db (spec.vip.address)`,
    ]);
    expect(free).toBe(6n - 2n);
  });

  it('lets an explicit address win over a stored one', () => {
    const { addresses } = allocateAddresses(
      [
        { vip: 'holder.marathon', current: '198.19.0.150' },
        { vip: 'asker.marathon', explicit: '198.19.0.150' },
      ],
      pool,
    );
    expect(addresses.get('asker.marathon')).toBe('198.19.0.150');
    expect(addresses.get('holder.marathon')).not.toBe('198.19.0.150');
  });

  it.each([
    {
      desc: 'outside every service CIDR',
      requests: [{ vip: 'x.ip.vip', explicit: '198.20.0.1' }],
      code: VIP_ERROR_CODES.ADDRESS_INVALID,
      reason:
        '198.20.0.1 is not inside the service CIDR of any Network: 198.19.0.0/24 (Network "main"), 198.19.128.0/24 (Network "other-0")',
    },
    {
      desc: 'the network address',
      requests: [{ vip: 'x.ip.vip', explicit: '198.19.0.0' }],
      code: VIP_ERROR_CODES.ADDRESS_INVALID,
      reason: '198.19.0.0 is the network address of 198.19.0.0/24 (Network "main")',
    },
    {
      desc: 'the broadcast address',
      requests: [{ vip: 'x.ip.vip', explicit: '198.19.128.255' }],
      code: VIP_ERROR_CODES.ADDRESS_INVALID,
      reason: '198.19.128.255 is the broadcast address of 198.19.128.0/24 (Network "other-0")',
    },
    {
      desc: 'asked for twice',
      requests: [
        { vip: 'b.prod.svc', explicit: '198.19.0.10' },
        { vip: 'a.prod.svc', explicit: '198.19.0.10' },
      ],
      code: VIP_ERROR_CODES.ADDRESS_CONFLICT,
      reason: '198.19.0.10 is already the address of VIP a.prod.svc',
    },
  ])('refuses an explicit address $desc', ({ requests, code, reason }) => {
    const { problems, addresses } = allocateAddresses(requests, pool);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.code).toBe(code);
    expect(problems[0]?.reason).toBe(reason);
    expect(addresses.size).toBe(requests.length - 1);
  });

  it('reports reserved ranges outside the pool and ignores them', () => {
    const networks = [stored<'Network'>(networkInput('198.19.0.0/24'))] as StoredObject<'Network'>[];
    const { pool: built, problems } = buildPool(networks, { reserved: [parseCidr('198.20.0.0/24')] });
    expect(built?.reserved).toEqual([]);
    expect(problems[0]?.code).toBe(VIP_ERROR_CODES.INVALID_CONFIG);
    expect(problems[0]?.reason).toBe(
      'reserved range 198.20.0.0/24 lies outside the service CIDR 198.19.0.0/24 of Network "main"; ignored',
    );
  });

  it('allocates from the named Network, or reports that it is missing', () => {
    const networks = [
      stored<'Network'>(networkInput('198.19.0.0/24', 'b')),
      stored<'Network'>(networkInput('198.19.128.0/24', 'a', '198.18.128.0/20')),
    ] as StoredObject<'Network'>[];
    expect(buildPool(networks).pool?.network).toBe('a');
    expect(buildPool(networks, { network: 'b' }).pool?.cidr.text).toBe('198.19.0.0/24');
    const missing = buildPool(networks, { network: 'c' });
    expect(missing.pool).toBeUndefined();
    expect(missing.problems[0]?.code).toBe(VIP_ERROR_CODES.NO_NETWORK);
    expect(missing.problems[0]?.message).toBe('no Network "c" exists to allocate VIP addresses from');
  });
});

describe('allocateAddresses: exhaustion', () => {
  it('says which CIDR is full and why, for every VIP left without an address', () => {
    const pool = poolOf('198.19.0.0/29', ['198.19.0.1']);
    const { addresses, problems, free } = allocateAddresses(named(7), pool);
    expect(addresses.size).toBe(5);
    expect(free).toBe(0n);
    expect(problems.map((p) => p.code)).toEqual([VIP_ERROR_CODES.EXHAUSTED, VIP_ERROR_CODES.EXHAUSTED]);
    expect(problems[0]?.message).toMatch(
      /^VIP svc-\d\.marathon: no free address left in 198\.19\.0\.0\/29 \(Network "main"\): 6 usable, 1 reserved, 5 taken; widen the service CIDR or free VIPs$/,
    );
  });

  it('has nothing to give from a /31', () => {
    const { problems } = allocateAddresses([{ vip: 'web.marathon' }], poolOf('198.19.0.0/31'));
    expect(problems[0]?.reason).toBe(
      'no free address left in 198.19.0.0/31 (Network "main"): 0 usable, 0 reserved, 0 taken',
    );
  });
});
