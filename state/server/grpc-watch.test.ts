import * as grpc from '@grpc/grpc-js';
import { eventually } from '../../test/helpers/eventually';
import { createRegistry } from '../../lib';
import type { WatchEvent } from '../api';
import { createGrpcStateClient } from '../client';
import type { StoredObject } from '../model';
import { loadStateProto, toWireEvent, type WireWatchResponse } from '../proto';
import { createMemoryStore, type MemoryStore, type StoreOptions } from '../store';
import { encodeWatchBatch, encodeWatchEvent } from './grpc-watch';
import { startStateServer, type ServerLimits, type StateServer } from '.';
import { task, TEST_TOKEN, useCleanup } from './testing';

const defer = useCleanup(afterEach);

async function setup(limits: ServerLimits = {}, storeOptions: StoreOptions = {}) {
  const store: MemoryStore = createMemoryStore(storeOptions);
  defer(() => store.close());
  const server: StateServer = await startStateServer({
    api: store,
    token: TEST_TOKEN,
    grpc: { address: '127.0.0.1:0' },
    registry: createRegistry(),
    limits,
  });
  defer(() => server.close());
  return { store, server, address: server.grpcAddress ?? '' };
}

/** The Watch stream as the messages on the wire: each message as the revisions it carries. */
function rawWatch(address: string, from: number) {
  const client = new (loadStateProto().Client)(address, grpc.credentials.createInsecure());
  defer(() => client.close());
  const stream = client.Watch({ from, kind: 'Task' }, new grpc.Metadata(), {});
  defer(() => stream.cancel());
  const messages: WireWatchResponse[] = [];
  stream.on('data', (message: WireWatchResponse) => messages.push(message));
  stream.on('error', () => undefined);
  const revisions = (): number[][] => messages.map((m) => m.events.map((e) => e.revision));
  return { messages, revisions };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function stored(name: string, revision: number): StoredObject {
  return Object.freeze({
    ...task(name, { generation: revision }),
    namespace: 'default',
    revision,
    createRevision: 1,
  }) as StoredObject;
}

describe('gRPC watch messages', () => {
  it('sends a commit group as one message, cut at watchBatchMaxEvents, and a catch-up likewise', async () => {
    const { store, server, address } = await setup({ watchBatchMaxEvents: 4 });
    const live = rawWatch(address, 0);
    await eventually(() => server.activeWatches === 1 && store.stats().watchers === 1);
    await Promise.all(['a', 'b', 'c'].map((name) => store.apply(task(name))));
    await eventually(() => live.messages.length === 1);
    expect(live.revisions()).toEqual([[1, 2, 3]]);

    await Promise.all(range(1, 10).map((i) => store.apply(task(`t-${i}`))));
    await eventually(() => live.revisions().flat().length === 13);
    expect(live.revisions()).toEqual([[1, 2, 3], range(4, 7), range(8, 11), [12, 13]]);

    const catchUp = rawWatch(address, 1);
    await eventually(() => catchUp.revisions().flat().length === 12);
    expect(catchUp.revisions()).toEqual([range(2, 5), range(6, 9), range(10, 13)]);
    expect(catchUp.messages[0]?.events[0]).toMatchObject({ type: 'ADDED', object: { name: 'b' } });
  });

  it('keeps a message near watchBatchMaxBytes (one bigger event still goes alone)', async () => {
    const one = encodeWatchEvent({ type: 'ADDED', revision: 1, object: stored('sizing', 1) }).length;
    const { store, address } = await setup({ watchBatchMaxBytes: one * 3 + 10 });
    for (let i = 0; i < 10; i++) await store.apply(task(`t-${i}`));
    const watch = rawWatch(address, 0);
    await eventually(() => watch.revisions().flat().length === 10);
    expect(watch.revisions().flat()).toEqual(range(1, 10));
    const { serializeWatchResponse } = loadStateProto();
    for (const message of watch.messages) {
      expect(serializeWatchResponse(message).length).toBeLessThanOrEqual(one * 3 + 10);
    }
    expect(watch.messages.length).toBeGreaterThanOrEqual(4);
  });

  it('stops reading the store while the client does not read: the watcher overflows, earlier events still arrive in order', async () => {
    const { store, server, address } = await setup(
      { watchBatchMaxEvents: 2, watchBatchMaxBytes: 4096 },
      { watchBufferLimit: 20 },
    );
    const api = createGrpcStateClient({ address, token: TEST_TOKEN });
    defer(() => api.close());
    const iterator = api.watch({ from: 0, kind: 'Task' })[Symbol.asyncIterator]();
    defer(() => iterator.return?.());
    await store.apply(task('first'));
    expect(await iterator.next()).toMatchObject({ value: { type: 'ADDED', revision: 1 } });
    // The consumer stops reading; the writer does not.
    for (let i = 0; i < 5000 && store.stats().watchers > 0; i++) {
      await store.apply(task(`t-${i}`));
      await new Promise(setImmediate); // let the server write (a memory store never waits for I/O)
    }
    expect(store.stats().watchers).toBe(0);
    const revisions: number[] = [];
    const error = await (async () => {
      for (;;) {
        const result = await iterator.next();
        if (result.done) return undefined;
        revisions.push(result.value.revision);
      }
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SY_STATE_WATCH_OVERFLOW' });
    expect(revisions).toEqual(range(2, revisions.length + 1));
    expect(revisions.length).toBeLessThan(store.revision - 1);
    await eventually(() => server.activeWatches === 0);
  });

  it('rejects a batch bound larger than the largest message sent', async () => {
    const store = createMemoryStore();
    defer(() => store.close());
    const started = startStateServer({
      api: store,
      token: TEST_TOKEN,
      grpc: { address: '127.0.0.1:0' },
      limits: { maxSendMessageBytes: 1024, watchBatchMaxBytes: 2048 },
    });
    await expect(started).rejects.toMatchObject({ field: 'limits.watchBatchMaxBytes' });
  });
});

describe('encodeWatchBatch', () => {
  const events: WatchEvent[] = [
    { type: 'ADDED', revision: 3, object: stored('a', 3) },
    { type: 'BOOKMARK', revision: 3 },
    { type: 'MODIFIED', revision: 4, object: stored('b', 4) },
    { type: 'DELETED', revision: 5, object: stored('a', 5) },
  ];

  it('is the WatchResponse the generated encoder makes, each event encoded once', () => {
    const { serializeWatchResponse, service } = loadStateProto();
    const bytes = encodeWatchBatch(events.map(encodeWatchEvent));
    expect(bytes.equals(serializeWatchResponse({ events: events.map(toWireEvent) }))).toBe(true);
    const decoded = service.Watch?.responseDeserialize(bytes) as WireWatchResponse;
    expect(decoded.events.map((e) => `${e.type}@${e.revision}`)).toEqual([
      'ADDED@3',
      'BOOKMARK@3',
      'MODIFIED@4',
      'DELETED@5',
    ]);
    expect(encodeWatchEvent(events[0] as WatchEvent)).toBe(encodeWatchEvent(events[0] as WatchEvent));
  });

  it('shares the bytes between watchers that get the same batch in the same turn, and only them', async () => {
    const objectEvents = [events[0], events[2], events[3]] as WatchEvent[];
    const first = encodeWatchBatch(objectEvents.map(encodeWatchEvent));
    expect(encodeWatchBatch(objectEvents.map(encodeWatchEvent))).toBe(first);
    const shorter = encodeWatchBatch(objectEvents.slice(0, 2).map(encodeWatchEvent));
    expect(shorter).not.toBe(first);
    expect(shorter.length).toBeLessThan(first.length);
    expect(encodeWatchBatch([encodeWatchEvent(objectEvents[1] as WatchEvent)])).toBe(
      encodeWatchEvent(objectEvents[1] as WatchEvent),
    );
    await new Promise(setImmediate); // the next turn builds its own: nothing is held for long
    const later = encodeWatchBatch(objectEvents.map(encodeWatchEvent));
    expect(later).not.toBe(first);
    expect(later.equals(first)).toBe(true);
  });
});
