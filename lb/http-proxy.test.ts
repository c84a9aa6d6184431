import net from 'node:net';
import { Agent, request } from 'undici';
import { startLoadBalancer, type LoadBalancer, type LoadBalancerOptions } from './server';
import {
  backendTask,
  Cleanup,
  eventually,
  FakeInformer,
  revise,
  service,
  startBackend,
  type TestBackend,
} from './test-fixtures';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const INTER = 100;
const FALL = 3;
const RISE = 2;

async function startLb(
  informer: FakeInformer,
  extra: Partial<LoadBalancerOptions> = {},
): Promise<LoadBalancer> {
  const lb = await startLoadBalancer({
    informer,
    listenHost: '127.0.0.1',
    ingressPort: null,
    admin: false,
    portFor: () => 0,
    accessLog: false,
    debounceMs: 5,
    healthDefaults: {
      type: 'http',
      path: '/health',
      intervalMs: INTER,
      timeoutMs: INTER,
      rise: RISE,
      fall: FALL,
    },
    ...extra,
  });
  cleanup.add(() => lb.close({ graceMs: 0 }));
  return lb;
}

function client(): Agent {
  const agent = new Agent({ connections: 16, keepAliveTimeout: 10_000 });
  cleanup.add(() => agent.close());
  return agent;
}

function frontendUrl(lb: LoadBalancer, port: number): string {
  const f = lb.frontends.find((x) => x.id === `127.0.0.1:${port}`);
  if (!f) throw new Error(`frontend ${port} not bound`);
  return `http://127.0.0.1:${f.port}`;
}

async function get(
  agent: Agent,
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const res = await request(url, { dispatcher: agent, headers });
  return { status: res.statusCode, body: await res.body.text() };
}

async function allUp(lb: LoadBalancer, ids: string[]): Promise<void> {
  await eventually(
    () => ids.every((id) => lb.routeTable().pools.size > 0 && upIds(lb).has(id)),
    3000,
    `${ids.join(',')} UP`,
  );
}

function statusOf(lb: LoadBalancer, id: string): string | undefined {
  return lb.stats().pools[0]?.backends.find((b) => b.id === id)?.status;
}

function upIds(lb: LoadBalancer): Set<string> {
  const up = new Set<string>();
  // The stats JSON is the public view of backend state.
  for (const pool of lb.stats().pools) for (const b of pool.backends) if (b.status === 'UP') up.add(b.id);
  return up;
}

/** Run `total` GETs with `concurrency` workers; returns the statuses in order of completion. */
async function load(
  agent: Agent,
  url: string,
  total: number,
  concurrency: number,
  onEach?: (i: number) => void | Promise<void>,
): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      await onEach?.(i);
      const res = await get(agent, url).catch(() => ({ status: 0, body: '' }));
      statuses.push(res.status);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

async function threeBackends(): Promise<{ backends: TestBackend[]; informer: FakeInformer }> {
  const backends = await Promise.all(['a', 'b', 'c'].map((n) => startBackend(cleanup, n)));
  const informer = new FakeInformer([
    service('web', { ports: [{ port: 8080, targetPort: 'http', protocol: 'tcp', mode: 'http' }] }),
    ...backends.map((b) => backendTask(`web-${b.name}`, 'web', b.port)),
  ]);
  return { backends, informer };
}

function rawExchange(url: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1', () => socket.write(text));
    let out = '';
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
}

function parseHead(raw: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of raw.split('\r\n\r\n')[0]?.split('\r\n').slice(1) ?? []) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

const idOf = (b: TestBackend): string => `Task/default/web-${b.name}#${b.port}`;

