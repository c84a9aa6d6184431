import type { WatchEvent } from '../api';
import { StateErrorCode } from '../errors';
import { createMemoryStore, type Store } from './index';
import { describeEvents, take, taskInput } from './testing';

const stores: Store[] = [];
const aborts: AbortController[] = [];
function newStore(options: Parameters<typeof createMemoryStore>[0] = {}): Store {
  const store = createMemoryStore(options);
  stores.push(store);
  return store;
}
function newSignal(): AbortSignal {
  const controller = new AbortController();
  aborts.push(controller);
  return controller.signal;
}
afterEach(async () => {
  for (const controller of aborts.splice(0)) controller.abort();
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function writeTasks(store: Store, names: string[]): Promise<void> {
  for (const name of names) await store.apply(taskInput(name));
}

describe('watch', () => {
  it('delivers changes in revision order, with the right types', async () => {
    const store = newStore();
    const iterator = store.watch({ from: 0, signal: newSignal() })[Symbol.asyncIterator]();
    const pending = take(iterator, 4);
    await store.apply(taskInput('a'));
    await store.apply(taskInput('b'));
    await store.apply(taskInput('a', { generation: 1 }));
    await store.delete({ kind: 'Task', name: 'b' });
    expect(describeEvents(await pending)).toEqual(['ADDED a@1', 'ADDED b@2', 'MODIFIED a@3', 'DELETED b@4']);
  });

  it('resumes from any revision missing nothing and repeating nothing', async () => {
    const store = newStore();
    await writeTasks(store, ['a', 'b', 'c', 'd', 'e']);
    for (const from of [0, 2, 4, 5]) {
      const iterator = store.watch({ from, signal: newSignal() })[Symbol.asyncIterator]();
      const live = take(iterator, store.revision - from + 1);
      await store.apply(taskInput(`live-${from}`));
      const revisions = (await live).map((e) => e.revision);
      const expected = Array.from({ length: store.revision - from }, (_, i) => from + i + 1);
      expect({ from, revisions }).toEqual({ from, revisions: expected });
    }
  });

  it('hands off from history to live events without a gap while writes keep coming', async () => {
    const store = newStore();
    await writeTasks(store, ['a', 'b', 'c']);
    const iterator = store.watch({ from: 1, signal: newSignal() })[Symbol.asyncIterator]();
    const writes = Promise.all([store.apply(taskInput('d')), store.apply(taskInput('e'))]);
    const events = await take(iterator, 4);
    await writes;
    expect(describeEvents(events)).toEqual(['ADDED b@2', 'ADDED c@3', 'ADDED d@4', 'ADDED e@5']);
  });

  const filters: Array<{
    desc: string;
    options: { kind?: 'Task'; namespace?: string; selector?: string };
    names: string[];
  }> = [
    { desc: 'a kind', options: { kind: 'Task' }, names: ['web-1', 'db-1', 'web-2'] },
    { desc: 'a namespace', options: { namespace: 'prod' }, names: ['db-1'] },
    { desc: 'a selector', options: { kind: 'Task', selector: 'app=web' }, names: ['web-1', 'web-2'] },
  ];
  it.each(filters)('filters by $desc', async ({ options, names }) => {
    const store = newStore();
    await store.apply(taskInput('web-1'));
    await store.apply({
      kind: 'Node',
      name: 'node-1',
      spec: { address: '127.0.0.1' },
    });
    await store.apply(taskInput('db-1', { labels: { app: 'db' }, namespace: 'prod' }));
    const iterator = store.watch({ ...options, from: 0, signal: newSignal() })[Symbol.asyncIterator]();
    const pending = take(iterator, names.length);
    await store.apply(taskInput('web-2'));
    expect((await pending).map((e) => (e.type === 'BOOKMARK' ? '' : e.object.name))).toEqual(names);
  });

  const refusals: Array<{ desc: string; historyLimit: number; from: number; code: string }> = [
    { desc: 'a compacted revision', historyLimit: 3, from: 1, code: StateErrorCode.REVISION_EXPIRED },
    {
      desc: 'a revision ahead of the store',
      historyLimit: 100,
      from: 11,
      code: StateErrorCode.REVISION_TOO_NEW,
    },
    { desc: 'a negative revision', historyLimit: 100, from: -1, code: StateErrorCode.BAD_REQUEST },
  ];
  it.each(refusals)('refuses $desc on the first iteration', async ({ historyLimit, from, code }) => {
    const store = newStore({ historyLimit });
    await writeTasks(store, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
    const iterator = store.watch({ from, signal: newSignal() })[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toMatchObject({ code });
    await expect(iterator.next()).resolves.toMatchObject({ done: true });
  });

  it('still serves the oldest retained revision', async () => {
    const store = newStore({ historyLimit: 3 });
    await writeTasks(store, ['a', 'b', 'c', 'd', 'e']);
    const iterator = store.watch({ from: 2, signal: newSignal() })[Symbol.asyncIterator]();
    expect(describeEvents(await take(iterator, 3))).toEqual(['ADDED c@3', 'ADDED d@4', 'ADDED e@5']);
  });

  it('ends a slow watcher with SY_STATE_WATCH_OVERFLOW naming where to resume, and resuming works', async () => {
    const store = newStore({ watchBufferLimit: 5 });
    const iterator = store.watch({ from: 0, signal: newSignal() })[Symbol.asyncIterator]();
    await store.apply(taskInput('t-0'));
    const first = await iterator.next();
    expect(first.value).toMatchObject({ revision: 1 });
    // The consumer stops reading while 10 more changes land.
    for (let i = 1; i <= 10; i++) await store.apply(taskInput(`t-${i}`));
    await expect(iterator.next()).rejects.toMatchObject({
      code: StateErrorCode.WATCH_OVERFLOW,
      details: { lastRevision: 1 },
    });
    expect(store.stats().watchers).toBe(0);
    const resumed = store.watch({ from: 1, signal: newSignal() })[Symbol.asyncIterator]();
    expect((await take(resumed, 10)).map((e) => e.revision)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('sends bookmarks while idle, at the current revision', async () => {
    const store = newStore();
    await writeTasks(store, ['a', 'b']);
    const watch = store.watch({ from: 2, kind: 'Service', bookmarkIntervalMs: 20, signal: newSignal() });
    const iterator = watch[Symbol.asyncIterator]();
    const [bookmark] = await take(iterator, 1);
    expect(bookmark).toEqual({ type: 'BOOKMARK', revision: 2 });
    // Unrelated changes move the bookmark's revision; no Service event is invented.
    await store.apply(taskInput('c'));
    const [next] = await take(iterator, 1);
    expect(next).toEqual({ type: 'BOOKMARK', revision: 3 });
  });

  it('ends iteration cleanly when the signal aborts, even mid-wait', async () => {
    const store = newStore();
    const controller = new AbortController();
    const iterator = store.watch({ from: 0, signal: controller.signal })[Symbol.asyncIterator]();
    const waiting = iterator.next();
    expect(store.stats().watchers).toBe(1);
    controller.abort();
    await expect(waiting).resolves.toEqual({ value: undefined, done: true });
    expect(store.stats().watchers).toBe(0);
  });

  it('ends iteration when the consumer breaks out of for-await', async () => {
    const store = newStore();
    await writeTasks(store, ['a', 'b', 'c']);
    const seen: number[] = [];
    for await (const event of store.watch({ from: 0 })) {
      seen.push(event.revision);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual([1, 2]);
    expect(store.stats().watchers).toBe(0);
  });

  it('drains queued events and ends when the store closes', async () => {
    const store = createMemoryStore();
    const iterator = store.watch({ from: 0 })[Symbol.asyncIterator]();
    const waiting = iterator.next();
    await store.apply(taskInput('a'));
    await store.close();
    expect((await waiting).value).toMatchObject({ revision: 1 });
    await expect(iterator.next()).resolves.toMatchObject({ done: true });
  });
});

describe('subscribe', () => {
  it('replays history then delivers each durable batch synchronously, filtered', async () => {
    const store = newStore();
    await store.apply(taskInput('web-1'));
    await store.apply(taskInput('db-1', { labels: { app: 'db' } }));
    const seen: WatchEvent[] = [];
    const unsubscribe = store.subscribe({ from: 0, kind: 'Task', selector: 'app=web' }, (batch) =>
      seen.push(...batch),
    );
    expect(describeEvents(seen)).toEqual(['ADDED web-1@1']);
    await Promise.all([
      store.apply(taskInput('web-2')),
      store.apply(taskInput('db-2', { labels: { app: 'db' } })),
    ]);
    expect(describeEvents(seen)).toEqual(['ADDED web-1@1', 'ADDED web-2@3']);
    unsubscribe();
    await store.apply(taskInput('web-3'));
    expect(seen).toHaveLength(2);
  });

  it('throws REVISION_EXPIRED synchronously for compacted history', async () => {
    const store = newStore({ historyLimit: 1 });
    await writeTasks(store, ['a', 'b', 'c']);
    expect(() => store.subscribe({ from: 0 }, () => undefined)).toThrow(
      expect.objectContaining({ code: StateErrorCode.REVISION_EXPIRED }),
    );
  });
});

describe('fan-out', () => {
  // Throughput is measured by `npm run bench:state`. Measured outside jest (node + swc, 2 shared cores): 10,000 applies with validation ~0.5 s, fan-out
  // to 1,000 watchers +0.1-0.3 s, and 1,000 consumers reading all 10M events ~0.7-0.9 s. Under jest every
  // await costs ~7x more, so this test reads all events of a sample of watchers.
  it('queues 10,000 updates for 1,000 watchers in order, sharing one object per change', async () => {
    const store = newStore({ watchBufferLimit: 20_000 });
    const updates = 10_000;
    const iterators = Array.from({ length: 1000 }, () =>
      store.watch({ from: 0, kind: 'Task', signal: newSignal() })[Symbol.asyncIterator](),
    );
    const writes: Array<Promise<unknown>> = [];
    for (let i = 0; i < updates; i++) writes.push(store.apply(taskInput(`t-${i % 100}`, { generation: i })));
    await Promise.all(writes);
    expect(store.stats().watchers).toBe(1000);
    const sample = iterators.filter((_, i) => i % 100 === 0);
    const seenObjects = new Set<unknown>();
    let outOfOrder = 0;
    for (const iterator of sample) {
      for (let i = 0; i < updates; i++) {
        const { value } = await iterator.next();
        if (value?.revision !== i + 1) outOfOrder++;
        if (i === 0 && value?.type !== 'BOOKMARK') seenObjects.add(value?.object);
      }
    }
    expect(outOfOrder).toBe(0);
    expect(seenObjects.size).toBe(1); // every watcher got the very same object, not a copy
  });
});
