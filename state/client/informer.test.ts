import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { eventually } from '../../test/helpers/eventually';
import { createLogger, createRegistry } from '../../lib';
import type { StateApi, WatchEvent } from '../api';
import type { StoredObject } from '../model';
import {
  loadStateProto,
  toWireEvent,
  toWireObject,
  type Outgoing,
  type StateServiceHandlers,
  type WireWatchRequest,
  type WireWatchResponse,
} from '../proto';
import { startStateServer, type ServerLimits, type StateServer } from '../server';
import { node, task, TEST_TOKEN, useCleanup } from '../server/testing';
import { createMemoryStore, type MemoryStore, type StoreOptions } from '../store';
import {
  createGrpcStateClient,
  createInformer,
  type Informer,
  type InformerEvent,
  type InformerOptions,
} from '.';

const defer = useCleanup(afterEach);
const FAST = { backoff: { initialMs: 10, maxMs: 100 }, bookmarkIntervalMs: 50 };

function describeEvent(event: InformerEvent | WatchEvent): string {
  if (event.type === 'BOOKMARK') return `BOOKMARK@${event.revision}`;
  return `${event.type} ${event.object.name}@${event.object.revision}`;
}

function snapshot(objects: readonly StoredObject[]): string[] {
  return objects.map((o) => `${o.kind}/${o.namespace ?? ''}/${o.name}@${o.revision}`).sort();
}

function memoryStore(options: StoreOptions = {}): MemoryStore {
  const store = createMemoryStore(options);
  defer(() => store.close());
  return store;
}

function informerOf(options: InformerOptions): {
  informer: Informer;
  batches: InformerEvent[][];
  log: string[];
} {
  const informer = createInformer(options);
  defer(() => informer.stop());
  const batches: InformerEvent[][] = [];
  const log: string[] = [];
  informer.subscribe((events) => {
    batches.push([...events]);
    log.push(...events.map(describeEvent));
  });
  return { informer, batches, log };
}

/** A gRPC server over `store`; `restart()` closes it and starts a new one on the same address. */
async function grpcServer(store: StateApi, address = '127.0.0.1:0', limits: ServerLimits = {}) {
  const holder: { server: StateServer } = {
    server: await startStateServer({
      api: store,
      token: TEST_TOKEN,
      grpc: { address },
      registry: createRegistry(),
      limits,
    }),
  };
  defer(() => holder.server.close());
  return {
    holder,
    address: holder.server.grpcAddress ?? '',
    async restart(api: StateApi = store): Promise<void> {
      const bound = holder.server.grpcAddress ?? '';
      await holder.server.close();
      holder.server = await startStateServer({
        api,
        token: TEST_TOKEN,
        grpc: { address: bound },
        registry: createRegistry(),
        limits,
      });
    },
  };
}

function grpcClient(address: string) {
  const client = createGrpcStateClient({
    address,
    token: TEST_TOKEN,
    callTimeoutMs: 2000,
    // Reconnect quickly after a server restart.
    channelOptions: { 'grpc.initial_reconnect_backoff_ms': 20, 'grpc.max_reconnect_backoff_ms': 100 },
  });
  defer(() => client.close());
  return client;
}

