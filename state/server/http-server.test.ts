import http from 'node:http';
import { eventually } from '../../test/helpers/eventually';
import { createRegistry } from '../../lib';
import type { StateApi } from '../api';
import { createMemoryStore, type MemoryStore, type StoreOptions } from '../store';
import { startStateServer, type StateServer, type StateServerOptions } from '.';
import { node, task, TEST_TOKEN, useCleanup } from './testing';

const defer = useCleanup(afterEach);
const AUTH = { Authorization: `Bearer ${TEST_TOKEN}` };

interface Setup {
  store: MemoryStore;
  server: StateServer;
  base: string;
}

async function setup(
  serverOptions: Partial<StateServerOptions> = {},
  storeOptions: StoreOptions = {},
): Promise<Setup> {
  const store = createMemoryStore(storeOptions);
  defer(() => store.close());
  const server = await startStateServer({
    api: store,
    token: TEST_TOKEN,
    http: { host: '127.0.0.1', port: 0 },
    registry: createRegistry(),
    ...serverOptions,
  });
  defer(() => server.close());
  return { store, server, base: `http://127.0.0.1:${server.httpAddress?.port}` };
}

function post(url: string, body: unknown, headers: Record<string, string> = AUTH): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** Reads a streamed body line by line (NDJSON) or block by block (SSE). */
function streamReader(response: Response, separator: string) {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  return {
    async next(): Promise<string | undefined> {
      for (;;) {
        const at = buffered.indexOf(separator);
        if (at >= 0) {
          const item = buffered.slice(0, at);
          buffered = buffered.slice(at + separator.length);
          return item;
        }
        const chunk = await reader.read();
        if (chunk.done) return undefined;
        buffered += decoder.decode(chunk.value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

/** Opens a watch and registers its cancellation; resolves once the server has it open. */
async function openWatch(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  defer(() => controller.abort());
  const response = await fetch(url, { headers, signal: controller.signal });
  return { response, controller };
}

describe('REST front door: CRUD', () => {
  it('creates, reads, updates with compare-and-set, and deletes an object', async () => {
    const { base, store } = await setup();
    const created = await post(`${base}/v1/tasks`, task('web-1'));
    expect(created.status).toBe(200);
    const object = (await created.json()) as { name: string; namespace: string; revision: number };
    expect(object).toMatchObject({ kind: 'Task', name: 'web-1', namespace: 'default', revision: 1 });

    const got = await fetch(`${base}/v1/tasks/web-1`);
    expect(got.status).toBe(200);
    expect(got.headers.get('etag')).toBe('"1"');
    expect(await got.json()).toEqual(object);

    const stale = await fetch(`${base}/v1/tasks/web-1`, {
      method: 'PUT',
      headers: { ...AUTH, 'If-Match': '"7"' },
      body: JSON.stringify(task('web-1', { generation: 1 })),
    });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe('SY_STATE_CONFLICT');
    expect(store.revision).toBe(1);

    const updated = await fetch(`${base}/v1/tasks/web-1?expectedRevision=1`, {
      method: 'PUT',
      headers: AUTH,
      body: JSON.stringify(task('web-1', { generation: 1 })),
    });
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({ revision: 2, createRevision: 1 });

    const deleted = await fetch(`${base}/v1/tasks/web-1`, { method: 'DELETE', headers: AUTH });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toMatchObject({ name: 'web-1' });
    const gone = await fetch(`${base}/v1/tasks/web-1`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ error: expect.objectContaining({ code: 'SY_STATE_NOT_FOUND' }) });
  });

  it('accepts YAML bodies', async () => {
    const { base, store } = await setup();
    const yaml = 'kind: Node\nname: n1\nspec:\n  address: 198.18.0.7\n';
    const response = await fetch(`${base}/v1/nodes`, {
      method: 'POST',
      headers: { ...AUTH, 'Content-Type': 'application/yaml' },
      body: yaml,
    });
    expect(response.status).toBe(200);
    expect((await store.get({ kind: 'Node', name: 'n1' })).spec).toMatchObject({ address: '198.18.0.7' });
  });

  it('lists by namespace and label selector as { kind, revision, items }', async () => {
    const { base, store } = await setup();
    await store.apply(task('a', { labels: { app: 'web', tier: 'front' } }));
    await store.apply(task('b', { labels: { app: 'db' } }));
    await store.apply(task('c', { labels: { app: 'web' }, namespace: 'prod' }));
    const cases = [
      { desc: 'everything', query: '', want: ['a', 'b', 'c'] },
      { desc: 'one namespace', query: '?namespace=prod', want: ['c'] },
      { desc: 'equality selector', query: `?selector=${encodeURIComponent('app=web')}`, want: ['a', 'c'] },
      { desc: 'set selector', query: `?selector=${encodeURIComponent('app in (db),!tier')}`, want: ['b'] },
    ];
    for (const { desc, query, want } of cases) {
      const response = await fetch(`${base}/v1/tasks${query}`);
      const body = (await response.json()) as {
        kind: string;
        revision: number;
        items: Array<{ name: string }>;
      };
      expect({ desc, kind: body.kind, revision: body.revision }).toEqual({ desc, kind: 'Task', revision: 3 });
      expect({ desc, names: body.items.map((item) => item.name).sort() }).toEqual({ desc, names: want });
    }
    const bad = await fetch(`${base}/v1/tasks?selector=${encodeURIComponent('app in (')}`);
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('selector');
  });
});

describe('REST front door: errors leave the store untouched', () => {
  function rawPost(port: number, path: string, chunks: Buffer[], headers: http.OutgoingHttpHeaders) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
      for (const chunk of chunks) request.write(chunk);
      request.end();
    });
  }

  const big = Buffer.alloc(4096, 'x');
  it.each([
    {
      desc: 'bad JSON',
      path: '/v1/tasks',
      body: '{"kind": "Task",',
      headers: AUTH,
      status: 400,
      code: 'SY_STATE_BAD_REQUEST',
    },
    {
      desc: 'a JSON array',
      path: '/v1/tasks',
      body: '[]',
      headers: AUTH,
      status: 400,
      code: 'SY_STATE_BAD_REQUEST',
    },
    {
      desc: 'bad YAML',
      path: '/v1/tasks',
      body: 'a: [',
      headers: { ...AUTH, 'Content-Type': 'application/yaml' },
      status: 400,
      code: 'SY_STATE_BAD_REQUEST',
    },
    {
      desc: 'an empty body',
      path: '/v1/tasks',
      body: '',
      headers: AUTH,
      status: 400,
      code: 'SY_STATE_BAD_REQUEST',
    },
    {
      desc: 'an invalid object',
      path: '/v1/tasks',
      body: JSON.stringify({
        ...task('a'),
        spec: { ...task('a').spec, ports: [{ containerPort: 70000, protocol: 'tcp' }] },
      }),
      headers: AUTH,
      status: 422,
      code: 'SY_STATE_INVALID',
      field: 'spec.ports[0].containerPort',
    },
    {
      desc: 'kind not matching the URL',
      path: '/v1/nodes',
      body: JSON.stringify(task('a')),
      headers: AUTH,
      status: 400,
      code: 'SY_STATE_BAD_REQUEST',
      field: 'kind',
    },
    {
      desc: 'no token',
      path: '/v1/tasks',
      body: JSON.stringify(task('a')),
      headers: {},
      status: 401,
      code: 'SY_STATE_UNAUTHENTICATED',
    },
    {
      desc: 'a wrong token',
      path: '/v1/tasks',
      body: JSON.stringify(task('a')),
      headers: { Authorization: 'Bearer nope' },
      status: 401,
      code: 'SY_STATE_UNAUTHENTICATED',
    },
    {
      desc: 'an unknown kind',
      path: '/v1/widgets',
      body: '{}',
      headers: AUTH,
      status: 404,
      code: 'SY_STATE_NOT_FOUND',
    },
  ])('$desc → $status', async ({ path, body, headers, status, code, field }) => {
    const { base, store } = await setup();
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
    });
    expect(response.status).toBe(status);
    const error = ((await response.json()) as { error: { code: string; field?: string; message: string } })
      .error;
    expect(error.code).toBe(code);
    expect(typeof error.message).toBe('string');
    if (field !== undefined) expect(error.field).toBe(field);
    expect(store.revision).toBe(0);
  });

  it('a PUT whose body names another object → 400 naming the field', async () => {
    const { base, store } = await setup();
    const response = await fetch(`${base}/v1/tasks/a`, {
      method: 'PUT',
      headers: AUTH,
      body: JSON.stringify(task('b')),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { field: string } }).error.field).toBe('name');
    expect(store.revision).toBe(0);
  });

  it.each([
    { desc: 'by Content-Length', chunked: false },
    { desc: 'counted while streaming (chunked)', chunked: true },
  ])('an oversize body is refused with 413 $desc', async ({ chunked }) => {
    const { server, store } = await setup({ limits: { maxBodyBytes: 1024 } });
    const headers: http.OutgoingHttpHeaders = { ...AUTH, 'Content-Type': 'application/json' };
    if (!chunked) headers['Content-Length'] = big.length;
    const response = await rawPost(
      server.httpAddress?.port ?? 0,
      '/v1/tasks',
      [big.subarray(0, 512), big.subarray(512)],
      headers,
    );
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toEqual({
      error: expect.objectContaining({ code: 'SY_STATE_TOO_LARGE' }),
    });
    expect(store.revision).toBe(0);
  });

  it('answers 405 with Allow for a wrong method, and times out slow requests', async () => {
    const store = createMemoryStore();
    defer(() => store.close());
    // The real store, except that get never answers.
    const stuck: StateApi = {
      get: () => new Promise(() => undefined),
      list: (q) => store.list(q),
      apply: (i, o) => store.apply(i, o),
      delete: (r, o) => store.delete(r, o),
      watch: (o) => store.watch(o),
    };
    const { base } = await setup({ api: stuck, limits: { requestTimeoutMs: 100 } });
    const wrong = await fetch(`${base}/v1/tasks`, { method: 'PATCH' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, POST');
    const slow = await fetch(`${base}/v1/tasks/a`);
    expect(slow.status).toBe(503);
    expect(((await slow.json()) as { error: { code: string } }).error.code).toBe('SY_STATE_UNAVAILABLE');
  });
});

