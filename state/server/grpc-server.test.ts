import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { eventually } from '../../test/helpers/eventually';
import { createRegistry, type Registry } from '../../lib';
import type { WatchEvent } from '../api';
import { createGrpcStateClient, type GrpcStateClient } from '../client';
import { StateError } from '../errors';
import type { ObjectInput } from '../model';
import { createMemoryStore, type MemoryStore, type StoreOptions } from '../store';
import { startStateServer, type StateServer, type StateServerOptions } from '.';
import { node, task, TEST_TOKEN, useCleanup } from './testing';

const defer = useCleanup(afterEach);

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-grpc-'));
  defer(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Setup {
  store: MemoryStore;
  server: StateServer;
  registry: Registry;
  client(token?: string): GrpcStateClient;
}

async function setup(
  transport: 'tcp' | 'unix',
  serverOptions: Partial<StateServerOptions> = {},
  storeOptions: StoreOptions = {},
): Promise<Setup> {
  const store = createMemoryStore(storeOptions);
  defer(() => store.close());
  const address = transport === 'tcp' ? '127.0.0.1:0' : `unix://${path.join(tempDir(), 'state.sock')}`;
  const registry = createRegistry();
  const server = await startStateServer({
    api: store,
    token: TEST_TOKEN,
    grpc: { address },
    registry,
    ...serverOptions,
  });
  defer(() => server.close());
  return {
    store,
    server,
    registry,
    client: (token = TEST_TOKEN) => {
      const client = createGrpcStateClient({ address: server.grpcAddress ?? '', token, callTimeoutMs: 5000 });
      defer(() => client.close());
      return client;
    },
  };
}

async function failure(work: Promise<unknown>): Promise<StateError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StateError);
  return error as StateError;
}

async function firstEvents(iterable: AsyncIterable<WatchEvent>, count: number): Promise<string[]> {
  const out: string[] = [];
  for await (const event of iterable) {
    out.push(
      event.type === 'BOOKMARK'
        ? `BOOKMARK@${event.revision}`
        : `${event.type} ${event.object.name}@${event.revision}`,
    );
    if (out.length === count) break;
  }
  return out;
}

