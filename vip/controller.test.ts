import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRegistry, silentLogger, type Registry } from '../lib';
import {
  createMemoryStore,
  openEmbeddedStore,
  type ObjectInput,
  type StateApi,
  type StoredObject,
} from '../state';
import { eventually } from '../test/helpers/eventually';
import { buildPool, hashSlot } from './allocate';
import { compileVips, type VipSnapshot } from './compile';
import { resolveVipOptions } from './config';
import { VipController } from './controller';
import { VIP_ERROR_CODES, VipError } from './errors';
import { planVipWrites } from './plan';
import { FakeClock, networkInput, nodeInput, taskInput } from './test-fixtures';

type Store = ReturnType<typeof createMemoryStore>;
const GRACE = 5 * 60_000;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function startController(
  api: StateApi,
  o: { registry?: Registry; clock?: FakeClock; debounceMs?: number } = {},
): VipController {
  const controller = new VipController({
    api,
    logger: silentLogger(),
    registry: o.registry ?? createRegistry(),
    graceMs: GRACE,
    debounceMs: o.debounceMs ?? 5,
    retry: { initialMs: 5, maxMs: 50 },
    ...(o.clock === undefined ? {} : { clock: o.clock }),
  });
  cleanups.push(() => controller.stop());
  return controller;
}

function memoryStore(): Store {
  const store = createMemoryStore();
  cleanups.push(() => store.close());
  return store;
}

async function snapshotOf(api: StateApi): Promise<VipSnapshot> {
  const list = async <K extends StoredObject['kind']>(kind: K): Promise<StoredObject<K>[]> =>
    (await api.list({ kind })).items as StoredObject<K>[];
  return {
    tasks: await list('Task'),
    services: await list('Service'),
    nodes: await list('Node'),
    networks: await list('Network'),
    vips: await list('VIP'),
  };
}

/** The stored VIPs are exactly what a fresh compile of the stored state asks for. */
async function converged(api: StateApi, now = Date.now()): Promise<StoredObject<'VIP'>[]> {
  const snapshot = await snapshotOf(api);
  const plan = planVipWrites(compileVips(snapshot, { now, graceMs: GRACE }).vips, snapshot.vips);
  expect({ deletes: plan.deletes, updates: plan.updates, creates: plan.creates }).toEqual({
    deletes: [],
    updates: [],
    creates: [],
  });
  return [...snapshot.vips];
}

async function vip(api: StateApi, name: string): Promise<StoredObject<'VIP'>> {
  return (await api.get({ kind: 'VIP', name })) as StoredObject<'VIP'>;
}

async function metric(registry: Registry, name: string, labels: string): Promise<number> {
  const text = await registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return Number(line?.split(' ').pop() ?? NaN);
}

const WEB = { VIP_0: '/web:80' };

/** The store, with each write delayed by a random 0..maxMs milliseconds. */
function slowWrites(store: Store, maxMs: number): StateApi {
  const later = (): Promise<void> =>
    new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * (maxMs + 1))));
  return {
    get: (ref) => store.get(ref),
    list: (query) => store.list(query),
    watch: (options) => store.watch(options),
    apply: async (input, options) => {
      await later();
      return store.apply(input, options);
    },
    delete: async (ref, options) => {
      await later();
      return store.delete(ref, options);
    },
  };
}

