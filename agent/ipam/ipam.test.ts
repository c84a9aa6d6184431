import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CniError, type ReserveInput } from '../../cni';
import { allocate } from './allocator';
import { openJournal, replayJournal } from './journal';
import { createIpamStore } from './store';

const input = (id: string): ReserveInput => ({
  network: 'n',
  containerId: id,
  ifname: 'eth0',
  kind: 'plugin',
  netns: '/run/netns/x',
  portMappings: [],
  ipMasq: false,
});

describe('allocate (round-robin on integers)', () => {
  const range = { first: 10n, last: 13n };
  it.each([
    { desc: 'starts at the first address', used: [] as bigint[], cursor: undefined, want: 10n },
    { desc: 'continues after the cursor', used: [], cursor: 11n, want: 12n },
    { desc: 'skips used addresses', used: [12n, 13n], cursor: 11n, want: 10n },
    { desc: 'wraps at the end', used: [], cursor: 13n, want: 10n },
    { desc: 'ignores a cursor outside the range', used: [], cursor: 99n, want: 10n },
    { desc: 'answers undefined when full', used: [10n, 11n, 12n, 13n], cursor: 10n, want: undefined },
  ])('$desc', ({ used, cursor, want }) => {
    expect(allocate(range, (v) => used.includes(v), cursor)).toBe(want);
  });
  it('answers undefined for an empty range', () =>
    expect(allocate({ first: 2n, last: 1n }, () => false)).toBeUndefined());
});

describe('the IPAM journal and store', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sy-ipam-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replays reserve/release/cursor lines and stops at a torn tail', () => {
    const rec = { ...input('a'), ip: '198.18.1.2', createdAt: 't' };
    const text = [
      JSON.stringify({ op: 'reserve', record: rec }),
      JSON.stringify({ op: 'reserve', record: { ...rec, containerId: 'b', ip: '198.18.1.3' } }),
      JSON.stringify({ op: 'release', id: 'n/a/eth0' }),
      '{"op":"reserve","record":{"netw',
    ].join('\n');
    const state = replayJournal(text);
    expect([...state.records.keys()]).toEqual(['n/b/eth0']);
    expect(state.cursor).toBe('198.18.1.3');
  });

  it('50 concurrent reservations get 50 distinct addresses, all durable', async () => {
    const journal = await openJournal(dir);
    const store = createIpamStore({ journal });
    store.setSubnet('198.18.1.0/26');
    const records = await Promise.all(Array.from({ length: 50 }, (_, i) => store.reserve(input(`c${i}`))));
    expect(new Set(records.map((r) => r.ip)).size).toBe(50);
    await journal.close();
    const again = await openJournal(dir);
    expect(again.state.records.size).toBe(50);
    await again.close();
  });

  it('a restart keeps every reservation and the round-robin cursor; a torn tail from a crash is cut off', async () => {
    const journal = await openJournal(dir);
    const store = createIpamStore({ journal });
    store.setSubnet('198.18.1.0/26');
    const a = await store.reserve(input('a'));
    const b = await store.reserve(input('b'));
    await store.release(a);
    await journal.close();
    appendFileSync(join(dir, 'ipam.log'), '{"op":"reserve","rec'); // crash mid-write
    const reopened = await openJournal(dir);
    const after = createIpamStore({ journal: reopened });
    after.setSubnet('198.18.1.0/26');
    expect(after.list().map((r) => r.ip)).toEqual([b.ip]);
    expect((await after.reserve(input('c'))).ip).toBe('198.18.1.4'); // after the cursor, not the freed .2
    expect(readFileSync(join(dir, 'ipam.log'), 'utf8')).not.toContain('"rec\n');
    await reopened.close();
  });

  it('exhaustion is SY_CNI_IPAM_EXHAUSTED (CNI code 100) naming the subnet; a release makes room', async () => {
    const journal = await openJournal(dir);
    const store = createIpamStore({ journal });
    store.setSubnet('198.18.1.0/29'); // .2-.6 usable
    for (const id of ['a', 'b', 'c', 'd', 'e']) await store.reserve(input(id));
    const error = await store.reserve(input('f')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CniError);
    expect(error).toMatchObject({
      code: 'SY_CNI_IPAM_EXHAUSTED',
      cniCode: 100,
      message: 'no IP addresses available in node subnet 198.18.1.0/29',
    });
    await store.release(input('c'));
    expect((await store.reserve(input('f'))).ip).toBe('198.18.1.4');
    expect(store.usage()).toEqual({ used: 5, size: 5 });
    await journal.close();
  });

  it.each([
    { desc: 'no subnet yet → TRY_AGAIN (11)', setup: false, requested: undefined, code: 11 },
    {
      desc: 'requested address already held → ADDRESS_TAKEN (101)',
      setup: true,
      requested: '198.18.1.2',
      code: 101,
    },
  ])('$desc', async ({ setup, requested, code }) => {
    const journal = await openJournal(dir);
    const store = createIpamStore({ journal });
    if (setup) {
      store.setSubnet('198.18.1.0/26');
      await store.reserve(input('a'));
    }
    await expect(store.reserve(input('b'), requested)).rejects.toMatchObject({ cniCode: code });
    await journal.close();
  });

  it('a failed journal write undoes the reservation in memory', async () => {
    const store = createIpamStore({
      journal: { state: { records: new Map() }, append: () => Promise.reject(new Error('disk full')) },
    });
    store.setSubnet('198.18.1.0/26');
    await expect(store.reserve(input('a'))).rejects.toMatchObject({ cniCode: 5 });
    expect(store.list()).toEqual([]);
  });

  it('refuses a journal it cannot read', async () => {
    writeFileSync(join(dir, 'ipam.log'), '');
    rmSync(join(dir, 'ipam.log'));
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    await expect(openJournal(file)).rejects.toMatchObject({ code: 'SY_AGENT_IPAM_STORE' });
  });
});