describe.each([{ transport: 'tcp' as const }, { transport: 'unix' as const }])(
  'gRPC front door over $transport',
  ({ transport }) => {
    it('gets, lists, applies with compare-and-set, and deletes', async () => {
      const { client, store } = await setup(transport);
      const api = client();
      const created = await api.apply(task('web-1', { labels: { app: 'web', tier: 'front' } }));
      expect(created).toMatchObject({
        kind: 'Task',
        name: 'web-1',
        namespace: 'default',
        revision: 1,
        createRevision: 1,
      });
      expect(created.labels).toEqual({ app: 'web', tier: 'front' });
      expect(await api.get({ kind: 'Task', name: 'web-1' })).toEqual(
        await store.get({ kind: 'Task', name: 'web-1' }),
      );
      await api.apply(node('n1'));
      await api.apply(task('db-1', { labels: { app: 'db' }, namespace: 'prod' }));

      const listed = await api.list({ kind: 'Task', selector: 'app=web' });
      expect({ names: listed.items.map((o) => o.name), revision: listed.revision }).toEqual({
        names: ['web-1'],
        revision: 3,
      });
      expect((await api.list({ kind: 'Task', namespace: 'prod' })).items.map((o) => o.name)).toEqual([
        'db-1',
      ]);
      expect((await api.list({ kind: 'Node' })).items[0]).not.toHaveProperty('namespace');

      const conflict = await failure(api.apply(task('web-1', { generation: 1 }), { expectedRevision: 7 }));
      expect(conflict.code).toBe('SY_STATE_CONFLICT');
      expect((conflict.cause as { code: number }).code).toBe(GrpcStatus.ABORTED);
      const exists = await failure(api.apply(task('web-1', { generation: 1 }), { expectedRevision: 0 }));
      expect(exists.code).toBe('SY_STATE_CONFLICT');
      expect((await api.apply(task('web-1', { generation: 1 }), { expectedRevision: 1 })).revision).toBe(4);

      const deleted = await api.delete({ kind: 'Task', name: 'web-1' });
      expect(deleted.name).toBe('web-1');
      const missing = await failure(api.get({ kind: 'Task', name: 'web-1' }));
      expect(missing.code).toBe('SY_STATE_NOT_FOUND');
      expect((missing.cause as { code: number }).code).toBe(GrpcStatus.NOT_FOUND);
    });

    it.each([
      {
        desc: 'an invalid object → INVALID_ARGUMENT with field and reason',
        token: TEST_TOKEN,
        input: {
          ...task('a'),
          spec: { ...task('a').spec, ports: [{ containerPort: 70000, protocol: 'tcp' }] },
        },
        code: 'SY_STATE_INVALID',
        status: GrpcStatus.INVALID_ARGUMENT,
        field: 'spec.ports[0].containerPort',
      },
      {
        desc: 'an unknown kind',
        token: TEST_TOKEN,
        input: { ...task('a'), kind: 'Widget' },
        code: 'SY_STATE_INVALID',
        status: GrpcStatus.INVALID_ARGUMENT,
        field: 'kind',
      },
      {
        desc: 'no token → UNAUTHENTICATED',
        token: '',
        input: task('a'),
        code: 'SY_STATE_UNAUTHENTICATED',
        status: GrpcStatus.UNAUTHENTICATED,
      },
      {
        desc: 'a wrong token → UNAUTHENTICATED',
        token: 'wrong',
        input: task('a'),
        code: 'SY_STATE_UNAUTHENTICATED',
        status: GrpcStatus.UNAUTHENTICATED,
      },
    ])('apply with $desc, and nothing changes', async ({ token, input, code, status, field }) => {
      const { client, store } = await setup(transport);
      const error = await failure(client(token).apply(input as ObjectInput));
      expect(error.code).toBe(code);
      expect((error.cause as { code: number }).code).toBe(status);
      if (field !== undefined) {
        expect(error.field).toBe(field);
        expect(typeof error.reason).toBe('string');
      }
      expect(store.revision).toBe(0);
    });

    it('deletes need the token too', async () => {
      const { client, store } = await setup(transport);
      await store.apply(task('a'));
      expect((await failure(client('wrong').delete({ kind: 'Task', name: 'a' }))).code).toBe(
        'SY_STATE_UNAUTHENTICATED',
      );
      expect(store.revision).toBe(1);
      expect((await client('wrong').list({ kind: 'Task' })).items).toHaveLength(1); // reads are open on local listeners
    });

    it('watches from a revision, and maps expired / too-new revisions to typed errors', async () => {
      const { client, store, server } = await setup(transport, {}, { historyLimit: 3 });
      const api = client();
      await store.apply(task('a'));
      const events = firstEvents(api.watch({ from: 1, kind: 'Task' }), 3);
      await eventually(() => server.activeWatches === 1);
      await store.apply(task('a', { generation: 1 }));
      await store.apply(task('b'));
      await store.delete({ kind: 'Task', name: 'a', namespace: 'default' });
      expect(await events).toEqual(['MODIFIED a@2', 'ADDED b@3', 'DELETED a@4']);
      await eventually(() => server.activeWatches === 0 && store.stats().watchers === 0);

      for (let generation = 2; generation < 8; generation++) await store.apply(task('b', { generation }));
      const expired = await failure(firstEvents(api.watch({ from: 1 }), 1));
      expect({ code: expired.code, status: (expired.cause as { code: number }).code }).toEqual({
        code: 'SY_STATE_REVISION_EXPIRED',
        status: GrpcStatus.OUT_OF_RANGE,
      });
      const tooNew = await failure(firstEvents(api.watch({ from: 999 }), 1));
      expect(tooNew.code).toBe('SY_STATE_REVISION_TOO_NEW');
      expect(await firstEvents(api.watch({ from: store.revision, bookmarkIntervalMs: 50 }), 1)).toEqual([
        `BOOKMARK@${store.revision}`,
      ]);
    });

    it('cancels the call when the consumer stops iterating or the signal aborts (no leaked watchers)', async () => {
      const { client, store, server } = await setup(transport);
      const api = client();
      await store.apply(task('a'));
      await store.apply(task('b'));
      expect(await firstEvents(api.watch({ from: 0 }), 1)).toEqual(['ADDED a@1']);
      await eventually(() => server.activeWatches === 0 && store.stats().watchers === 0);

      const controller = new AbortController();
      const seen: string[] = [];
      const consumed = (async () => {
        for await (const event of api.watch({ from: 2, signal: controller.signal })) seen.push(event.type);
      })();
      await eventually(() => server.activeWatches === 1 && store.stats().watchers === 1);
      controller.abort();
      await consumed; // ends quietly, without an error
      expect(seen).toEqual([]);
      await eventually(() => server.activeWatches === 0 && store.stats().watchers === 0);
    });
  },
);

