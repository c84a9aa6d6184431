import { Registry } from '../../lib';
import { StateErrorCode } from '../errors';
import type { ObjectInput } from '../model';
import { createMemoryStore, defaultValidator, type Store, type Validator } from './index';
import { taskInput } from './testing';

const stores: Store[] = [];
function newStore(options: Parameters<typeof createMemoryStore>[0] = {}): Store {
  const store = createMemoryStore(options);
  stores.push(store);
  return store;
}
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

const network: ObjectInput<'Network'> = {
  kind: 'Network',
  name: 'default',
  spec: {
    podCIDR: '198.18.0.0/16',
    nodeSubnetPrefix: 24,
    serviceCIDR: '198.19.0.0/16',
    dns: {
      mesosDomain: 'mesos',
      clusterDomain: 'cluster.local',
      vipDomain: 'l4lb.thisdcos.directory',
      upstreams: [],
    },
  },
};

function node(name: string, podSubnet: string): ObjectInput<'Node'> {
  return { kind: 'Node', name, spec: { address: '127.0.0.1', podSubnet } };
}

describe('memory store: CRUD and revisions', () => {
  it('creates, updates and deletes with one revision per change', async () => {
    const store = newStore();
    const created = await store.apply(taskInput('web-1'));
    expect(created).toMatchObject({
      kind: 'Task',
      name: 'web-1',
      namespace: 'default',
      revision: 1,
      createRevision: 1,
    });
    expect(store.revision).toBe(1);

    const updated = await store.apply(taskInput('web-1', { generation: 1 }));
    expect(updated).toMatchObject({ revision: 2, createRevision: 1 });
    expect(await store.get({ kind: 'Task', name: 'web-1' })).toBe(updated);

    const deleted = await store.delete({ kind: 'Task', name: 'web-1', namespace: 'default' });
    expect(deleted).toMatchObject({ revision: 3, createRevision: 1, spec: updated.spec });
    expect(store.revision).toBe(3);
    await expect(store.get({ kind: 'Task', name: 'web-1' })).rejects.toMatchObject({
      code: StateErrorCode.NOT_FOUND,
    });
    await expect(store.delete({ kind: 'Task', name: 'web-1' })).rejects.toMatchObject({
      code: StateErrorCode.NOT_FOUND,
    });
  });

  it('treats an identical apply as a no-op: same object, no revision, no event', async () => {
    const store = newStore();
    const first = await store.apply(taskInput('web-1'));
    const events: number[] = [];
    store.subscribe({ from: store.revision }, (batch) => events.push(...batch.map((e) => e.revision)));
    const again = await store.apply(taskInput('web-1'));
    expect(again).toBe(first);
    expect(store.revision).toBe(1);
    expect(events).toEqual([]);
    const relabelled = await store.apply(taskInput('web-1', { labels: { app: 'web', tier: 'front' } }));
    expect(relabelled.revision).toBe(2);
    expect(events).toEqual([2]);
  });

  it('returns frozen objects that callers cannot change', async () => {
    const store = newStore();
    const obj = await store.apply(taskInput('web-1'));
    expect(Object.isFrozen(obj)).toBe(true);
    expect(Object.isFrozen(obj.spec)).toBe(true);
    expect(Object.isFrozen(obj.labels)).toBe(true);
  });

  const conflicts: Array<{ desc: string; existing: boolean; expectedRevision: number; code?: string }> = [
    { desc: 'expectedRevision 0 on a new object', existing: false, expectedRevision: 0 },
    {
      desc: 'expectedRevision 0 on an existing object',
      existing: true,
      expectedRevision: 0,
      code: 'SY_STATE_CONFLICT',
    },
    { desc: 'the current revision', existing: true, expectedRevision: 1 },
    { desc: 'a stale revision', existing: true, expectedRevision: 7, code: 'SY_STATE_CONFLICT' },
    {
      desc: 'a revision on a missing object',
      existing: false,
      expectedRevision: 1,
      code: 'SY_STATE_CONFLICT',
    },
  ];
  it.each(conflicts)('apply with $desc', async ({ existing, expectedRevision, code }) => {
    const store = newStore();
    if (existing) await store.apply(taskInput('web-1'));
    const write = store.apply(taskInput('web-1', { generation: 5 }), { expectedRevision });
    if (code === undefined) await expect(write).resolves.toMatchObject({ name: 'web-1' });
    else await expect(write).rejects.toMatchObject({ code });
    expect(store.revision).toBe((existing ? 1 : 0) + (code === undefined ? 1 : 0));
  });

  it('checks expectedRevision on delete', async () => {
    const store = newStore();
    await store.apply(taskInput('web-1'));
    await expect(
      store.delete({ kind: 'Task', name: 'web-1' }, { expectedRevision: 9 }),
    ).rejects.toMatchObject({
      code: StateErrorCode.CONFLICT,
    });
    await expect(
      store.delete({ kind: 'Task', name: 'web-1' }, { expectedRevision: 1 }),
    ).resolves.toMatchObject({
      revision: 2,
    });
  });

  it('rejects invalid input before storing anything, naming the field', async () => {
    const store = newStore();
    const bad = taskInput('web-1');
    bad.spec.ports = [{ containerPort: 70000, protocol: 'tcp' }];
    await expect(store.apply(bad)).rejects.toMatchObject({
      code: StateErrorCode.INVALID,
      field: 'spec.ports[0].containerPort',
    });
    expect(store.revision).toBe(0);
    expect((await store.list({ kind: 'Task' })).items).toEqual([]);
  });

  it('refuses work once closed', async () => {
    const store = newStore();
    await store.close();
    await expect(store.apply(taskInput('web-1'))).rejects.toMatchObject({ code: StateErrorCode.UNAVAILABLE });
    await expect(store.list({ kind: 'Task' })).rejects.toMatchObject({ code: StateErrorCode.UNAVAILABLE });
  });
});