describe('L7 proxy on loopback', () => {
  test('backends from state start DOWN, then round-robin evenly once UP', async () => {
    const { backends, informer } = await threeBackends();
    const lb = await startLb(informer);
    const url = frontendUrl(lb, 8080);
    const agent = client();
    expect(upIds(lb).size).toBe(0);
    expect((await get(agent, url)).status).toBe(503);
    await allUp(lb, backends.map(idOf));
    const counts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const { status, body } = await get(agent, url);
      expect(status).toBe(200);
      counts.set(body, (counts.get(body) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ a: 100, b: 100, c: 100 });
  });

  test('X-Forwarded-* headers are set and hop-by-hop headers stripped', async () => {
    let seen: Record<string, string | string[] | undefined> = {};
    const echo = await startBackend(cleanup, 'echo', (req, res) => {
      seen = req.headers;
      res.setHeader('keep-alive', 'timeout=99');
      res.setHeader('x-kept', '1');
      res.end('ok');
      return true;
    });
    const informer = new FakeInformer([
      service('web', { ports: [{ port: 8080, targetPort: 'http', protocol: 'tcp', mode: 'http' }] }),
      backendTask('web-echo', 'web', echo.port),
    ]);
    const lb = await startLb(informer);
    await allUp(lb, [`Task/default/web-echo#${echo.port}`]);
    const url = frontendUrl(lb, 8080);
    // A raw request: HTTP clients tidy the Connection header, this test needs it as sent.
    const raw = await rawExchange(
      url,
      'GET /p?q=1 HTTP/1.1\r\nHost: app.example.org\r\nX-Forwarded-For: 198.18.0.9\r\nProxy-Authorization: x\r\n' +
        'X-Drop-Me: y\r\nConnection: close, X-Drop-Me\r\n\r\n',
    );
    const res = { headers: parseHead(raw) };
    expect(seen['x-forwarded-for']).toBe('198.18.0.9, 127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe('app.example.org');
    expect(seen['x-forwarded-port']).toBe(url.split(':')[2]);
    expect(seen.host).toBe('app.example.org');
    expect(seen['proxy-authorization']).toBeUndefined();
    expect(seen['x-drop-me']).toBeUndefined();
    expect(res.headers['x-kept']).toBe('1');
    expect(res.headers['keep-alive']).toBeUndefined();
  });

  test('a backend killed under load is marked DOWN within inter × fall and no client request fails', async () => {
    const { backends, informer } = await threeBackends();
    const lb = await startLb(informer);
    await allUp(lb, backends.map(idOf));
    const agent = client();
    const victim = backends[1] as TestBackend;
    let killedAt = 0;
    let downAt = 0;
    const statuses = await load(agent, frontendUrl(lb, 8080), 600, 8, async (i) => {
      if (i === 150) {
        killedAt = Date.now();
        await victim.kill();
      }
      if (killedAt && !downAt && statusOf(lb, idOf(victim)) === 'DOWN') downAt = Date.now();
    });
    // Passive ejection may take it out of rotation first; active checks must still mark it DOWN.
    await eventually(() => statusOf(lb, idOf(victim)) === 'DOWN', 2000, 'victim DOWN');
    if (!downAt) downAt = Date.now();
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(statuses).toHaveLength(600);
    // Requests caught on the dying backend were resent elsewhere rather than failed.
    expect(lb.stats().retries).toBeGreaterThan(0);
    // Detection: at most fall checks, one interval apart, plus one interval and timeout of slack.
    expect(downAt - killedAt).toBeLessThanOrEqual(INTER * (FALL + 2) + 100);
    const victimRow = lb.stats().pools[0]?.backends.find((b) => b.id === idOf(victim));
    expect(victimRow?.status).toBe('DOWN');
  });

  test('a recovered backend comes back after rise checks', async () => {
    const { backends, informer } = await threeBackends();
    const lb = await startLb(informer);
    await allUp(lb, backends.map(idOf));
    const victim = backends[0] as TestBackend;
    await victim.kill();
    await eventually(() => !upIds(lb).has(idOf(victim)), 2000, 'victim DOWN');
    const revivedAt = Date.now();
    await victim.revive();
    await eventually(() => upIds(lb).has(idOf(victim)), 2000, 'victim UP again');
    expect(Date.now() - revivedAt).toBeLessThanOrEqual(INTER * (RISE + 1) + 150);
    const agent = client();
    const bodies = new Set<string>();
    for (let i = 0; i < 6; i++) bodies.add((await get(agent, frontendUrl(lb, 8080))).body);
    expect(bodies).toEqual(new Set(['a', 'b', 'c']));
  });

  test('a draining task gets no new requests while its in-flight request finishes', async () => {
    let release: (() => void) | undefined;
    const slow = await startBackend(cleanup, 'slow', (req, res) => {
      if (req.url !== '/slow') return false;
      release = () => res.end('slow-done');
      return true;
    });
    const fast = await startBackend(cleanup, 'fast');
    const slowTask = backendTask('web-slow', 'web', slow.port);
    const informer = new FakeInformer([
      service('web', {
        ports: [{ port: 8080, targetPort: 'http', protocol: 'tcp', mode: 'http' }],
        loadBalancing: { algorithm: 'least-connections' },
      }),
      slowTask,
      backendTask('web-fast', 'web', fast.port),
    ]);
    const lb = await startLb(informer);
    await allUp(lb, [`Task/default/web-slow#${slow.port}`, `Task/default/web-fast#${fast.port}`]);
    const agent = client();
    const url = frontendUrl(lb, 8080);
    // least-connections with ties rotating: send until one lands on the slow backend.
    const inflight = (async () => {
      for (let i = 0; i < 4; i++) {
        const res = await request(url + '/slow', { dispatcher: agent });
        const text = await res.body.text();
        if (text === 'slow-done') return text;
      }
      return 'never reached slow';
    })();
    await eventually(() => release !== undefined, 2000, 'request on slow backend');
    informer.put(revise(slowTask, (s) => ({ ...s, draining: true })));
    await eventually(
      () =>
        lb
          .routeTable()
          .pools.get('default/web:8080')
          ?.backends.some((b) => b.weight === 0) ?? false,
      2000,
      'drain applied',
    );
    const hitsBefore = slow.hits;
    for (let i = 0; i < 20; i++) expect((await get(agent, url)).body).toBe('fast');
    expect(slow.hits).toBe(hitsBefore);
    release?.();
    expect(await inflight).toBe('slow-done');
  });

  test('route-table swaps under load give zero errors', async () => {
    const { backends, informer } = await threeBackends();
    const lb = await startLb(informer);
    await allUp(lb, backends.map(idOf));
    const extra = await startBackend(cleanup, 'd');
    const extraTask = backendTask('web-d', 'web', extra.port);
    const agent = client();
    const tables = new Set<unknown>();
    const statuses = await load(agent, frontendUrl(lb, 8080), 800, 8, (i) => {
      // Every 40 requests: add or remove a task, relabel the service (a new table each time).
      if (i % 40 === 0) {
        if ((i / 40) % 2 === 0) informer.put(extraTask);
        else informer.remove(extraTask);
      }
      tables.add(lb.routeTable());
    });
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(tables.size).toBeGreaterThan(5);
  });

  test('retries: a request to a dead backend is sent to another one at once', async () => {
    const { backends, informer } = await threeBackends();
    const lb = await startLb(informer, {
      healthDefaults: {
        type: 'http',
        path: '/health',
        intervalMs: 60_000,
        timeoutMs: 1000,
        rise: 1,
        fall: 3,
      },
    });
    await allUp(lb, backends.map(idOf));
    await (backends[2] as TestBackend).kill();
    const agent = client();
    const bodies: string[] = [];
    for (let i = 0; i < 30; i++) {
      const { status, body } = await get(agent, frontendUrl(lb, 8080));
      expect(status).toBe(200);
      bodies.push(body);
    }
    expect(new Set(bodies)).toEqual(new Set(['a', 'b']));
    // The dead backend was passively ejected after 5 consecutive connect failures.
    const row = lb.stats().pools[0]?.backends.find((b) => b.id === idOf(backends[2] as TestBackend));
    expect(row?.connectFailures).toBe(5);
    expect(row?.status).toBe('EJECTED');
  });
});
