import { parseCidr, cidrContainsIp, parseIp } from '../../lib';
import type { StoredObject } from '../../state';
import { eventually } from '../helpers/eventually';
import { Cluster, NODE_PREFIX, POD_CIDR } from './cluster';
import { IPAM, PLUGIN, REPO, rootOrSkip, rootSnapshot, sh, type CniAnswer } from './world';

// Three simulated hosts, an agent in each, containers added through the real executables exactly as
// a runtime does (env + stdin). Needs root; see DESIGN.md "Network tests".
const enabled = rootOrSkip('test/netns/cni.test.ts');
const d = enabled ? describe : describe.skip;
jest.setTimeout(120_000);

const conf = (cniVersion: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  cniVersion,
  name: 'synet',
  type: 'switchyard-cni',
  ...extra,
});

let before = '';
const cluster = new Cluster('c');
let pods = 0;

async function newPod(host: string): Promise<string> {
  pods++;
  return cluster.world.addNamespace(`${host}-p${pods}`);
}

async function add(
  host: string,
  podNs: string,
  id: string,
  version = '1.0.0',
  extra: Record<string, unknown> = {},
): Promise<CniAnswer> {
  const h = cluster.host(host);
  return cluster.world.cni(h.ns, PLUGIN, h.socket, {
    command: 'ADD',
    containerId: id,
    netns: `/run/netns/${podNs}`,
    config: conf(version, extra),
  });
}

async function del(
  host: string,
  podNs: string | undefined,
  id: string,
  version = '1.0.0',
  extra: Record<string, unknown> = {},
): Promise<CniAnswer> {
  const h = cluster.host(host);
  return cluster.world.cni(h.ns, PLUGIN, h.socket, {
    command: 'DEL',
    containerId: id,
    netns: podNs === undefined ? '' : `/run/netns/${podNs}`,
    config: conf(version, extra),
  });
}

function firstIp(answer: CniAnswer): string {
  const ips = answer.json.ips as Array<{ address: string }> | undefined;
  const address = ips?.[0]?.address;
  if (address === undefined) throw new Error(`no ips in ${answer.stdout}`);
  return address.split('/')[0] as string;
}

function nodeSubnet(host: string): string {
  return subnets.get(host) ?? '';
}

const subnets = new Map<string, string>();

const SERVER =
  "require('http').createServer((q,s)=>s.end('pong '+q.socket.remoteAddress)).listen(8080,'0.0.0.0',()=>console.log('listening'))";

/** An HTTP server on :8080 inside `ns` (this machine has no ping; a real TCP exchange proves more). */
async function serve(ns: string): Promise<void> {
  const server = cluster.world.spawnIn(ns, [process.execPath, '-e', SERVER]);
  await eventually(() => server.output().includes('listening'), 10000);
}

async function get(fromNs: string, url: string): Promise<string> {
  return sh('ip', ['netns', 'exec', fromNs, 'curl', '-s', '--max-time', '3', url]);
}

/** True when `fromNs` gets an answer from the server in the pod at `ip`. */
async function reach(fromNs: string, ip: string): Promise<boolean> {
  return get(fromNs, `http://${ip}:8080/`).then(
    (body) => body.startsWith('pong '),
    () => false,
  );
}

async function attachments(host: string): Promise<Array<{ ip: string; containerId: string }>> {
  const out = await sh('curl', [
    '-sf',
    '--unix-socket',
    cluster.host(host).socket,
    'http://agent/v1/attachments',
  ]);
  return (JSON.parse(out) as { attachments: Array<{ ip: string; containerId: string }> }).attachments;
}