describe('memory store: list', () => {
  let store: Store;
  beforeEach(async () => {
    store = newStore();
    await store.apply(taskInput('web-1', { labels: { app: 'web', tier: 'front' } }));
    await store.apply(taskInput('web-2', { labels: { app: 'web' }, namespace: 'prod' }));
    await store.apply(taskInput('db-1', { labels: { app: 'db' }, namespace: 'prod' }));
    await store.apply(network);
  });

  const cases: Array<{ desc: string; query: Parameters<Store['list']>[0]; names: string[] }> = [
    { desc: 'all tasks, in creation order', query: { kind: 'Task' }, names: ['web-1', 'web-2', 'db-1'] },
    { desc: 'one namespace', query: { kind: 'Task', namespace: 'prod' }, names: ['web-2', 'db-1'] },
    { desc: 'an equality selector', query: { kind: 'Task', selector: 'app=web' }, names: ['web-1', 'web-2'] },
    { desc: 'a set selector', query: { kind: 'Task', selector: 'app in (db),!tier' }, names: ['db-1'] },
    {
      desc: 'namespace and selector',
      query: { kind: 'Task', namespace: 'prod', selector: 'app!=db' },
      names: ['web-2'],
    },
    { desc: 'an empty kind', query: { kind: 'Service' }, names: [] },
    {
      desc: 'a cluster-scoped kind ignores the namespace',
      query: { kind: 'Network', namespace: 'prod' },
      names: ['default'],
    },
  ];
  it.each(cases)('lists $desc', async ({ query, names }) => {
    const result = await store.list(query);
    expect(result.items.map((o) => o.name)).toEqual(names);
    expect(result.revision).toBe(4);
  });

  it('rejects a bad selector naming the field', async () => {
    await expect(store.list({ kind: 'Task', selector: 'app in (' })).rejects.toMatchObject({
      code: StateErrorCode.INVALID,
      field: 'selector',
    });
  });
});

describe('memory store: group commit and the overlay', () => {
  it('lets exactly one of two racing writes pass a check only one may pass', async () => {
    // A toy rule: no two tasks may carry the same `slot` label. Both writes are issued in one turn,
    // so the second is validated while the first is accepted but not yet durable.
    const validator: Validator = {
      ...defaultValidator,
      checkConsistency(next, view) {
        const slot = next.labels?.slot;
        for (const other of view.list(next.kind)) {
          if (other.name !== next.name && slot !== undefined && other.labels.slot === slot) {
            throw Object.assign(new Error(`slot ${slot} taken`), { code: 'SY_STATE_CONFLICT' });
          }
        }
      },
    };
    const store = newStore({ validate: validator });
    const results = await Promise.allSettled([
      store.apply(taskInput('a', { labels: { slot: '1' } })),
      store.apply(taskInput('b', { labels: { slot: '1' } })),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect((await store.list({ kind: 'Task' })).items.map((o) => o.name)).toEqual(['a']);
  });

  it('sees pending node subnets with the real rules: overlapping leases cannot both land', async () => {
    const store = newStore();
    await store.apply(network);
    const results = await Promise.allSettled([
      store.apply(node('node-a', '198.18.7.0/24')),
      store.apply(node('node-b', '198.18.7.0/24')),
      store.apply(node('node-c', '198.18.8.0/24')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(results[1]).toMatchObject({ reason: { code: StateErrorCode.CONFLICT } });
  });

  it('batches writes issued together into one commit with contiguous revisions', async () => {
    const store = newStore();
    const written = await Promise.all(Array.from({ length: 50 }, (_, i) => store.apply(taskInput(`t-${i}`))));
    expect(written.map((o) => o.revision)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(store.stats()).toMatchObject({ revision: 50, objects: 50, commits: 1, committedChanges: 50 });
  });

  it('does not show a write to readers before its commit', async () => {
    const store = newStore();
    const pending = store.apply(taskInput('web-1'));
    expect(store.revision).toBe(0);
    await expect(store.get({ kind: 'Task', name: 'web-1' })).rejects.toMatchObject({
      code: StateErrorCode.NOT_FOUND,
    });
    await pending;
    await expect(store.get({ kind: 'Task', name: 'web-1' })).resolves.toMatchObject({ revision: 1 });
  });
});

describe('memory store: metrics', () => {
  it('counts writes, objects, revision and watchers in the registry passed in', async () => {
    const registry = new Registry();
    const store = newStore({ registry });
    await store.apply(taskInput('web-1'));
    await store.apply(taskInput('web-1', { generation: 1 }));
    await store.apply(taskInput('web-2'));
    await store.delete({ kind: 'Task', name: 'web-2' });
    const unsubscribe = store.subscribe({ from: store.revision }, () => undefined);
    const text = await registry.metrics();
    expect(text).toMatch(/switchyard_state_writes_total\{op="create"\} 2/);
    expect(text).toMatch(/switchyard_state_writes_total\{op="update"\} 1/);
    expect(text).toMatch(/switchyard_state_writes_total\{op="delete"\} 1/);
    expect(text).toMatch(/switchyard_state_objects\{kind="Task"\} 1/);
    expect(text).toMatch(/switchyard_state_revision 4/);
    expect(text).toMatch(/switchyard_state_watchers 1/);
    unsubscribe();
    expect(await registry.metrics()).toMatch(/switchyard_state_watchers 0/);
  });

  it('rejects a bad option naming it', () => {
    expect(() => createMemoryStore({ historyLimit: 0 })).toThrow(
      expect.objectContaining({ code: StateErrorCode.INVALID, field: 'historyLimit' }),
    );
  });
});
