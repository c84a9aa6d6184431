import type net from 'node:net';
import http from 'node:http';
import { startLoadBalancer, type LoadBalancerOptions } from './server';
import {
  backendTask,
  Cleanup,
  eventually,
  FakeInformer,
  service,
  startBackend,
  type TestBackend,
} from './test-fixtures';

/**
 * The keep-alive pools to backends, on loopback: the connection limit queues requests in order, a
 * queued request whose client leaves is never sent, and a backend's `Keep-Alive: timeout` is
 * obeyed (a connection the backend will close at once is not reused).
 */

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** A backend that answers `/slow` after 150 ms and counts connections open at once. */
async function slowBackend(
  keepAliveTimeout?: number,
): Promise<TestBackend & { peak: () => number; opened: () => number }> {
  let open = 0;
  let peak = 0;
  let opened = 0;
  const backend = await startBackend(cleanup, 'slow', (req, res) => {
    if (!req.url?.startsWith('/slow')) return false;
    setTimeout(() => res.end('slow'), 150);
    return true;
  });
  if (keepAliveTimeout !== undefined) backend.server.keepAliveTimeout = keepAliveTimeout;
  backend.server.on('connection', (socket: net.Socket) => {
    opened++;
    peak = Math.max(peak, ++open);
    socket.once('close', () => open--);
  });
  return Object.assign(backend, { peak: () => peak, opened: () => opened });
}

async function startLb(port: number, extra: Partial<LoadBalancerOptions> = {}): Promise<string> {
  return (await startLbWithStats(port, extra)).url;
}

async function startLbWithStats(
  port: number,
  extra: Partial<LoadBalancerOptions> = {},
): Promise<{ url: string; retries: () => number }> {
  const lb = await startLoadBalancer({
    informer: new FakeInformer([
      service('web', { ports: [{ port: 8080, targetPort: 'http', protocol: 'tcp', mode: 'http' }] }),
      backendTask('web-a', 'web', port),
    ]),
    listenHost: '127.0.0.1',
    ingressPort: null,
    admin: false,
    portFor: () => 0,
    accessLog: false,
    debounceMs: 5,
    healthDefaults: { type: 'http', path: '/health', intervalMs: 1000, timeoutMs: 500, rise: 1 },
    ...extra,
  });
  cleanup.add(() => lb.close({ graceMs: 0 }));
  await eventually(() => lb.stats().pools[0]?.up === 1, 3000, 'backend UP');
  return { url: `http://127.0.0.1:${lb.frontends[0]?.port ?? 0}`, retries: () => lb.stats().retries };
}

function get(url: string, agent?: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: agent ?? false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

test('at most maxConnectionsPerBackend connections; the other requests wait their turn and succeed', async () => {
  const backend = await slowBackend();
  const url = await startLb(backend.port, { maxConnectionsPerBackend: 2 });
  const results = await Promise.all(Array.from({ length: 10 }, () => get(`${url}/slow`)));
  expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
  // The health checker has a connection of its own now and then: at most one more.
  expect(backend.peak()).toBeLessThanOrEqual(3);
});

test('a request queued longer than the queue timeout gets 503 SY_LB_QUEUE_TIMEOUT and is never sent', async () => {
  const hanging: http.ServerResponse[] = [];
  const backend = await startBackend(cleanup, 'busy', (req, res) => {
    if (req.url !== '/hang') return false;
    hanging.push(res);
    return true;
  });
  cleanup.add(() => hanging.forEach((res) => res.destroy()));
  const url = await startLb(backend.port, { maxConnectionsPerBackend: 1, timeouts: { queueMs: 300 } });
  const held = http.get(`${url}/hang`, { agent: false });
  held.on('error', () => undefined);
  cleanup.add(() => held.destroy());
  await eventually(() => backend.hits === 1, 2000, 'the only connection busy');
  const started = Date.now();
  const queued = await new Promise<{ status: number; code: string | undefined }>((resolve, reject) => {
    http
      .get(`${url}/queued`, { agent: false }, (res) => {
        res.resume();
        resolve({
          status: res.statusCode ?? 0,
          code: res.headers['x-switchyard-error'] as string | undefined,
        });
      })
      .on('error', reject);
  });
  expect(queued).toEqual({ status: 503, code: 'SY_LB_QUEUE_TIMEOUT' });
  expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  expect(backend.hits).toBe(1);
});

test('a queued request whose client leaves is never sent', async () => {
  const backend = await slowBackend();
  const url = await startLb(backend.port, { maxConnectionsPerBackend: 1 });
  const first = get(`${url}/slow`);
  await eventually(() => backend.hits === 1, 2000, 'first request at the backend');
  const leaving = http.get(`${url}/slow?leaving`, { agent: false });
  leaving.on('error', () => undefined);
  await new Promise((resolve) => setTimeout(resolve, 50));
  leaving.destroy();
  expect((await first).status).toBe(200);
  expect((await get(`${url}/slow`)).status).toBe(200);
  expect(backend.hits).toBe(2);
});

test("a backend's Keep-Alive: timeout=0 means its connections are not reused (no stale-connection errors)", async () => {
  // node:http sends `Keep-Alive: timeout=0` for a keep-alive timeout under a second.
  const backend = await slowBackend(200);
  const { url, retries } = await startLbWithStats(backend.port);
  const before = backend.opened();
  for (let i = 0; i < 5; i++) {
    expect((await get(`${url}/`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(backend.opened() - before).toBeGreaterThanOrEqual(5);
  // Reusing a connection the backend had closed would show as a reset and a retry.
  expect(retries()).toBe(0);
});
