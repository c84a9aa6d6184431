import { eventually } from '../../../test/helpers/eventually';
import { Writable } from 'node:stream';
import { createLogger, createRegistry, type Registry } from '../../../lib';
import type { StoredObject, TaskSpec } from '../../model';
import { useCleanup } from '../../server/testing';
import { createMemoryStore, type ChangeEvent, type Store } from '../../store';
import { createMesosSource, type MesosSourceOptions } from './source';
import type { MesosSync } from './sync';
import { deadAddress, FIXTURE_LOOKUP, leaderState, startFakeMaster, type FakeMaster } from './testing';

const defer = useCleanup(afterEach);

interface World {
  store: Store;
  leader: FakeMaster;
  source: MesosSync;
  registry: Registry;
  events: ChangeEvent[];
}

async function world(options: Partial<MesosSourceOptions> = {}): Promise<World> {
  const store = createMemoryStore();
  defer(() => store.close());
  const leader = await startFakeMaster({ kind: 'leader' });
  defer(() => leader.close());
  const standby = await startFakeMaster({ kind: 'redirect', to: () => leader.address });
  defer(() => standby.close());
  const registry = createRegistry();
  const source = createMesosSource({
    api: store,
    masters: [standby.address, leader.address],
    lookup: FIXTURE_LOOKUP,
    stateTimeoutMs: 2000,
    registry,
    ...options,
  });
  defer(() => source.stop());
  const events: ChangeEvent[] = [];
  defer(store.subscribe({ from: 0 }, (batch) => events.push(...batch)));
  return { store, leader, source, registry, events };
}

async function owned(store: Store): Promise<StoredObject[]> {
  const nodes = await store.list({ kind: 'Node', selector: 'switchyard.io/source=mesos' });
  const tasks = await store.list({ kind: 'Task', selector: 'switchyard.io/source=mesos' });
  return [...nodes.items, ...tasks.items];
}

function taskOf(objects: readonly StoredObject[], id: string): StoredObject<'Task'> | undefined {
  return objects.find((o) => o.kind === 'Task' && (o.spec as TaskSpec).id === id) as
    StoredObject<'Task'> | undefined;
}

async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  const match = values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return match?.value ?? 0;
}

const WEB = 'web.0c9e2f4a-1111-11ee-8a00-0242ac110001';
const LEGACY = 'legacy.9a9a9a9a-6666-11ee-8a00-0242ac110001';

/** The fixture after one refresh: web turned unhealthy, legacy finished and left, a new task started. */
function nextState(): Record<string, unknown> {
  const state = leaderState() as { frameworks: { tasks: Record<string, unknown>[] }[] };
  const marathon = state.frameworks[0] as { tasks: Record<string, unknown>[] };
  const web = marathon.tasks.find((t) => t.id === WEB) as { statuses: Record<string, unknown>[] };
  web.statuses.push({ state: 'TASK_RUNNING', timestamp: 1700000900, healthy: false });
  marathon.tasks = marathon.tasks.filter((t) => t.id !== LEGACY);
  marathon.tasks.push({
    id: 'web.0c9e2f4a-4444-11ee-8a00-0242ac110001',
    name: 'web',
    slave_id: 'c0ffee00-0000-4000-8000-000000000000-S2',
    state: 'TASK_RUNNING',
    resources: { ports: '[31030-31030]' },
    statuses: [{ state: 'TASK_RUNNING', timestamp: 1700000950 }],
  });
  return state;
}

