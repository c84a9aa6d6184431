import { createMemoryStore, type StoredObject, type StateApi } from '../state';
import { parseAgentConfig } from './config';
import { acquireLease, renewLease, type LeaseOptions } from './lease';
import { chooseSubnet } from './subnet';
import { compileRoutes, diffRoutes, parseRouteList } from './routes';
import { taskNameFrom, taskRefOf, taskSpecAfterAdd } from './tasks';

const NETWORK = {
  kind: 'Network' as const,
  name: 'default',
  spec: {
    podCIDR: '198.18.0.0/24',
    nodeSubnetPrefix: 26,
    serviceCIDR: '198.19.240.0/20',
    dns: {
      mesosDomain: 'mesos',
      clusterDomain: 'cluster.local',
      vipDomain: 'l4lb.thisdcos.directory',
      upstreams: [],
    },
  },
};

function options(api: StateApi, nodeName: string, extra: Partial<LeaseOptions> = {}): LeaseOptions {
  return {
    api,
    nodeName,
    address: '198.19.0.11',
    network: 'default',
    ttlMs: 60_000,
    now: () => new Date('2026-01-01T00:00:00Z'),
    random: () => 0,
    ...extra,
  };
}

describe('chooseSubnet (pure)', () => {
  it.each([
    {
      desc: 'skips the first slice and takes a free one',
      taken: [],
      previous: undefined,
      want: '198.18.0.64/26',
    },
    {
      desc: 'keeps the previous subnet when free',
      taken: [],
      previous: '198.18.0.192/26',
      want: '198.18.0.192/26',
    },
    {
      desc: 'ignores a previous subnet now taken',
      taken: ['198.18.0.192/26'],
      previous: '198.18.0.192/26',
      want: '198.18.0.64/26',
    },
    {
      desc: 'ignores a previous subnet of the wrong size',
      taken: [],
      previous: '198.18.0.0/25',
      want: '198.18.0.64/26',
    },
    {
      desc: 'answers undefined when all are taken',
      taken: ['198.18.0.64/26', '198.18.0.128/26', '198.18.0.192/26'],
      previous: undefined,
      want: undefined,
    },
  ])('$desc', ({ taken, previous, want }) => {
    const input = { podCIDR: '198.18.0.0/24', prefix: 26, taken, random: () => 0 };
    expect(chooseSubnet(previous === undefined ? input : { ...input, previous })).toBe(want);
  });
});

describe('the node subnet lease (flannel model) over the state API', () => {
  it('creates the Node with a subnet, and a restart gets the same subnet back', async () => {
    const api = createMemoryStore();
    await api.apply(NETWORK);
    const first = await acquireLease(options(api, 'h1'));
    expect(first.spec).toMatchObject({
      address: '198.19.0.11',
      podSubnet: '198.18.0.64/26',
      leaseExpiresAt: '2026-01-01T00:01:00.000Z',
    });
    const again = await acquireLease(options(api, 'h1', { random: () => 0.99 }));
    expect(again.spec.podSubnet).toBe('198.18.0.64/26');
  });

  it('racing agents get distinct subnets (compare-and-set + overlap refusal), and the pod CIDR runs out clearly', async () => {
    const api = createMemoryStore();
    await api.apply(NETWORK);
    const nodes = await Promise.all(['a', 'b', 'c'].map((n) => acquireLease(options(api, n))));
    expect(new Set(nodes.map((n) => n.spec.podSubnet)).size).toBe(3);
    await expect(acquireLease(options(api, 'd'))).rejects.toMatchObject({ code: 'SY_AGENT_NO_SUBNET' });
  });

  it('reclaims an expired lease when no subnet is free', async () => {
    const api = createMemoryStore();
    await api.apply(NETWORK);
    for (const n of ['a', 'b', 'c']) await acquireLease(options(api, n));
    const later = options(api, 'd', { now: () => new Date('2026-01-01T00:05:00Z') });
    const d = await acquireLease(later);
    expect(d.spec.podSubnet).toBeDefined();
  });

  it('renewal extends the lease; a removed Node means the lease is revoked and the subnet free', async () => {
    const api = createMemoryStore();
    await api.apply(NETWORK);
    const o = options(api, 'h1');
    const node = await acquireLease(o);
    const renewed = await renewLease(
      { ...o, now: () => new Date('2026-01-01T00:00:30Z') },
      node,
      '198.18.0.64/26',
    );
    expect(renewed.spec.leaseExpiresAt).toBe('2026-01-01T00:01:30.000Z');
    await api.delete({ kind: 'Node', name: 'h1' });
    await expect(renewLease(o, renewed, '198.18.0.64/26')).rejects.toMatchObject({
      code: 'SY_AGENT_LEASE_REVOKED',
    });
    expect((await acquireLease(options(api, 'h2'))).spec.podSubnet).toBe('198.18.0.64/26');
  });

  it('a missing Network is SY_AGENT_NO_NETWORK', async () => {
    await expect(acquireLease(options(createMemoryStore(), 'h1'))).rejects.toMatchObject({
      code: 'SY_AGENT_NO_NETWORK',
    });
  });
});