describe('REST front door: watch', () => {
  it('streams NDJSON events after `from`, in order, and frees the store watcher on disconnect', async () => {
    const { base, store, server } = await setup();
    await store.apply(task('a'));
    const { response, controller } = await openWatch(`${base}/v1/tasks?watch=1&from=1`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = streamReader(response, '\n');
    await store.apply(task('a', { generation: 1 }));
    await store.apply(node('n1')); // another kind: filtered out
    await store.delete({ kind: 'Task', name: 'a', namespace: 'default' });
    const events = [JSON.parse((await lines.next()) ?? ''), JSON.parse((await lines.next()) ?? '')] as Array<{
      type: string;
      revision: number;
      object: { name: string };
    }>;
    expect(events.map((e) => `${e.type} ${e.object.name}@${e.revision}`)).toEqual([
      'MODIFIED a@2',
      'DELETED a@4',
    ]);
    expect(server.activeWatches).toBe(1);
    expect(store.stats().watchers).toBe(1);
    controller.abort();
    await eventually(() => server.activeWatches === 0 && store.stats().watchers === 0);
  });

  it('resumes with `from` (all kinds on /v1/watch) and sends bookmarks while idle', async () => {
    const { base, store } = await setup();
    await store.apply(task('a'));
    await store.apply(node('n1'));
    await store.apply(task('b'));
    const { response } = await openWatch(`${base}/v1/watch?from=1&bookmarkMs=50`);
    const lines = streamReader(response, '\n');
    const first = JSON.parse((await lines.next()) ?? '') as { type: string; object: { kind: string } };
    const second = JSON.parse((await lines.next()) ?? '') as { type: string; object: { kind: string } };
    expect([first.object.kind, second.object.kind]).toEqual(['Node', 'Task']);
    expect(JSON.parse((await lines.next()) ?? '')).toEqual({ type: 'BOOKMARK', revision: 3 });
  });

  it('speaks Server-Sent Events with id = revision, and resumes from Last-Event-ID', async () => {
    const { base, store } = await setup();
    for (const name of ['a', 'b', 'c']) await store.apply(task(name));
    const { response } = await openWatch(`${base}/v1/tasks?watch=1&from=0`, {
      Accept: 'text/event-stream',
      'Last-Event-ID': '1',
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const blocks = streamReader(response, '\n\n');
    const parsed = [await blocks.next(), await blocks.next()].map((block) => {
      const [idLine, dataLine] = (block ?? '').split('\n');
      return {
        id: idLine,
        event: JSON.parse((dataLine ?? '').replace(/^data: /, '')) as { object: { name: string } },
      };
    });
    expect(parsed.map((p) => `${p.id} ${p.event.object.name}`)).toEqual(['id: 2 b', 'id: 3 c']);
  });

  it('refuses an expired `from` with 410 and a too-new one with 504, before streaming', async () => {
    const { base, store, server } = await setup({}, { historyLimit: 2 });
    for (let generation = 0; generation < 6; generation++) await store.apply(task('a', { generation }));
    const cases = [
      { desc: 'expired', from: 1, status: 410, code: 'SY_STATE_REVISION_EXPIRED' },
      { desc: 'too new', from: 99, status: 504, code: 'SY_STATE_REVISION_TOO_NEW' },
    ];
    for (const { desc, from, status, code } of cases) {
      const response = await fetch(`${base}/v1/tasks?watch=1&from=${from}`);
      const body = (await response.json()) as { error: { code: string } };
      expect({ desc, status: response.status, code: body.error.code }).toEqual({ desc, status, code });
    }
    expect(server.activeWatches).toBe(0);
    expect(store.stats().watchers).toBe(0);
  });

  it('limits concurrent watches (503) and close() ends open streams', async () => {
    const { base, server, store } = await setup({ limits: { maxWatches: 1 } });
    const { response } = await openWatch(`${base}/v1/tasks?watch=1`);
    const lines = streamReader(response, '\n');
    const second = await fetch(`${base}/v1/tasks?watch=1`);
    expect(second.status).toBe(503);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe('SY_STATE_UNAVAILABLE');
    await server.close();
    expect(await lines.next()).toBeUndefined();
    expect(store.stats().watchers).toBe(0);
  });
});

describe('REST front door: health, readiness, metrics', () => {
  it('serves /healthz, /readyz from ready(), and Prometheus metrics from the registry', async () => {
    let ready = false;
    const { base, store } = await setup({ ready: () => ready });
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok\n');
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    await post(`${base}/v1/tasks`, task('a'));
    await post(`${base}/v1/tasks`, task('b'), {});
    expect(store.revision).toBe(1);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain(
      'switchyard_state_http_requests_total{method="POST",route="/v1/:plural",code="200"} 1',
    );
    expect(text).toContain(
      'switchyard_state_http_requests_total{method="POST",route="/v1/:plural",code="401"} 1',
    );
    expect(text).toContain('switchyard_state_http_requests_total{method="GET",route="/readyz",code="503"} 1');
    expect(text).toMatch(
      /switchyard_state_request_duration_seconds_count\{transport="http",operation="create"\} 2/,
    );
    expect(text).toContain('switchyard_state_active_watches');
  });
});