describe('VipController', () => {
  it('writes the VIPs of labelled tasks and follows their changes', async () => {
    const store = memoryStore();
    await store.apply(networkInput());
    await store.apply(nodeInput());
    const registry = createRegistry();
    const controller = startController(store, { registry });
    await controller.start();
    expect(controller.hasSynced()).toBe(true);
    await store.apply(taskInput('web.1', { vip: WEB, ip: '198.18.1.2' }));
    await store.apply(taskInput('web.2', { vip: WEB, ip: '198.18.1.3' }));
    await eventually(async () => expect((await vip(store, 'web.marathon')).spec.backends).toHaveLength(2));
    await store.apply(taskInput('web.2', { vip: WEB, ip: '198.18.1.3', health: 'unhealthy' }));
    await eventually(async () =>
      expect((await vip(store, 'web.marathon')).spec.backends.map((b) => b.weight)).toEqual([1, 0]),
    );
    await converged(store);
    expect(await metric(registry, 'switchyard_vip_writes_total', 'op="create"')).toBe(1);
    expect(await registry.metrics()).toMatch(/^switchyard_vip_objects 1$/m);
  });

  it('coalesces a burst of changes into a few writes', async () => {
    const store = memoryStore();
    await store.apply(networkInput());
    const registry = createRegistry();
    await startController(store, { registry, debounceMs: 20 }).start();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        store.apply(taskInput(`web.${i}`, { vip: WEB, ip: `198.18.2.${i + 1}` })),
      ),
    );
    await eventually(async () => expect((await vip(store, 'web.marathon')).spec.backends).toHaveLength(40));
    await converged(store);
    const writes =
      (await metric(registry, 'switchyard_vip_writes_total', 'op="create"')) +
      (await metric(registry, 'switchyard_vip_writes_total', 'op="update"'));
    expect(writes).toBeLessThan(10);
  });

  it('recomputes after losing a compare-and-set race, never overwriting a newer VIP with a stale one', async () => {
    const store = memoryStore();
    await store.apply(networkInput());
    await store.apply(taskInput('web.1', { vip: WEB, ip: '198.18.1.2' }));
    let raced = false;
    // Just before the controller's first VIP write lands, another writer adds a task and writes
    // the VIP from that newer state: the controller's write (computed without web.2) must fail.
    const api: StateApi = {
      get: (ref) => store.get(ref),
      list: (query) => store.list(query),
      watch: (options) => store.watch(options),
      delete: (ref, options) => store.delete(ref, options),
      apply: async (input, options) => {
        if (input.kind === 'VIP' && !raced) {
          raced = true;
          await store.apply(taskInput('web.2', { vip: WEB, ip: '198.18.1.3' }));
          const snapshot = await snapshotOf(store);
          const [newer] = compileVips(snapshot, { now: Date.now(), graceMs: GRACE }).vips;
          await store.apply(newer as ObjectInput, { expectedRevision: 0 });
        }
        return store.apply(input, options);
      },
    };
    const registry = createRegistry();
    await startController(api, { registry }).start();
    await eventually(async () => expect((await vip(store, 'web.marathon')).spec.backends).toHaveLength(2));
    await eventually(() => converged(store));
    expect(raced).toBe(true);
    expect(
      await metric(registry, 'switchyard_vip_reconciles_total', 'result="conflict"'),
    ).toBeGreaterThanOrEqual(1);
  });

  it('two controllers racing on one store converge on one address per VIP', async () => {
    const store = memoryStore();
    await store.apply(networkInput('198.19.0.0/27'));
    const addresses = new Map<string, Set<string>>();
    const stop = store.subscribe({ from: 0, kind: 'VIP' }, (events) => {
      for (const e of events) {
        if (e.type === 'DELETED') continue;
        const seen = addresses.get(e.object.name) ?? new Set<string>();
        seen.add((e.object as StoredObject<'VIP'>).spec.address);
        addresses.set(e.object.name, seen);
      }
    });
    cleanups.push(stop);
    const registries = [createRegistry(), createRegistry()];
    // Writes reach the store after a random few milliseconds, so the two controllers' writes
    // interleave and each often computes from a state the other has already changed.
    const controllers = registries.map((registry, i) =>
      startController(slowWrites(store, 4), { registry, debounceMs: i * 3 }),
    );
    await Promise.all(controllers.map((c) => c.start()));
    // 20 VIPs in 30 usable addresses, arriving in waves: hash collisions are certain.
    for (let wave = 0; wave < 4; wave++) {
      await Promise.all(
        Array.from({ length: 5 }, (_, j) => {
          const i = wave * 5 + j;
          return store.apply(taskInput(`app-${i}.1`, { app: `app-${i}`, vip: { VIP_0: `/app-${i}:80` } }));
        }),
      );
      await new Promise((resolve) => setImmediate(resolve));
    }
    const vips = await eventually(async () => {
      const all = await converged(store);
      expect(all).toHaveLength(20);
      return all;
    }, 10_000);
    expect(new Set(vips.map((v) => v.spec.address)).size).toBe(20);
    // No VIP ever changed its address: the loser of each race recomputed instead of moving it.
    for (const [name, seen] of addresses) expect([name, seen.size]).toEqual([name, 1]);
    let conflicts = 0;
    for (const registry of registries) {
      conflicts += await metric(registry, 'switchyard_vip_reconciles_total', 'result="conflict"');
    }
    expect(conflicts).toBeGreaterThan(0);
    await Promise.all(controllers.map((c) => c.reconcileNow()));
    await converged(store);
  });

  it('keeps every address when restarted over an embedded store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-vip-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const network = networkInput('198.19.0.0/29');
    const pool = buildPool([
      { ...network, labels: {}, revision: 1, createRevision: 1 } as StoredObject<'Network'>,
    ]).pool;
    if (pool === undefined) throw new Error('no pool');
    // Two names hashing to one address; the one sorting last is created first and keeps it.
    const seen = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; pair === undefined; i++) {
      const slot = hashSlot(`app-${i}.marathon`, pool);
      const other = seen.get(slot);
      if (other !== undefined) pair = [other, `app-${i}`].sort() as [string, string];
      seen.set(slot, `app-${i}`);
    }
    const [first, last] = pair;
    const task = (app: string): ObjectInput => taskInput(`${app}.1`, { app, vip: { VIP_0: `/${app}:80` } });

    const before = await openEmbeddedStore({ dir, logger: silentLogger() });
    await before.apply(network);
    const one = startController(before);
    await one.start();
    await before.apply(task(last));
    await eventually(() => vip(before, `${last}.marathon`));
    await before.apply(task(first));
    await eventually(() => vip(before, `${first}.marathon`));
    const addressesBefore = (await converged(before)).map((v) => [v.name, v.spec.address]);
    await one.stop();
    await before.close();

    const after = await openEmbeddedStore({ dir, logger: silentLogger() });
    cleanups.push(() => after.close());
    const registry = createRegistry();
    await startController(after, { registry }).start();
    expect((await converged(after)).map((v) => [v.name, v.spec.address])).toEqual(addressesBefore);
    for (const op of ['create', 'update', 'delete']) {
      expect(await metric(registry, 'switchyard_vip_writes_total', `op="${op}"`)).toBe(0);
    }
    // Without the stored addresses the hash order would have swapped them.
    const fresh = compileVips(
      { ...(await snapshotOf(after)), vips: [] },
      { now: Date.now(), graceMs: GRACE },
    );
    expect(fresh.vips.map((v) => [v.name, v.spec.address])).not.toEqual(addressesBefore);
  });

  it('releases a VIP once its grace period has passed, and the address can be used again', async () => {
    const store = memoryStore();
    await store.apply(networkInput());
    await store.apply(taskInput('web.1', { vip: WEB }));
    const clock = new FakeClock();
    const controller = startController(store, { clock, debounceMs: 10 });
    await controller.start();
    const address = (await vip(store, 'web.marathon')).spec.address;
    await store.delete({ kind: 'Task', namespace: 'default', name: 'web.1' });
    const releasing = await eventually(async () => {
      clock.advance(10);
      const v = await vip(store, 'web.marathon');
      expect(v.spec.releaseAt).toBeDefined();
      return v;
    });
    expect(releasing.spec).toMatchObject({ address, owners: [], backends: [] });
    expect(Date.parse(releasing.spec.releaseAt ?? '')).toBeGreaterThan(clock.now() + GRACE - 1000);
    clock.advance(GRACE);
    await eventually(async () => {
      await expect(vip(store, 'web.marathon')).rejects.toMatchObject({ code: 'SY_STATE_NOT_FOUND' });
    });
    await store.apply(taskInput('db.1', { app: 'db', vip: { VIP_0: `${address}:5432` } }));
    await eventually(async () => {
      clock.advance(10);
      expect((await vip(store, `${address.replace(/\./g, '-')}.ip.vip`)).spec.address).toBe(address);
    });
  });

  it('refuses bad options at the door, naming the field', () => {
    const cases = [
      {
        options: { graceMs: -1 },
        field: 'graceMs',
        reason: 'must be a whole number of milliseconds, 0 or more, got -1',
      },
      { options: { debounceMs: 1.5 }, field: 'debounceMs', reason: 'got 1.5' },
      {
        options: { retry: { initialMs: 100, maxMs: 10 } },
        field: 'retry.maxMs',
        reason: 'must be at least retry.initialMs (100), got 10',
      },
      {
        options: { reserved: ['198.19.0.0/24', '198.19.1.1/24'] },
        field: 'reserved[1]',
        reason: 'host bits are set',
      },
      { options: { network: '' }, field: 'network', reason: 'must not be empty' },
    ];
    for (const { options, field, reason } of cases) {
      let error: unknown;
      try {
        resolveVipOptions(options);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(VipError);
      expect(error).toMatchObject({ code: VIP_ERROR_CODES.INVALID_CONFIG, field });
      expect((error as VipError).reason).toContain(reason);
    }
    expect(resolveVipOptions({ reserved: ['198.19.0.1'] }).reserved.map((r) => r.text)).toEqual([
      '198.19.0.1/32',
    ]);
  });
});
