import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, type RunningNode } from '../../cli';
import { silentLogger } from '../../lib';
import type { ObjectInput, StoredObject } from '../../state';
import { eventually } from '../helpers/eventually';
import { freePort } from '../helpers/net';

// A named VIP end to end on one machine, no root: the all-in-one node (store, VIP controller,
// proxy) in process, a loopback service CIDR (127.77.0.0/16 answers on lo), an app whose two tasks
// run in host mode on 127.0.0.1 with `VIP_0: /web:<port>`, and real HTTP servers as the tasks.
// The VIP's pool uses the proxy's default checks: TCP every 2 s, rise 2. A new backend's first
// check runs at once, so it takes traffic one interval after it appears.
const CHECK_INTERVAL_MS = 2000;

interface Backend {
  id: string;
  port: number;
  /** A killed process: the listener closes and every open connection is reset. */
  kill(): void;
}

async function startBackend(id: string): Promise<Backend> {
  const server = http.createServer((_req, res) => res.end(id));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    id,
    port: (server.address() as AddressInfo).port,
    kill: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

/** One GET on a fresh connection (the VIP is L4: each connection is balanced on its own). */
function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`)),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function taskInput(name: string, port: number, vipPort: number): ObjectInput<'Task'> {
  return {
    kind: 'Task',
    name,
    labels: { app: 'web' },
    spec: {
      app: 'web',
      framework: 'marathon',
      node: 'node-1',
      state: 'running',
      health: 'healthy',
      networkMode: 'host',
      ips: [],
      ports: [
        {
          name: 'http',
          containerPort: port,
          hostPort: port,
          protocol: 'tcp',
          labels: { VIP_0: `/web:${vipPort}` },
        },
      ],
    },
  };
}

describe('named VIP on the all-in-one node (loopback)', () => {
  let dir: string;
  let node: RunningNode | undefined;
  const backends: Backend[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-vip-'));
    node = await startNode(
      {
        dataDir: dir,
        http: '127.0.0.1:0',
        grpc: '127.0.0.1:0',
        token: 'vip-test-token-0123',
        lb: { listenHost: '127.0.0.1', admin: '127.0.0.1:0', ingressPort: await freePort() },
      },
      silentLogger(),
    );
  });
  afterAll(async () => {
    for (const b of backends) b.kill();
    await node?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reaches both tasks in turn, survives a killed task with zero errors, and a third task gets traffic within one check interval', async () => {
    const store = node?.store;
    if (store === undefined) throw new Error('no node');
    const vipPort = await freePort();
    await store.apply({
      kind: 'Network',
      name: 'default',
      spec: {
        podCIDR: '198.18.0.0/16',
        nodeSubnetPrefix: 24,
        serviceCIDR: '127.77.0.0/16',
        dns: {
          mesosDomain: 'mesos',
          clusterDomain: 'cluster.local',
          vipDomain: 'l4lb.thisdcos.directory',
          upstreams: [],
        },
      },
    });
    await store.apply({ kind: 'Node', name: 'node-1', spec: { address: '127.0.0.1' } });
    backends.push(await startBackend('web-1'), await startBackend('web-2'));
    for (const b of backends) await store.apply(taskInput(b.id, b.port, vipPort));

    const vip = await eventually(async () => {
      const object = (await store.get({ kind: 'VIP', name: 'web.marathon' })) as StoredObject<'VIP'>;
      expect(object.spec.backends.map((b) => `${b.address}:${b.port} w${b.weight}`).sort()).toEqual(
        backends.map((b) => `127.0.0.1:${b.port} w1`).sort(),
      );
      return object;
    });
    expect(vip.spec.address).toMatch(/^127\.77\./);
    const url = `http://${vip.spec.address}:${vipPort}/`;

    // Both tasks answer, in turn (round-robin over two UP backends alternates).
    await eventually(async () => {
      const seen = new Set([await get(url), await get(url), await get(url)]);
      return seen.size === 2;
    }, 3 * CHECK_INTERVAL_MS);
    const turns: string[] = [];
    for (let i = 0; i < 6; i++) turns.push(await get(url));
    for (let i = 1; i < turns.length; i++) expect(turns[i]).not.toBe(turns[i - 1]);

    // Kill one task's server: every request still succeeds (a refused connect is retried on the other).
    backends[1]?.kill();
    let failures = 0;
    const answers = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const body = await get(url).catch(() => undefined);
      if (body === undefined) failures++;
      else answers.set(body, (answers.get(body) ?? 0) + 1);
    }
    expect(failures).toBe(0);
    expect([...answers.keys()]).toEqual(['web-1']);

    // Scale to three: the new task takes traffic within one check interval of appearing (its first
    // check is immediate; the second comes at the fast interval while it is rising).
    const third = await startBackend('web-3');
    backends.push(third);
    const t0 = Date.now();
    await store.apply(taskInput(third.id, third.port, vipPort));
    await eventually(async () => (await get(url)) === 'web-3', 3 * CHECK_INTERVAL_MS, 10);
    const elapsed = Date.now() - t0;
    process.stderr.write(`vip.test: the third task got traffic ${elapsed} ms after it was applied\n`);
    expect(elapsed).toBeLessThan(CHECK_INTERVAL_MS);
  }, 30_000);
});