describe('host-gateway routes (pure)', () => {
  const node = (name: string, podSubnet?: string, address = '198.19.0.1'): StoredObject =>
    ({
      kind: 'Node',
      name,
      labels: {},
      revision: 1,
      createRevision: 1,
      spec: podSubnet === undefined ? { address } : { address, podSubnet },
    }) as StoredObject;
  it('routes every other leased node, not itself', () => {
    const table = compileRoutes(
      [node('b', '198.18.0.128/26', '198.19.0.12'), node('a', '198.18.0.64/26', '198.19.0.11'), node('c')],
      'a',
    );
    expect([...table]).toEqual([['198.18.0.128/26', '198.19.0.12']]);
  });
  it.each([
    {
      desc: 'adds new and changed routes',
      applied: [['s1', 'v1']],
      next: [
        ['s1', 'v2'],
        ['s2', 'v3'],
      ],
      want: ['route replace s1 via v2 proto 122', 'route replace s2 via v3 proto 122'],
    },
    {
      desc: 'removes routes of nodes that left',
      applied: [['s1', 'v1']],
      next: [],
      want: ['route del s1 proto 122'],
    },
    { desc: 'does nothing when unchanged', applied: [['s1', 'v1']], next: [['s1', 'v1']], want: [] },
  ])('diff: $desc', ({ applied, next, want }) => {
    expect(
      diffRoutes(new Map(applied as Array<[string, string]>), new Map(next as Array<[string, string]>), 122),
    ).toEqual(want);
  });
  it('reads `ip -j route` output', () => {
    expect([
      ...parseRouteList('[{"dst":"198.18.0.64/26","gateway":"198.19.0.11","protocol":"122"}]'),
    ]).toEqual([['198.18.0.64/26', '198.19.0.11']]);
  });
});

describe('Task status (pure parts)', () => {
  const record = {
    network: 'n',
    containerId: 'Ctr_1.x',
    ifname: 'eth0',
    kind: 'plugin' as const,
    ip: '198.18.0.66',
    netns: '',
    portMappings: [{ hostPort: 18080, containerPort: 8080, protocol: 'tcp' as const }],
    ipMasq: false,
    createdAt: 't',
  };
  it.each([
    {
      desc: 'SY_TASK with a namespace',
      args: { SY_TASK: 'prod/web-1' },
      want: { namespace: 'prod', name: 'web-1' },
    },
    {
      desc: 'Kubernetes pod args',
      args: { K8S_POD_NAMESPACE: 'ns', K8S_POD_NAME: 'p' },
      want: { namespace: 'ns', name: 'p' },
    },
    { desc: 'the container id otherwise', args: {}, want: { namespace: 'default', name: 'ctr-1-x' } },
  ])('names the Task from $desc', ({ args, want }) =>
    expect(taskRefOf(record, args as Record<string, string>)).toEqual(want),
  );
  it('keeps a lowercase RFC 1123 label from any container id', () =>
    expect(taskNameFrom('--A'.repeat(40))).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/));
  it('sets ips, port-mapped mode and host ports on an existing task', () => {
    const existing = {
      app: 'web',
      framework: 'marathon',
      node: 'x',
      state: 'running' as const,
      health: 'healthy' as const,
      networkMode: 'host' as const,
      ips: [],
      ports: [{ name: 'http', containerPort: 8080, protocol: 'tcp' as const }],
    };
    expect(taskSpecAfterAdd(existing, record, 'h1', { namespace: 'default', name: 'web' })).toEqual({
      ...existing,
      node: 'h1',
      ips: ['198.18.0.66'],
      networkMode: 'port-mapped',
      ports: [{ name: 'http', containerPort: 8080, hostPort: 18080, protocol: 'tcp' }],
    });
  });
});

describe('parseAgentConfig', () => {
  it('fills the defaults', () => {
    expect(parseAgentConfig({ nodeName: 'h1', nodeAddress: '198.19.0.11' })).toMatchObject({
      network: 'default',
      bridge: 'sy0',
      socketPath: '/run/switchyard/cni.sock',
      natTable: 'switchyard',
      routeProtocol: 122,
    });
  });
  it.each([
    { desc: 'a bad address', raw: { nodeName: 'h1', nodeAddress: 'x' }, field: 'nodeAddress' },
    { desc: 'an unknown key', raw: { nodeName: 'h1', nodeAddress: '198.19.0.11', brige: 'x' }, field: '' },
    {
      desc: 'a too-long bridge name',
      raw: { nodeName: 'h1', nodeAddress: '198.19.0.11', bridge: 'a-very-long-bridge' },
      field: 'bridge',
    },
    {
      desc: 'heartbeat not shorter than the TTL',
      raw: { nodeName: 'h1', nodeAddress: '198.19.0.11', leaseTtlMs: 10, heartbeatIntervalMs: 10 },
      field: 'heartbeatIntervalMs',
    },
  ])('refuses $desc naming the field', ({ raw, field }) => {
    expect(() => parseAgentConfig(raw)).toThrow(expect.objectContaining({ code: 'SY_AGENT_CONFIG', field }));
  });
});

describe('README example', () => {
  it('the agent README example config parses', () => {
    const { readFileSync } = jest.requireActual<typeof import('node:fs')>('node:fs');
    const { parse } = jest.requireActual<typeof import('yaml')>('yaml');
    const text = /```yaml\n([\s\S]*?)```/.exec(readFileSync(`${__dirname}/README.md`, 'utf8'))?.[1] ?? '';
    expect(parseAgentConfig(parse(text)).nodeName).toBe('node-1.example.org');
  });
});
