import { join } from 'node:path';
import { cidrContainsIp, createRegistry, parseCidr, parseIp, silentLogger } from '../../lib';
import type { ObjectInput, StoredObject } from '../../state';
import { createVipController, type VipController } from '../../vip';
import { eventually } from '../helpers/eventually';
import { Cluster, TOKEN } from './cluster';
import { PLUGIN, REPO, rootOrSkip, rootSnapshot, sh } from './world';

// A named VIP across two simulated hosts (DESIGN.md "Network tests"): an agent and a proxy in each
// host namespace, one task namespace per host added through the CNI plugin, the VIP controller
// in this process against the shared store. The agents put the VIP address on `sy-vip0`, the
// proxies listen on VIP:80, and a task on EITHER host reaches the VIP and both backends behind it.
const enabled = rootOrSkip('test/netns/vip.test.ts');
const d = enabled ? describe : describe.skip;
jest.setTimeout(60_000);

const cluster = new Cluster('v');
const REGISTER = join(REPO, 'test', 'helpers', 'ts-register.js');
const HOSTS = ['h1', 'h2'] as const;
const VIP_PORT = 80;
/** The service CIDR `Cluster` gives its Network. */
const SERVICE_CIDR = '198.19.240.0/20';
let controller: VipController | undefined;
let before = '';
const pods = new Map<string, string>();

/** The root namespace as rootSnapshot sees it, with only this suite's namespaces in the list. */
async function rootState(): Promise<string> {
  const snap = JSON.parse(await rootSnapshot()) as { netns: string[] };
  return JSON.stringify({ ...snap, netns: snap.netns.filter((n) => n.includes(cluster.world.prefix)) });
}

function taskInput(name: string, node: string): ObjectInput<'Task'> {
  return {
    kind: 'Task',
    name,
    labels: { app: 'web' },
    spec: {
      app: 'web',
      framework: 'marathon',
      node,
      state: 'running',
      health: 'healthy',
      networkMode: 'ip-per-container',
      ips: [],
      ports: [{ name: 'http', containerPort: 8080, protocol: 'tcp', labels: { VIP_0: `/web:${VIP_PORT}` } }],
    },
  };
}

/** An HTTP server on :8080 in `ns` answering its task name. */
async function serve(ns: string, name: string): Promise<void> {
  const code = `require('http').createServer((q,s)=>s.end(process.argv[1])).listen(8080,'0.0.0.0',()=>console.log('listening'))`;
  const server = cluster.world.spawnIn(ns, [process.execPath, '-e', code, name]);
  await eventually(() => server.output().includes('listening'), 10000);
}

async function curl(fromNs: string, url: string): Promise<string> {
  return sh('ip', ['netns', 'exec', fromNs, 'curl', '-s', '--max-time', '2', url]);
}

async function vipAddresses(ns: string): Promise<string> {
  return sh('ip', ['-n', ns, '-4', '-o', 'addr', 'show', 'dev', 'sy-vip0']).catch(() => 'no sy-vip0');
}

d('a named VIP across two simulated hosts', () => {
  beforeAll(async () => {
    before = await rootState();
    await cluster.start([...HOSTS]);
    controller = createVipController({
      api: cluster.store,
      logger: silentLogger(),
      registry: createRegistry(),
      debounceMs: 10,
      graceMs: 0,
    });
    await controller.start();
  });
  afterAll(async () => {
    await controller?.stop();
    await cluster.destroy();
  });

  it('each host binds the VIP address and its proxy serves it; a task on either host reaches both backends', async () => {
    for (const host of HOSTS) {
      const h = cluster.host(host);
      const proxy = cluster.world.spawnIn(
        h.ns,
        [process.execPath, '-r', REGISTER, join(__dirname, 'lb-main.ts')],
        {
          SY_STATE: cluster.server?.grpcAddress ?? '',
          SY_TOKEN: TOKEN,
          SY_LISTEN: h.address,
        },
      );
      const name = `web-${host}`;
      await cluster.store.apply(taskInput(name, host));
      const pod = await cluster.world.addNamespace(`${host}-pod`);
      const added = await cluster.world.cni(h.ns, PLUGIN, h.socket, {
        command: 'ADD',
        containerId: `ctr-${host}`,
        netns: `/run/netns/${pod}`,
        args: `SY_TASK=${name}`,
        config: { cniVersion: '1.0.0', name: 'synet', type: 'switchyard-cni' },
      });
      expect(added.code).toBe(0);
      await serve(pod, name);
      pods.set(host, pod);
      await eventually(() => proxy.output().includes('proxy ready'), 15000);
    }
    const vip = await eventually(async () => {
      const object = (await cluster.store.get({ kind: 'VIP', name: 'web.marathon' })) as StoredObject<'VIP'>;
      expect(object.spec.backends.filter((b) => b.weight === 1)).toHaveLength(2);
      return object;
    }, 10000);
    expect(cidrContainsIp(parseCidr(SERVICE_CIDR), parseIp(vip.spec.address))).toBe(true);
    for (const host of HOSTS)
      await eventually(
        async () => (await vipAddresses(cluster.host(host).ns)).includes(` ${vip.spec.address}/32 `),
        10000,
      );

    for (const host of HOSTS) {
      const pod = pods.get(host) ?? '';
      const seen = new Set<string>();
      await eventually(
        async () => {
          seen.add(await curl(pod, `http://${vip.spec.address}:${VIP_PORT}/`));
          return seen.has('web-h1') && seen.has('web-h2');
        },
        10000,
        20,
      );
      expect([...seen].filter((s) => s !== '').sort()).toEqual(['web-h1', 'web-h2']);
    }
  });

  it('a VIP that is gone leaves every host; a stopped agent takes its VIP interface with it', async () => {
    for (const host of HOSTS) await cluster.store.delete({ kind: 'Task', name: `web-${host}` });
    await eventually(async () => {
      await expect(cluster.store.get({ kind: 'VIP', name: 'web.marathon' })).rejects.toMatchObject({
        code: 'SY_STATE_NOT_FOUND',
      });
      return true;
    }, 10000);
    for (const host of HOSTS)
      await eventually(async () => !(await vipAddresses(cluster.host(host).ns)).includes(' inet '), 10000);
    const h2 = cluster.host('h2');
    await cluster.world.stop(h2.agent, 'SIGTERM');
    expect(await vipAddresses(h2.ns)).toBe('no sy-vip0');
  });
});

d('after the suite', () => {
  it('the root network namespace is identical before and after', async () => {
    expect(await rootState()).toBe(before);
  });
});