d('switchyard agents on three simulated hosts', () => {
  beforeAll(async () => {
    before = await rootSnapshot();
    await cluster.start(['h1', 'h2', 'h3']);
    for (const name of ['h1', 'h2', 'h3']) {
      const node = (await cluster.store.get({ kind: 'Node', name })) as StoredObject<'Node'>;
      subnets.set(name, node.spec.podSubnet ?? '');
    }
  });
  afterAll(async () => {
    await cluster.destroy();
  });

  it('leases each node a distinct /26 of the pod CIDR and programs host-gateway routes to the others', async () => {
    const all = [...subnets.values()];
    expect(new Set(all).size).toBe(3);
    for (const s of all) {
      const c = parseCidr(s);
      expect(c.prefix).toBe(NODE_PREFIX);
      expect(cidrContainsIp(parseCidr(POD_CIDR), { family: 4, value: c.network })).toBe(true);
    }
    for (const [name, h] of cluster.hosts) {
      await eventually(async () => {
        const routes = JSON.parse(
          await sh('ip', ['-n', h.ns, '-j', 'route', 'show', 'proto', '122']),
        ) as Array<{ dst: string; gateway: string }>;
        const want = [...cluster.hosts.values()]
          .filter((o) => o.name !== name)
          .map((o) => `${subnets.get(o.name)} via ${o.address}`)
          .sort();
        expect(routes.map((r) => `${r.dst} via ${r.gateway}`).sort()).toEqual(want);
        return true;
      }, 10000);
    }
  });

  const versions = [
    { desc: 'spec 1.0.0 on h1', host: 'h1', version: '1.0.0' },
    { desc: 'spec 0.4.0 on h2', host: 'h2', version: '0.4.0' },
    { desc: 'spec 1.1.0 on h3', host: 'h3', version: '1.1.0' },
  ];
  const podOf = new Map<string, { ns: string; ip: string; id: string }>();

  it.each(versions)(
    'ADD answers a spec result with an address from the node subnet ($desc)',
    async ({ host, version }) => {
      const ns = await newPod(host);
      const id = `ctr-${host}`;
      const answer = await add(host, ns, id, version, { args: { cni: {} } });
      expect(answer.code).toBe(0);
      expect(answer.json.cniVersion).toBe(version);
      const ips = answer.json.ips as Array<Record<string, unknown>>;
      expect(ips[0]?.interface).toBe(2);
      expect('version' in (ips[0] ?? {})).toBe(version === '0.4.0');
      const interfaces = answer.json.interfaces as Array<Record<string, unknown>>;
      expect(interfaces.map((i) => i.name)).toEqual([
        'sy0',
        expect.stringMatching(/^sy[0-9a-f]{12}$/),
        'eth0',
      ]);
      expect(interfaces[2]?.sandbox).toBe(`/run/netns/${ns}`);
      const ip = firstIp(answer);
      expect(cidrContainsIp(parseCidr(nodeSubnet(host)), parseIp(ip))).toBe(true);
      const inPod = await sh('ip', ['-n', ns, '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
      expect(inPod).toContain(` ${ip}/${NODE_PREFIX} `);
      await serve(ns);
      podOf.set(host, { ns, ip, id });
    },
  );

  it('reports each container as a Task with its address', async () => {
    for (const [host, pod] of podOf) {
      await eventually(async () => {
        const task = (await cluster.store.get({ kind: 'Task', name: pod.id })) as StoredObject<'Task'>;
        expect(task.spec.ips).toEqual([pod.ip]);
        expect(task.spec.node).toBe(host);
        expect(task.spec.networkMode).toBe('ip-per-container');
        return true;
      }, 10000);
    }
  });

  it.each([
    { desc: 'h1 → h2', from: 'h1', to: 'h2' },
    { desc: 'h2 → h3', from: 'h2', to: 'h3' },
    { desc: 'h3 → h1', from: 'h3', to: 'h1' },
  ])('container ↔ container across hosts ($desc)', async ({ from, to }) => {
    const a = podOf.get(from);
    const b = podOf.get(to);
    expect(await reach(a?.ns ?? '', b?.ip ?? '')).toBe(true);
  });

  it('CHECK passes after ADD; DEL removes everything, twice; CHECK after DEL fails with code 103', async () => {
    const pod = podOf.get('h3');
    if (pod === undefined) throw new Error('no pod');
    const h = cluster.host('h3');
    const prev = {
      ...conf('1.1.0'),
      prevResult: { cniVersion: '1.1.0', ips: [{ address: `${pod.ip}/${NODE_PREFIX}` }] },
    };
    const check = await cluster.world.cni(h.ns, PLUGIN, h.socket, {
      command: 'CHECK',
      containerId: pod.id,
      netns: `/run/netns/${pod.ns}`,
      config: prev,
    });
    expect([check.code, check.stdout]).toEqual([0, '']);
    for (let i = 0; i < 2; i++) {
      const out = await del('h3', pod.ns, pod.id, '1.1.0');
      expect([out.code, out.stdout]).toEqual([0, '']);
    }
    const after = await cluster.world.cni(h.ns, PLUGIN, h.socket, {
      command: 'CHECK',
      containerId: pod.id,
      netns: `/run/netns/${pod.ns}`,
      config: prev,
    });
    expect(after.code).toBe(1);
    expect(after.json.code).toBe(103);
    expect(await sh('ip', ['-n', pod.ns, '-o', 'link'])).not.toContain('eth0');
    expect(await sh('ip', ['-n', h.ns, '-o', 'link', 'show', 'master', 'sy0'])).toBe('');
    expect(await attachments('h3')).toEqual([]);
    await eventually(async () => {
      await expect(cluster.store.get({ kind: 'Task', name: pod.id })).rejects.toMatchObject({
        code: 'SY_STATE_NOT_FOUND',
      });
      return true;
    }, 10000);
    podOf.delete('h3');
  });

  it('DEL succeeds when the network namespace is already gone, and releases the address', async () => {
    const ns = await newPod('h1');
    const answer = await add('h1', ns, 'gone-1');
    expect(answer.code).toBe(0);
    await sh('ip', ['netns', 'del', ns]);
    const out = await del('h1', ns, 'gone-1');
    expect(out.code).toBe(0);
    expect((await attachments('h1')).map((a) => a.containerId)).not.toContain('gone-1');
  });

  it('50 concurrent ADDs give 50 distinct addresses; 50 concurrent DELs release them all', async () => {
    const nss = await Promise.all(Array.from({ length: 50 }, () => newPod('h2')));
    const answers = await Promise.all(nss.map((ns, i) => add('h2', ns, `burst-${i}`)));
    expect(answers.map((a) => a.code)).toEqual(Array(50).fill(0));
    const ips = answers.map(firstIp);
    expect(new Set(ips).size).toBe(50);
    for (const ip of ips) expect(cidrContainsIp(parseCidr(nodeSubnet('h2')), parseIp(ip))).toBe(true);
    const dels = await Promise.all(nss.map((ns, i) => del('h2', ns, `burst-${i}`)));
    expect(dels.map((a) => a.code)).toEqual(Array(50).fill(0));
    expect((await attachments('h2')).length).toBe(1);
    await Promise.all(nss.map((ns) => sh('ip', ['netns', 'del', ns])));
  });

  it('exhaustion gives a clear CNI error (code 100), and a released address is usable again', async () => {
    const h = cluster.host('h1');
    const ipamConf = { cniVersion: '1.0.0', name: 'fill', type: 'bridge', ipam: { type: 'switchyard-ipam' } };
    const call = (id: string, command = 'ADD'): Promise<CniAnswer> =>
      cluster.world.cni(h.ns, IPAM, h.socket, {
        command,
        containerId: id,
        netns: '/run/netns/none',
        config: ipamConf,
      });
    const used = (await attachments('h1')).length;
    const free = 2 ** (32 - NODE_PREFIX) - 3 - used;
    const fills = await Promise.all(Array.from({ length: free }, (_, i) => call(`fill-${i}`)));
    expect(fills.filter((a) => a.code !== 0)).toEqual([]);
    const over = await call('fill-over');
    expect(over.code).toBe(1);
    expect(over.json).toMatchObject({
      cniVersion: '1.0.0',
      code: 100,
      msg: `no IP addresses available in node subnet ${nodeSubnet('h1')}`,
    });
    expect(String(over.json.details)).toContain('61 usable addresses');
    expect((await call('fill-0', 'DEL')).code).toBe(0);
    expect((await call('fill-over')).code).toBe(0);
    const dels = await Promise.all(
      [...Array.from({ length: free }, (_, i) => `fill-${i}`), 'fill-over'].map((id) => call(id, 'DEL')),
    );
    expect(dels.every((a) => a.code === 0)).toBe(true);
  });

  it('an agent crash (SIGKILL) and restart keeps every allocation, the subnet and the running containers', async () => {
    const nss = await Promise.all([newPod('h2'), newPod('h2')]);
    const ips = (await Promise.all(nss.map((ns, i) => add('h2', ns, `keep-${i}`)))).map(firstIp);
    await serve(nss[0] as string);
    const beforeList = (await attachments('h2')).map((a) => `${a.containerId}=${a.ip}`).sort();
    await cluster.restartAgent('h2', 'SIGKILL');
    const node = (await cluster.store.get({ kind: 'Node', name: 'h2' })) as StoredObject<'Node'>;
    expect(node.spec.podSubnet).toBe(nodeSubnet('h2'));
    expect((await attachments('h2')).map((a) => `${a.containerId}=${a.ip}`).sort()).toEqual(beforeList);
    const fresh = await newPod('h2');
    const next = firstIp(await add('h2', fresh, 'keep-new'));
    expect([...ips, podOf.get('h2')?.ip]).not.toContain(next);
    expect(await reach(podOf.get('h1')?.ns ?? '', ips[0] ?? '')).toBe(true);
    for (const [i, ns] of nss.entries()) expect((await del('h2', ns, `keep-${i}`)).code).toBe(0);
    expect((await del('h2', fresh, 'keep-new')).code).toBe(0);
  });

  it('port mappings: reachable from another host, from the host itself (own address and 127.0.0.1), hairpin and a neighbour; gone after DEL', async () => {
    const h = cluster.host('h1');
    const ns = await newPod('h1');
    await serve(ns);
    const mappings = {
      runtimeConfig: { portMappings: [{ hostPort: 18080, containerPort: 8080, protocol: 'tcp' }] },
    };
    const answer = await add('h1', ns, 'web-1', '1.0.0', mappings);
    expect(answer.code).toBe(0);
    const neighbour = await newPod('h1');
    expect((await add('h1', neighbour, 'web-nb')).code).toBe(0);
    expect(await get(cluster.host('h2').ns, `http://${h.address}:18080/`)).toMatch(/^pong /);
    expect(await get(h.ns, `http://${h.address}:18080/`)).toMatch(/^pong /);
    expect(await get(h.ns, 'http://127.0.0.1:18080/')).toMatch(/^pong /);
    expect(await get(ns, `http://${h.address}:18080/`)).toMatch(/^pong /);
    expect(await get(neighbour, `http://${h.address}:18080/`)).toMatch(/^pong /);
    await eventually(async () => {
      const task = (await cluster.store.get({ kind: 'Task', name: 'web-1' })) as StoredObject<'Task'>;
      expect(task.spec.networkMode).toBe('port-mapped');
      expect(task.spec.ports).toEqual([{ containerPort: 8080, hostPort: 18080, protocol: 'tcp' }]);
      return true;
    }, 10000);
    expect((await del('h1', ns, 'web-1', '1.0.0', mappings)).code).toBe(0);
    expect(await sh('ip', ['netns', 'exec', h.ns, 'nft', 'list', 'table', 'ip', 'switchyard'])).not.toContain(
      '18080',
    );
    await expect(get(cluster.host('h2').ns, `http://${h.address}:18080/`)).rejects.toThrow();
    expect((await del('h1', neighbour, 'web-nb')).code).toBe(0);
  });

  it('the reference bridge plugin runs ADD/CHECK/DEL with switchyard-ipam, on the agent bridge', async () => {
    const h = cluster.host('h3');
    const ns = await newPod('h3');
    const bridgeConf = {
      cniVersion: '1.0.0',
      name: 'refnet',
      type: 'bridge',
      bridge: 'sy0',
      isGateway: true,
      ipam: { type: 'switchyard-ipam' },
    };
    const path = `${REPO}/cni/bin:/usr/lib/cni`;
    const call = (command: string, config: object): Promise<CniAnswer> =>
      cluster.world.cni(h.ns, '/usr/lib/cni/bridge', h.socket, {
        command,
        containerId: 'ref-1',
        netns: `/run/netns/${ns}`,
        path,
        config,
      });
    const added = await call('ADD', bridgeConf);
    expect(added.code).toBe(0);
    const ip = firstIp(added);
    expect(cidrContainsIp(parseCidr(nodeSubnet('h3')), parseIp(ip))).toBe(true);
    expect(await reach(ns, podOf.get('h1')?.ip ?? '')).toBe(true);
    const withPrev = { ...bridgeConf, prevResult: added.json };
    expect((await call('CHECK', withPrev)).code).toBe(0);
    expect((await call('DEL', withPrev)).code).toBe(0);
    expect((await call('DEL', withPrev)).code).toBe(0);
    expect((await attachments('h3')).map((a) => a.containerId)).not.toContain('ref-1');
  });
});

d('after the suite', () => {
  it('the root network namespace is identical before and after', async () => {
    expect(await rootSnapshot()).toBe(before);
  });
});
