import { CommandError, type CommandRunner } from '../cni';
import { createRegistry, silentLogger } from '../lib';
import { createMemoryStore, type ObjectInput, type StoredObject } from '../state';
import { eventually } from '../test/helpers/eventually';
import { parseAgentConfig } from './config';
import { createAgentMetrics } from './metrics';
import { startVipBinder } from './vip-binder';
import { compileVipAddresses, diffVipAddresses, parseAddressList } from './vips';

const NETWORK: ObjectInput<'Network'> = {
  kind: 'Network',
  name: 'default',
  spec: {
    podCIDR: '198.18.0.0/17',
    nodeSubnetPrefix: 24,
    serviceCIDR: '198.19.240.0/20',
    dns: {
      mesosDomain: 'mesos',
      clusterDomain: 'cluster.local',
      vipDomain: 'l4lb.thisdcos.directory',
      upstreams: [],
    },
  },
};

function vipInput(name: string, address: string): ObjectInput<'VIP'> {
  return {
    kind: 'VIP',
    name: `${name}.marathon`,
    spec: {
      name,
      framework: 'marathon',
      address,
      ports: [{ port: 80, protocol: 'tcp', mode: 'tcp' }],
      backends: [],
      owners: [{ kind: 'app', namespace: 'default', name, source: 'VIP_0' }],
    },
  };
}

const stored = (input: ObjectInput<'VIP'>): StoredObject =>
  ({ ...input, labels: {}, revision: 1, createRevision: 1 }) as StoredObject;