describe('informer over a store', () => {
  it('lists, syncs, then follows changes in batches; get() and revision track the store', async () => {
    const store = memoryStore();
    await store.apply(task('a'));
    await store.apply(node('n1'));
    const { informer, batches, log } = informerOf({ api: store, kind: 'Task', ...FAST });
    expect(informer.hasSynced()).toBe(false);
    await informer.start();
    expect(informer.hasSynced()).toBe(true);
    expect(informer.revision).toBe(2);
    expect(snapshot(informer.list())).toEqual(['Task/default/a@1']);
    await eventually(() => log.length === 1);
    expect(log).toEqual(['ADDED a@1']);

    await Promise.all(Array.from({ length: 20 }, (_, i) => store.apply(task(`burst-${i}`))));
    await store.delete({ kind: 'Task', name: 'a', namespace: 'default' });
    await eventually(() => log.length === 22);
    expect(batches.length).toBeLessThan(22); // a burst arrives as few batches, for coalescing
    expect(informer.get({ kind: 'Task', name: 'a' })).toBeUndefined();
    expect(informer.get({ kind: 'Task', name: 'burst-3', namespace: 'default' })?.name).toBe('burst-3');
    expect(snapshot(informer.list())).toEqual(snapshot((await store.list({ kind: 'Task' })).items));
    await eventually(() => informer.revision === store.revision);

    informer.stop();
    await eventually(() => store.stats().watchers === 0);
    await store.apply(task('late'));
    expect(informer.get({ kind: 'Task', name: 'late' })).toBeUndefined();
  });

  it('follows all kinds when none is given, and a throwing subscriber does not stop the others', async () => {
    const store = memoryStore();
    await store.apply(task('a'));
    const { informer, log } = informerOf({ api: store, ...FAST });
    informer.subscribe(() => {
      throw new Error('subscriber bug');
    });
    await informer.start();
    await store.apply(node('n1'));
    await store.apply(task('b', { namespace: 'prod' }));
    await eventually(() => log.length === 3);
    expect(log).toEqual(['ADDED a@1', 'ADDED n1@2', 'ADDED b@3']);
    expect(snapshot(informer.list())).toEqual(['Node//n1@2', 'Task/default/a@1', 'Task/prod/b@3']);
  });

  it('resumes from its last revision after a watch overflow, missing nothing', async () => {
    const store = memoryStore({ watchBufferLimit: 4 });
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()),
      }),
    });
    const history: string[] = [];
    defer(store.subscribe({ from: 0, kind: 'Task' }, (events) => history.push(...events.map(describeEvent))));
    const { informer, log } = informerOf({ api: store, kind: 'Task', logger, ...FAST });
    await informer.start();
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.apply(task(`t-${i}`))));
    await eventually(() => log.length === 40);
    expect(log).toEqual(history);
    expect(lines.some((line) => line.includes('Watch overflowed; resuming'))).toBe(true);
  });

  it('start() rejects when stopped before it could sync', async () => {
    const { address, holder } = await grpcServer(memoryStore());
    await holder.server.close();
    const { informer } = informerOf({ api: grpcClient(address), ...FAST });
    const started = informer.start();
    informer.stop();
    await expect(started).rejects.toMatchObject({ code: 'SY_STATE_UNAVAILABLE' });
  });
});

