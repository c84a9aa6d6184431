import net from 'node:net';
import { Agent, request } from 'undici';
import type { StoredObject, VipBackend } from '../state';
import { startLoadBalancer } from './server';
import { Cleanup, eventually, FakeInformer, startBackend, type TestBackend } from './test-fixtures';

// The proxy serving VIP objects on their own addresses (127.0.0.0/8 ones: they need no interface).
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

let revision = 5000;
function vip(
  address: string,
  port: number,
  backends: readonly TestBackend[],
  weights: number[] = [],
): StoredObject<'VIP'> {
  revision++;
  const list: VipBackend[] = backends.map((b, i) => ({
    task: `Task/default/${b.name}`,
    vipPort: port,
    protocol: 'tcp',
    address: '127.0.0.1',
    port: b.port,
    weight: weights[i] ?? 1,
  }));
  return {
    kind: 'VIP',
    name: 'web.marathon',
    labels: {},
    revision,
    createRevision: 1,
    spec: {
      name: 'web',
      framework: 'marathon',
      address,
      ports: [{ port, protocol: 'tcp', mode: 'tcp' }],
      backends: list,
      owners: [{ kind: 'app', namespace: 'default', name: 'web', source: 'VIP_0' }],
    },
  };
}

async function freePortOn(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function start(informer: FakeInformer) {
  const lb = await startLoadBalancer({
    informer,
    listenHost: '127.0.0.1',
    ingressPort: null,
    admin: false,
    accessLog: false,
    bindRetryMs: 20,
    healthDefaults: { type: 'tcp', intervalMs: 50, timeoutMs: 50, rise: 1, fall: 1 },
  });
  cleanup.add(() => lb.close({ graceMs: 0 }));
  const agent = new Agent({ pipelining: 0 });
  cleanup.add(() => agent.close());
  const get = async (url: string): Promise<string> => {
    const res = await request(url, { dispatcher: agent, reset: true });
    return res.body.text();
  };
  return { lb, get };
}

describe('the proxy serves VIP objects', () => {
  test('a TCP frontend on VIP:port balances over the VIP backends; weight 0 takes no new connections; a new backend joins', async () => {
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => startBackend(cleanup, n)));
    if (!a || !b || !c) throw new Error('no backends');
    const port = await freePortOn('127.0.0.2');
    const informer = new FakeInformer([vip('127.0.0.2', port, [a, b])]);
    const { lb, get } = await start(informer);
    expect(lb.frontends.map((f) => `${f.mode} ${f.host}:${f.port}`)).toEqual([`tcp 127.0.0.2:${port}`]);
    const url = `http://127.0.0.2:${port}/`;
    await eventually(() => lb.stats().pools[0]?.up === 2, 3000, 'both UP');
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(await get(url));
    expect([...seen].sort()).toEqual(['a', 'b']);

    informer.put(vip('127.0.0.2', port, [a, b, c], [1, 0, 1]));
    const status = (name: string): string | undefined =>
      lb.stats().pools[0]?.backends.find((row) => row.id.startsWith(`Task/default/${name}@`))?.status;
    await eventually(() => status('c') === 'UP' && status('b') === 'DRAIN', 3000, 'c UP, b draining');
    const after: string[] = [];
    for (let i = 0; i < 6; i++) after.push(await get(url));
    expect(new Set(after)).toEqual(new Set(['a', 'c']));
  });

  test('a VIP frontend that cannot bind yet is retried until it binds', async () => {
    const a = await startBackend(cleanup, 'a');
    const port = await freePortOn('127.0.0.3');
    const blocker = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.3', resolve));
    const informer = new FakeInformer([vip('127.0.0.3', port, [a])]);
    const { lb, get } = await start(informer);
    expect(lb.frontends).toEqual([]);
    await new Promise((resolve) => blocker.close(resolve));
    await eventually(() => lb.frontends.length === 1, 3000, 'the VIP frontend bound');
    await eventually(
      async () => (await get(`http://127.0.0.3:${port}/`).catch(() => '')) === 'a',
      3000,
      'traffic',
    );
  });
});
