import net from 'node:net';
import { Agent, request } from 'undici';
import { createRegistry } from '../lib';
import { startLoadBalancer, type LoadBalancer } from './server';
import { backendTask, Cleanup, eventually, FakeInformer, service, startBackend } from './test-fixtures';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function setup(
  algorithm?: 'consistent-hash',
): Promise<{ lb: LoadBalancer; admin: string; front: string; agent: Agent }> {
  const a = await startBackend(cleanup, 'a');
  const b = await startBackend(cleanup, 'b');
  const informer = new FakeInformer([
    service('web', {
      ports: [{ port: 8080, targetPort: 'http', protocol: 'tcp', mode: 'http' }],
      ...(algorithm ? { loadBalancing: { algorithm, hashOn: 'cookie' as const } } : {}),
    }),
    backendTask('web-a', 'web', a.port),
    backendTask('web-b', 'web', b.port),
  ]);
  const lb = await startLoadBalancer({
    informer,
    registry: createRegistry(),
    listenHost: '127.0.0.1',
    ingressPort: null,
    admin: { host: '127.0.0.1', port: 0 },
    portFor: () => 0,
    accessLog: false,
    healthDefaults: { type: 'http', path: '/health', intervalMs: 50, timeoutMs: 50, rise: 1 },
  });
  cleanup.add(() => lb.close({ graceMs: 0 }));
  const agent = new Agent();
  cleanup.add(() => agent.close());
  await eventually(() => lb.stats().pools[0]?.up === 2, 2000, 'both UP');
  return {
    lb,
    admin: `http://127.0.0.1:${lb.adminAddress?.port}`,
    front: `http://127.0.0.1:${lb.frontends[0]?.port}`,
    agent,
  };
}

async function text(
  agent: Agent,
  url: string,
  method: 'GET' | 'POST' = 'GET',
  headers: Record<string, string> = {},
) {
  const res = await request(url, { dispatcher: agent, method, headers });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

describe('admin endpoint', () => {
  test('stats page, JSON and Prometheus metrics describe frontends, pools and backends', async () => {
    const { admin, front, agent } = await setup();
    for (let i = 0; i < 4; i++) expect((await text(agent, front)).status).toBe(200);
    const html = await text(agent, `${admin}/`);
    expect(html.headers['content-type']).toContain('text/html');
    expect(html.body).toContain('default/web:8080');
    expect(html.body).toMatch(/Task\/default\/web-a#\d+/);
    expect(html.body).toContain('L7OK 200');
    const json = JSON.parse((await text(agent, `${admin}/stats.json`)).body);
    expect(json.frontends[0].requests).toBe(4);
    expect(json.pools[0].backends.map((b: { requests: number }) => b.requests)).toEqual([2, 2]);
    const metrics = (await text(agent, `${admin}/metrics`)).body;
    expect(metrics).toMatch(
      /switchyard_lb_backend_up\{pool="default\/web:8080",backend="Task\/default\/web-a#\d+"\} 1/,
    );
    expect(metrics).toContain('switchyard_lb_frontend_requests_total{frontend="127.0.0.1:8080"} 4');
    expect((await text(agent, `${admin}/ready`)).status).toBe(200);
    // A request the proxy refuses itself is counted by status.
    const port = Number(new URL(front).port);
    await new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('GARBAGE\r\n\r\n'));
      socket
        .on('data', () => undefined)
        .on('close', () => resolve())
        .on('error', () => resolve());
    });
    expect((await text(agent, `${admin}/metrics`)).body).toContain(
      'switchyard_lb_frontend_refused_total{frontend="127.0.0.1:8080",status="400"} 1',
    );
  });

  test('drain, disable and enable a backend through the admin API', async () => {
    const { lb, admin, front, agent } = await setup();
    const id = lb.stats().pools[0]?.backends[0]?.id ?? '';
    const drained = await text(agent, `${admin}/backends/${encodeURIComponent(id)}/drain`, 'POST');
    expect(drained.status).toBe(200);
    expect(lb.stats().pools[0]?.backends[0]?.status).toBe('DRAIN');
    for (let i = 0; i < 6; i++) expect((await text(agent, front)).body).toBe('b');
    expect((await text(agent, `${admin}/backends/${encodeURIComponent(id)}/disable`, 'POST')).status).toBe(
      200,
    );
    expect(lb.stats().pools[0]?.backends[0]?.status).toBe('MAINT');
    expect((await text(agent, `${admin}/backends/${encodeURIComponent(id)}/enable`, 'POST')).status).toBe(
      200,
    );
    const bodies = new Set<string>();
    for (let i = 0; i < 4; i++) bodies.add((await text(agent, front)).body);
    expect(bodies).toEqual(new Set(['a', 'b']));
    const unknown = await text(agent, `${admin}/backends/nope/drain`, 'POST');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).code).toBe('SY_LB_UNKNOWN_BACKEND');
  });

  test('consistent hashing on a cookie: the proxy hands out a cookie and requests stick', async () => {
    const { front, agent } = await setup('consistent-hash');
    const first = await text(agent, front);
    const cookie = String(first.headers['set-cookie']).split(';')[0] ?? '';
    expect(cookie).toMatch(/^sy_affinity=/);
    for (let i = 0; i < 10; i++) expect((await text(agent, front, 'GET', { cookie })).body).toBe(first.body);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++)
      seen.add((await text(agent, front, 'GET', { cookie: `sy_affinity=user${i}` })).body);
    expect(seen).toEqual(new Set(['a', 'b']));
  });
});