describe('gRPC front door: limits, sockets, metrics', () => {
  it('refuses watches over the limit with RESOURCE_EXHAUSTED, and messages over the size limit', async () => {
    const { client, store } = await setup('tcp', { limits: { maxWatches: 1, maxBodyBytes: 2048 } });
    const api = client();
    const controller = new AbortController();
    defer(() => controller.abort());
    const open = api.watch({ from: 0, signal: controller.signal })[Symbol.asyncIterator]();
    void open.next().catch(() => undefined);
    await eventually(() => store.stats().watchers === 1);
    const refused = await failure(firstEvents(api.watch({ from: 0 }), 1));
    expect({ code: refused.code, status: (refused.cause as { code: number }).code }).toEqual({
      code: 'SY_STATE_UNAVAILABLE',
      status: GrpcStatus.RESOURCE_EXHAUSTED,
    });
    const huge = await failure(api.apply(task('a', { labels: { app: 'web', note: 'x'.repeat(4096) } })));
    expect(huge.code).toBe('SY_STATE_TOO_LARGE');
    expect(store.revision).toBe(0);
  });

  it('keeps the unix socket in a 0700 directory, refuses an open one, and removes the socket on close', async () => {
    const base = tempDir();
    const store = createMemoryStore();
    defer(() => store.close());
    const socketPath = path.join(base, 'run', 'state.sock');
    const server = await startStateServer({
      api: store,
      token: TEST_TOKEN,
      grpc: { address: `unix://${socketPath}` },
    });
    expect(fs.statSync(path.dirname(socketPath)).mode & 0o777).toBe(0o700);
    expect(fs.existsSync(socketPath)).toBe(true);
    await server.close();
    expect(fs.existsSync(socketPath)).toBe(false);

    const open = path.join(base, 'open');
    fs.mkdirSync(open, { mode: 0o755 });
    fs.chmodSync(open, 0o755);
    const refused = await startStateServer({
      api: store,
      token: TEST_TOKEN,
      grpc: { address: `unix://${open}/s.sock` },
    }).then(
      () => undefined,
      (e: unknown) => e as StateError,
    );
    expect(refused?.field).toBe('grpc.address');
  });

  it('reports a connection failure as SY_STATE_UNAVAILABLE', async () => {
    const { server } = await setup('tcp');
    const address = server.grpcAddress ?? '';
    await server.close();
    const client = createGrpcStateClient({ address, callTimeoutMs: 2000 });
    defer(() => client.close());
    expect((await failure(client.list({ kind: 'Task' }))).code).toBe('SY_STATE_UNAVAILABLE');
  });

  it('counts requests by method and status, and open watches', async () => {
    const { client, registry } = await setup('tcp');
    await client().apply(task('a'));
    await failure(client('wrong').apply(task('b')));
    const text = await registry.metrics();
    expect(text).toContain('switchyard_state_grpc_requests_total{method="Apply",code="OK"} 1');
    expect(text).toContain('switchyard_state_grpc_requests_total{method="Apply",code="UNAUTHENTICATED"} 1');
    expect(text).toMatch(
      /switchyard_state_request_duration_seconds_count\{transport="grpc",operation="apply"\} 2/,
    );
  });
});