describe('VIP addresses (pure)', () => {
  test.each([
    {
      desc: 'every VIP address as a host address, sorted, with the VIPs using it',
      vips: [
        vipInput('web', '198.19.240.20'),
        vipInput('api', '198.19.240.3'),
        vipInput('v6', 'fd00:0:0::a'),
      ],
      want: [
        ['198.19.240.20/32', ['web.marathon']],
        ['198.19.240.3/32', ['api.marathon']],
        ['fd00::a/128', ['v6.marathon']],
      ],
    },
    {
      desc: 'loopback VIPs (the all-in-one range) are left to lo',
      vips: [vipInput('web', '127.77.0.10'), vipInput('v6', '::1')],
      want: [],
    },
  ])('$desc', ({ vips, want }) => {
    expect([...compileVipAddresses(vips.map(stored))]).toEqual(want);
  });

  test('the diff adds first, then removes; IPv6 without DAD; nothing when equal', () => {
    const applied = new Set(['198.19.240.1/32', '198.19.240.2/32']);
    const next = new Set(['198.19.240.2/32', '198.19.240.3/32', 'fd00::a/128']);
    expect(diffVipAddresses(applied, next, 'sy-vip0').join('\n')).toBe(
      [
        'addr replace 198.19.240.3/32 dev sy-vip0',
        'addr replace fd00::a/128 dev sy-vip0 nodad',
        'addr del 198.19.240.1/32 dev sy-vip0',
      ].join('\n'),
    );
    expect(diffVipAddresses(next, next, 'sy-vip0')).toEqual([]);
  });

  test('addresses read back from `ip -j addr`, link-local ones left out', () => {
    const json = JSON.stringify([
      {
        ifname: 'sy-vip0',
        addr_info: [
          { family: 'inet', local: '198.19.240.1', prefixlen: 32, scope: 'global' },
          { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' },
        ],
      },
    ]);
    expect([...parseAddressList(json)]).toEqual(['198.19.240.1/32']);
    expect([...parseAddressList('')]).toEqual([]);
  });

  test('config: vipInterface must be an interface name other than the bridge', () => {
    const base = { nodeName: 'node-1', nodeAddress: '198.18.0.1' };
    expect(parseAgentConfig(base)).toMatchObject({ bindVips: true, vipInterface: 'sy-vip0' });
    expect(() => parseAgentConfig({ ...base, vipInterface: 'sy0' })).toThrow(/vipInterface must differ/);
    expect(() => parseAgentConfig({ ...base, vipInterface: 'a-very-long-interface' })).toThrow(
      /interface name/,
    );
  });
});

/** A fake `ip`: one interface whose addresses the batch lines change; no dummy driver. */
function fakeIp(initial: string[] = []): { run: CommandRunner; calls: string[]; addresses: Set<string> } {
  const addresses = new Set(initial);
  const calls: string[] = [];
  let exists = initial.length > 0;
  const run: CommandRunner = (file, args, input) => {
    const line = [file, ...args].join(' ');
    calls.push(input === undefined ? line : `${line} <<${input.trim().split('\n').join('; ')}`);
    if (line === 'ip link add sy-vip0 type dummy')
      return Promise.reject(new CommandError(file, args, 2, 'Error: Unknown device type.\n'));
    if (line === 'ip link add sy-vip0 type bridge') exists = true;
    if (line === 'ip link del sy-vip0') exists = false;
    if (line === 'ip -j link show dev sy-vip0' && !exists)
      return Promise.reject(new CommandError(file, args, 1, 'Device "sy-vip0" does not exist.\n'));
    if (line === 'ip -j addr show dev sy-vip0') {
      const info = [...addresses].map((a) => ({ local: a.split('/')[0], prefixlen: 32, scope: 'global' }));
      return Promise.resolve({ stdout: JSON.stringify([{ addr_info: info }]), stderr: '' });
    }
    for (const l of (input ?? '').split('\n')) {
      const m = /^addr (replace|del) (\S+) dev sy-vip0/.exec(l);
      if (m?.[1] === 'replace') addresses.add(m[2] ?? '');
      if (m?.[1] === 'del') addresses.delete(m[2] ?? '');
    }
    return Promise.resolve({ stdout: '', stderr: '' });
  };
  return { run, calls, addresses };
}

describe('startVipBinder', () => {
  async function setup(initial: string[] = []) {
    const api = createMemoryStore();
    await api.apply(NETWORK);
    const spec = { ...NETWORK.spec, podCIDR: '198.18.128.0/17', serviceCIDR: '127.77.0.0/16' };
    await api.apply({ ...NETWORK, name: 'loopback', spec });
    await api.apply(vipInput('web', '198.19.240.20'));
    await api.apply(vipInput('local', '127.77.0.9'));
    const ip = fakeIp(initial);
    const stop = new AbortController();
    const registry = createRegistry();
    const binder = await startVipBinder({
      api,
      run: ip.run,
      ifname: 'sy-vip0',
      log: silentLogger(),
      metrics: createAgentMetrics(registry),
      signal: stop.signal,
    });
    return { api, ip, binder, stop, registry };
  }

  test('creates the interface (a bridge without a dummy driver), binds VIP addresses, follows deletes, deletes the interface on close', async () => {
    const { api, ip, binder, stop, registry } = await setup();
    expect(ip.calls).toEqual([
      'ip -j link show dev sy-vip0',
      'ip link add sy-vip0 type dummy',
      'ip link add sy-vip0 type bridge',
      'ip link set sy-vip0 up',
      'ip -j addr show dev sy-vip0',
      'ip -force -batch - <<addr replace 198.19.240.20/32 dev sy-vip0',
    ]);
    expect(await registry.getSingleMetricAsString('switchyard_agent_vip_addresses')).toContain(' 1');
    await api.apply(vipInput('api', '198.19.240.21'));
    await eventually(() => ip.addresses.has('198.19.240.21/32'));
    await api.delete({ kind: 'VIP', name: 'web.marathon' });
    await eventually(() => !ip.addresses.has('198.19.240.20/32'));
    expect([...ip.addresses]).toEqual(['198.19.240.21/32']);
    await binder.close();
    stop.abort();
    expect(ip.calls.at(-1)).toBe('ip link del sy-vip0');
  });

  test('after a crash, stale addresses on the interface are removed and missing ones added in one batch', async () => {
    const { ip, binder, stop } = await setup(['198.19.240.99/32', '198.19.240.20/32']);
    expect(ip.calls.filter((c) => c.includes('batch'))).toEqual([
      'ip -force -batch - <<addr del 198.19.240.99/32 dev sy-vip0',
    ]);
    expect(ip.calls).not.toContain('ip link add sy-vip0 type dummy');
    await binder.close();
    stop.abort();
  });
});