describe('informer over gRPC with cut streams', () => {
  it('a watcher that disconnects and reconnects with its last revision misses nothing and sees nothing twice', async () => {
    const store = memoryStore();
    const history: string[] = [];
    defer(store.subscribe({ from: 0, kind: 'Task' }, (events) => history.push(...events.map(describeEvent))));
    const server = await grpcServer(store);
    const { informer, log } = informerOf({
      api: grpcClient(server.address),
      kind: 'Task',
      watchTimeoutMs: 400,
      ...FAST,
    });
    await informer.start();

    let cuts = 0;
    const live = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const name = `t-${i % 17}`;
      if (live.has(name) && i % 4 === 0) {
        await store.delete({ kind: 'Task', name, namespace: 'default' });
        live.delete(name);
      } else {
        await store.apply(task(name, { generation: i }));
        live.add(name);
      }
      if (i % 30 === 15) {
        // Cut the stream the informer is on, once it is back.
        await eventually(() => server.holder.server.activeWatches === 1);
        cuts += server.holder.server.endWatches();
      }
      if (i === 150 || i === 240) await server.restart(); // the writer keeps going while it is down
    }
    await eventually(() => informer.revision === store.revision && log.length === history.length, 10_000);

    expect(cuts).toBeGreaterThanOrEqual(10);
    expect(history).toHaveLength(300);
    expect(log).toEqual(history);
    const revisions = log.map((line) => Number(line.split('@')[1]));
    expect(revisions.every((revision, index) => index === 0 || revision > (revisions[index - 1] ?? 0))).toBe(
      true,
    );
    expect(snapshot(informer.list())).toEqual(snapshot((await store.list({ kind: 'Task' })).items));
  });

  it('re-lists after an expired revision and emits tombstones for objects deleted in the gap', async () => {
    const store = memoryStore({ historyLimit: 5 });
    for (const name of ['keep', 'change', 'drop-1', 'drop-2']) await store.apply(task(name));
    const server = await grpcServer(store);
    const { informer, log } = informerOf({ api: grpcClient(server.address), kind: 'Task', ...FAST });
    await informer.start();
    await eventually(() => log.length === 4);

    await server.holder.server.close(); // the informer is cut off…
    await store.delete({ kind: 'Task', name: 'drop-1', namespace: 'default' });
    await store.delete({ kind: 'Task', name: 'drop-2', namespace: 'default' });
    for (let generation = 1; generation <= 8; generation++) await store.apply(task('change', { generation }));
    await store.apply(task('new'));
    await server.restart(); // …and comes back after the history it needs was compacted

    await eventually(() => log.length === 8 && informer.revision === store.revision);
    expect(log.slice(4).sort()).toEqual([
      'ADDED new@15',
      'DELETED drop-1@3',
      'DELETED drop-2@4',
      'MODIFIED change@14',
    ]);
    expect(snapshot(informer.list())).toEqual(snapshot((await store.list({ kind: 'Task' })).items));

    await store.apply(task('after'));
    await eventually(() => log.length === 9);
    expect(log[8]).toBe('ADDED after@16');
  });

  it('re-lists when the server is behind (revision too new) and converges on what it serves', async () => {
    const first = memoryStore();
    for (const name of ['a', 'b', 'c']) await first.apply(task(name));
    const server = await grpcServer(first);
    const { informer, log } = informerOf({ api: grpcClient(server.address), kind: 'Task', ...FAST });
    await informer.start();
    expect(informer.revision).toBe(3);

    const replacement = memoryStore();
    await replacement.apply(node('n1'));
    await replacement.apply(task('a', { generation: 5 }));
    await server.restart(replacement);
    await eventually(() => log.length === 6);
    expect(log.slice(3).sort()).toEqual(['DELETED b@2', 'DELETED c@3', 'MODIFIED a@2']);
    expect(informer.revision).toBe(2);
    await replacement.apply(task('d'));
    await eventually(() => log.length === 7);
    expect(snapshot(informer.list())).toEqual(['Task/default/a@2', 'Task/default/d@3']);
  });
});

/** A stored Task as a server would send it. */
function storedTask(name: string, revision: number): StoredObject {
  const input = task(name, { generation: revision });
  return { ...input, namespace: 'default', revision, createRevision: revision } as StoredObject;
}

type Script = (call: grpc.ServerWritableStream<WireWatchRequest, Outgoing<WireWatchResponse>>) => void;

/**
 * A hand-written gRPC peer: List answers `listed` at revision `listRevision`; the n-th Watch call
 * runs `watches[n]` (later calls stay open and silent). Records each watch's `from`.
 */
async function scriptedServer(listed: StoredObject[], listRevision: number, watches: Script[]) {
  const froms: number[] = [];
  const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<never>): void =>
    callback({ code: grpc.status.UNIMPLEMENTED });
  const handlers: StateServiceHandlers = {
    Get: unimplemented,
    Apply: unimplemented,
    Delete: unimplemented,
    List: (_call, callback) => callback(null, { items: listed.map(toWireObject), revision: listRevision }),
    Watch: (call) => {
      froms.push(call.request.from);
      watches[froms.length - 1]?.(call);
    },
  };
  const server = new grpc.Server();
  server.addService(loadStateProto().service, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  defer(() => server.forceShutdown());
  return { address: `127.0.0.1:${port}`, froms };
}