describe('Mesos sync against a store', () => {
  it('writes the full set once, then nothing while the state is unchanged', async () => {
    const { store, source, events } = await world();
    const first = await source.syncOnce();
    expect(first).toMatchObject({ ok: true, created: 14, updated: 0, deleted: 0, failed: 0 });
    expect(await owned(store)).toHaveLength(14);
    expect(source.hasSynced()).toBe(true);
    const revision = store.revision;
    const second = await source.syncOnce();
    expect(second).toMatchObject({ ok: true, created: 0, updated: 0, deleted: 0, unchanged: 14 });
    expect(store.revision).toBe(revision);
    expect(events).toHaveLength(14);
  });

  it('writes only the differences: one update, one create, one delete', async () => {
    const { store, leader, source, events } = await world();
    await source.syncOnce();
    const before = store.revision;
    events.length = 0;
    leader.behaviour = { kind: 'leader', state: nextState() };
    const result = await source.syncOnce();
    expect(result).toMatchObject({ ok: true, created: 1, updated: 1, deleted: 1, unchanged: 12 });
    expect(store.revision - before).toBe(3);
    expect(events.map((e) => `${e.type} ${(e.object.spec as TaskSpec).id}`).sort()).toEqual([
      `ADDED web.0c9e2f4a-4444-11ee-8a00-0242ac110001`,
      `DELETED ${LEGACY}`,
      `MODIFIED ${WEB}`,
    ]);
    expect(taskOf(await owned(store), WEB)?.spec.health).toBe('unhealthy');
  });

  it('keeps everything when no master answers, and counts the failure', async () => {
    const { store, leader, source, registry } = await world();
    await source.syncOnce();
    const revision = store.revision;
    leader.behaviour = { kind: 'status', code: 503 };
    const result = await source.syncOnce();
    expect(result.ok).toBe(false);
    expect((result.error as { code: string }).code).toBe('SY_SOURCE_UNAVAILABLE');
    expect(store.revision).toBe(revision);
    expect(await owned(store)).toHaveLength(14);
    expect(await metric(registry, 'switchyard_source_syncs_total', { result: 'fetch_failed' })).toBe(1);
  });

  it('never writes when the first fetch fails (unreachable masters)', async () => {
    const store = createMemoryStore();
    defer(() => store.close());
    const source = createMesosSource({ api: store, masters: [await deadAddress()], stateTimeoutMs: 500 });
    defer(() => source.stop());
    const result = await source.syncOnce();
    expect(result).toMatchObject({ ok: false, created: 0 });
    expect(source.hasSynced()).toBe(false);
    expect(store.revision).toBe(0);
  });

  it('logs a master that stays down once with its stack, not on every refresh', async () => {
    const store = createMemoryStore();
    defer(() => store.close());
    const lines: { msg: string; err?: unknown }[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as { msg: string });
        done();
      },
    });
    const logger = createLogger({ destination, level: 'info' });
    const source = createMesosSource({
      api: store,
      masters: [await deadAddress()],
      stateTimeoutMs: 500,
      logger,
    });
    defer(() => source.stop());
    for (let i = 0; i < 3; i++) expect(await source.syncOnce()).toMatchObject({ ok: false });
    const failures = lines.filter((l) => l.msg.startsWith('Mesos state fetch'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ msg: 'Mesos state fetch failed; keeping the current objects' });
    expect(failures[0]?.err).toBeDefined();
  });

  it('leaves objects it does not own alone, and reports a name clash with one', async () => {
    const { store, source } = await world();
    await store.apply({ kind: 'Node', name: 'someone-else', spec: { address: '198.18.9.9' } });
    await store.apply({
      kind: 'Task',
      name: WEB,
      spec: {
        app: 'mine',
        framework: 'other',
        node: 'someone-else',
        state: 'running',
        networkMode: 'host',
        ips: [],
        ports: [],
      },
    } as never);
    const result = await source.syncOnce();
    expect(result).toMatchObject({ ok: false, created: 13, failed: 1 });
    expect(result.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/exists and is not owned/)]),
    );
    expect((await store.get({ kind: 'Task', name: WEB, namespace: 'default' })).spec).toMatchObject({
      app: 'mine',
    });
    await store.delete({ kind: 'Task', name: WEB, namespace: 'default' });
    expect(await source.syncOnce()).toMatchObject({ ok: true, created: 1 });
    await store.get({ kind: 'Node', name: 'someone-else' });
  });

  it('keeps fields other writers own (a task drained by an operator)', async () => {
    const { store, source } = await world();
    await source.syncOnce();
    const web = taskOf(await owned(store), WEB) as StoredObject<'Task'>;
    await store.apply({
      kind: 'Task',
      name: web.name,
      namespace: 'default',
      labels: { ...web.labels },
      spec: { ...web.spec, draining: true },
    });
    const revision = store.revision;
    expect(await source.syncOnce()).toMatchObject({ updated: 0, unchanged: 14 });
    expect(store.revision).toBe(revision);
    expect(taskOf(await owned(store), WEB)?.spec.draining).toBe(true);
  });

  it('a second source (another cluster) owns its own objects', async () => {
    const { store, source } = await world();
    await source.syncOnce();
    const east = createMesosSource({
      api: store,
      masters: [await deadAddress()],
      sourceName: 'mesos-east',
      stateTimeoutMs: 500,
    });
    defer(() => east.stop());
    await east.syncOnce();
    expect(await owned(store)).toHaveLength(14);
  });
});

/** Timers the test fires by hand: no sleeps, no waiting for the interval. */
function manualTimers() {
  const pending = new Map<number, { fn: () => void; ms: number }>();
  let next = 0;
  return {
    pending,
    timers: {
      setTimeout: (fn: () => void, ms: number) => {
        pending.set(++next, { fn, ms });
        return next;
      },
      clearTimeout: (handle: unknown) => void pending.delete(handle as number),
    },
    /** Run the one scheduled tick. */
    fire() {
      expect(pending.size).toBe(1);
      const [handle, entry] = [...pending][0] as [number, { fn: () => void }];
      pending.delete(handle);
      entry.fn();
    },
  };
}

describe('the sync loop', () => {
  it('polls on its interval with real timers and picks up changes', async () => {
    const { store, leader, source } = await world({ intervalMs: 20 });
    expect((await source.start()).ok).toBe(true);
    leader.behaviour = { kind: 'leader', state: nextState() };
    await eventually(async () => expect(taskOf(await owned(store), LEGACY)).toBeUndefined(), 5000);
  });

  it('schedules the next sync after each one, survives a failing master, and stops cleanly', async () => {
    const clock = manualTimers();
    const { store, leader, source } = await world({ intervalMs: 60_000, timers: clock.timers });
    expect((await source.start()).ok).toBe(true);
    expect([...clock.pending.values()].map((p) => p.ms)).toEqual([60_000]);
    leader.behaviour = { kind: 'body', text: 'not json' };
    clock.fire();
    await eventually(() => expect(clock.pending.size).toBe(1));
    expect(await owned(store)).toHaveLength(14);
    leader.behaviour = { kind: 'leader', state: nextState() };
    clock.fire();
    await eventually(async () => expect(taskOf(await owned(store), LEGACY)).toBeUndefined());
    await eventually(() => expect(clock.pending.size).toBe(1));
    await source.stop();
    expect(clock.pending.size).toBe(0);
  });

  it('stops when its signal aborts', async () => {
    const clock = manualTimers();
    const abort = new AbortController();
    const { source } = await world({ timers: clock.timers, signal: abort.signal });
    await source.start();
    expect(clock.pending.size).toBe(1);
    abort.abort();
    await source.stop();
    expect(clock.pending.size).toBe(0);
    expect(await source.syncOnce()).toMatchObject({ ok: false });
  });
});