/** One Watch message carrying `events` in the given order. */
function batch(...events: WatchEvent[]): Outgoing<WireWatchResponse> {
  return { events: events.map(toWireEvent) };
}

const added = (name: string, revision: number): WatchEvent => ({
  type: 'ADDED',
  revision,
  object: storedTask(name, revision),
});
const modified = (name: string, revision: number): WatchEvent => ({
  type: 'MODIFIED',
  revision,
  object: storedTask(name, revision),
});
const deleted = (name: string, revision: number): WatchEvent => ({
  type: 'DELETED',
  revision,
  object: storedTask(name, revision),
});

describe('informer over gRPC with batched watch messages', () => {
  it('applies the events of one message in order, and resumes after a cut in the middle of a commit group', async () => {
    const peer = await scriptedServer([storedTask('a', 1)], 2, [
      (call) => {
        // Commit group 3..6 in one message: order matters (tmp is added, then deleted).
        call.write(batch(added('b', 3), added('tmp', 4), modified('a', 5), deleted('tmp', 6)));
        // Commit group 7..10, cut by the server's bound after two events; then the stream breaks.
        call.write(batch(modified('b', 7), added('c', 8)));
        call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'cut' });
      },
      (call) => {
        // The resumed stream: this peer sends the whole group again; 7 and 8 must not repeat.
        call.write(batch(modified('b', 7), added('c', 8), modified('c', 9), added('d', 10)));
        call.end();
      },
    ]);
    const { informer, batches, log } = informerOf({ api: grpcClient(peer.address), kind: 'Task', ...FAST });
    await informer.start();
    await eventually(() => informer.revision === 10 && log.length === 9);
    expect(log).toEqual([
      'ADDED a@1',
      'ADDED b@3',
      'ADDED tmp@4',
      'MODIFIED a@5',
      'DELETED tmp@6',
      'MODIFIED b@7',
      'ADDED c@8',
      'MODIFIED c@9',
      'ADDED d@10',
    ]);
    expect(peer.froms.slice(0, 3)).toEqual([2, 8, 10]);
    expect(snapshot(informer.list())).toEqual([
      'Task/default/a@5',
      'Task/default/b@7',
      'Task/default/c@9',
      'Task/default/d@10',
    ]);
    // A message reaches subscribers whole and in order (one batch, or part of a bigger one).
    const first = batches.find((b) => b.some((e) => e.object.name === 'tmp'))?.map(describeEvent);
    expect(first?.join()).toContain(['ADDED b@3', 'ADDED tmp@4', 'MODIFIED a@5', 'DELETED tmp@6'].join());
  });

  it('follows a real server that splits commit groups across messages, through cuts and restarts', async () => {
    const store = memoryStore();
    const history: string[] = [];
    defer(store.subscribe({ from: 0, kind: 'Task' }, (events) => history.push(...events.map(describeEvent))));
    const server = await grpcServer(store, '127.0.0.1:0', { watchBatchMaxEvents: 3 });
    const { informer, log } = informerOf({ api: grpcClient(server.address), kind: 'Task', ...FAST });
    await informer.start();
    for (let group = 0; group < 12; group++) {
      // One commit group of 7 changes; from the second on, one of them deletes a task of the last group.
      await Promise.all(
        Array.from({ length: 7 }, (_, i) =>
          group > 0 && i === 3
            ? store.delete({ kind: 'Task', name: `g${group - 1}-0`, namespace: 'default' })
            : store.apply(task(`g${group}-${i}`)),
        ),
      );
      if (group % 4 === 1) {
        await eventually(() => server.holder.server.activeWatches === 1);
        server.holder.server.endWatches();
      }
      if (group === 6) await server.restart();
    }
    await eventually(() => informer.revision === store.revision && log.length === history.length, 10_000);
    expect(history).toHaveLength(84);
    expect(log).toEqual(history);
    expect(snapshot(informer.list())).toEqual(snapshot((await store.list({ kind: 'Task' })).items));
  });
});
