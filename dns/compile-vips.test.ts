import { compileZone, updateZone, type ZoneSnapshot } from './compile';
import { modified, network, node, service, task, vip } from './testing/fixtures';
import { RR_TYPE, type ResourceRecord } from './wire';
import type { CompiledZone } from './zone';
import type { StoredObject } from '../state';

// Named VIPs and Service addresses from VIP objects; masters and agents from the Mesos source's Nodes.
const agents = [
  node('node-s1', '198.18.1.1'),
  node('node-s2', '198.18.1.2', {}, { 'switchyard.io/mesos-role': 'agent' }),
];
const web = task('web-1', { id: 'web.1', app: 'web', ips: ['198.18.10.5'] });

const appVip = vip('mygroupmyapp', 'marathon', '198.19.0.20', {
  ports: [
    { port: 80, protocol: 'tcp', mode: 'tcp' },
    { port: 53, protocol: 'udp', mode: 'tcp' },
  ],
  owners: [{ kind: 'app', namespace: 'default', name: 'mygroup/myapp', source: 'VIP_0' }],
});
const ipVip = vip('198-19-0-30', 'ip.vip', '198.19.0.30', {
  owners: [{ kind: 'app', namespace: 'default', name: 'web', source: 'VIP_1' }],
});
const released = vip('gone', 'marathon', '198.19.0.40', { releaseAt: '2030-01-01T00:00:00Z' });
// A Service with a VIP name but no explicit address: its address is the VIP object's.
const api = service(
  'api',
  { selector: { app: 'api' }, vip: { name: 'api' }, ports: [{ name: 'http', port: 80, protocol: 'tcp' }] },
  { namespace: 'prod' },
);
const apiVip = vip('api', 'prod.svc', '198.19.0.50', {
  owners: [{ kind: 'service', namespace: 'prod', name: 'api', source: 'spec.vip' }],
});
// An explicit address still answers without any VIP object.
const explicit = service('fixed', { selector: { app: 'x' }, vip: { address: '198.19.0.60' } });

const masterLabels = (index: number, leader = false): Record<string, string> => ({
  'switchyard.io/mesos-role': 'master',
  'switchyard.io/mesos-master-index': String(index),
  'switchyard.io/mesos-port': '5051',
  ...(leader ? { 'switchyard.io/mesos-leader': 'true' } : {}),
});
const masters = [
  node('master-b', '198.18.0.11', {}, masterLabels(1, true)),
  node('master-a', '198.18.0.10', {}, masterLabels(0)),
];
const framework = node('fw-marathon', '198.18.0.20', {}, { 'switchyard.io/mesos-role': 'framework' });

function snapshot(overrides: Partial<ZoneSnapshot> = {}): ZoneSnapshot {
  return {
    networks: [network()],
    nodes: [...agents, ...masters, framework],
    tasks: [web],
    services: [api, explicit],
    vips: [appVip, ipVip, released, apiVip],
    revision: 42,
    options: { masters: { addresses: ['198.18.0.1'], leader: '198.18.0.1' } },
    ...overrides,
  };
}

function linesOf(zone: CompiledZone, keep: (r: ResourceRecord) => boolean): string[] {
  return zone
    .zoneText(keep)
    .split('\n')
    .filter((l) => l !== '');
}

const notApex = (r: ResourceRecord): boolean => r.data.type !== 'SOA' && r.data.type !== 'NS';

describe('compileZone: VIP objects and Mesos master Nodes as zone-file text', () => {
  const zone = compileZone(snapshot());
  const cases: Array<{ desc: string; keep: (r: ResourceRecord) => boolean; want: string[] }> = [
    {
      desc: 'named VIPs: A → address, SRV per port (by number) → the VIP name; IP and released VIPs skipped',
      keep: (r) => r.name.endsWith('l4lb.thisdcos.directory') && notApex(r),
      want: [
        '_53._udp.mygroupmyapp.marathon.l4lb.thisdcos.directory. 5 IN SRV 0 1 53 mygroupmyapp.marathon.l4lb.thisdcos.directory.',
        '_80._tcp.api.prod.svc.l4lb.thisdcos.directory. 5 IN SRV 0 1 80 api.prod.svc.l4lb.thisdcos.directory.',
        '_80._tcp.mygroupmyapp.marathon.l4lb.thisdcos.directory. 5 IN SRV 0 1 80 mygroupmyapp.marathon.l4lb.thisdcos.directory.',
        'api.prod.svc.l4lb.thisdcos.directory. 5 IN A 198.19.0.50',
        'mygroupmyapp.marathon.l4lb.thisdcos.directory. 5 IN A 198.19.0.20',
      ],
    },
    {
      desc: "a Service without an explicit address answers its VIP object's; an explicit address still works",
      keep: (r) => r.name.endsWith('svc.cluster.local') || r.name.endsWith('.19.198.in-addr.arpa'),
      want: [
        '50.0.19.198.in-addr.arpa. 5 IN PTR api.prod.svc.cluster.local.',
        '60.0.19.198.in-addr.arpa. 5 IN PTR fixed.default.svc.cluster.local.',
        '_http._tcp.api.prod.svc.cluster.local. 5 IN SRV 0 100 80 api.prod.svc.cluster.local.',
        'api.prod.svc.cluster.local. 5 IN A 198.19.0.50',
        'fixed.default.svc.cluster.local. 5 IN A 198.19.0.60',
      ],
    },
    {
      desc: 'masters from the master Nodes (ordered by index, leader by label, port label), not the option',
      keep: (r) => /^(_?leader|master)/.test(r.name),
      want: [
        '_leader._tcp.mesos. 5 IN SRV 0 1 5051 leader.mesos.',
        '_leader._udp.mesos. 5 IN SRV 0 1 5051 leader.mesos.',
        'leader.mesos. 5 IN A 198.18.0.11',
        'master.mesos. 5 IN A 198.18.0.10',
        'master.mesos. 5 IN A 198.18.0.11',
        'master0.mesos. 5 IN A 198.18.0.10',
        'master1.mesos. 5 IN A 198.18.0.11',
      ],
    },
    {
      desc: 'slave.<domain> lists agents and role-less Nodes, not masters or frameworks',
      keep: (r) => r.name === 'slave.mesos',
      want: ['slave.mesos. 5 IN A 198.18.1.1', 'slave.mesos. 5 IN A 198.18.1.2'],
    },
  ];
  it.each(cases)('$desc', ({ keep, want }) => {
    expect(linesOf(zone, keep)).toEqual(want);
  });

  const lookups = [
    { desc: 'an IP VIP has no name', name: '198-19-0-30.ip.vip.l4lb.thisdcos.directory', kind: 'nxdomain' },
    {
      desc: 'a VIP being released is not answered',
      name: 'gone.marathon.l4lb.thisdcos.directory',
      kind: 'nxdomain',
    },
  ];
  it.each(lookups)('$desc', ({ name, kind }) => {
    expect(zone.lookup(name, RR_TYPE.A).kind).toBe(kind);
  });

  it('without master Nodes the masters option applies', () => {
    const fallback = compileZone(snapshot({ nodes: agents }));
    expect(linesOf(fallback, (r) => r.name === 'leader.mesos' || r.name === 'master0.mesos')).toEqual([
      'leader.mesos. 5 IN A 198.18.0.1',
      'master0.mesos. 5 IN A 198.18.0.1',
    ]);
  });

  it('a task on a master or framework Node publishes nothing and says why', () => {
    const stray = task('stray', { app: 'stray', node: 'fw-marathon', ips: ['198.18.10.9'] });
    const withStray = compileZone(snapshot({ tasks: [stray] }));
    expect(linesOf(withStray, (r) => r.name.includes('stray'))).toEqual([]);
    expect(withStray.problems).toContain('task stray: node fw-marathon is a Mesos framework, not an agent');
  });
});

describe('updateZone with VIP objects and master Nodes equals a full compile', () => {
  const base = snapshot({ vips: [], services: [api, explicit] });
  const movedVip = modified(apiVip, {
    address: '198.19.0.51',
    ports: [{ port: 8080, protocol: 'tcp', mode: 'tcp' }],
  });
  const newLeader = { ...modified(masters[1] as StoredObject<'Node'>, {}), labels: masterLabels(0, true) };
  const oldLeader = { ...modified(masters[0] as StoredObject<'Node'>, {}), labels: masterLabels(1) };
  const cases: Array<{
    desc: string;
    steps: Array<{ type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: StoredObject }>;
    final: Partial<ZoneSnapshot>;
    name: string;
    want: string[];
  }> = [
    {
      desc: "a VIP object appearing gives its name and its Service's cluster name an answer",
      steps: [{ type: 'ADDED', object: apiVip }],
      final: { vips: [apiVip] },
      name: 'api.prod.svc',
      want: [
        '_80._tcp.api.prod.svc.l4lb.thisdcos.directory. 5 IN SRV 0 1 80 api.prod.svc.l4lb.thisdcos.directory.',
        '_http._tcp.api.prod.svc.cluster.local. 5 IN SRV 0 100 80 api.prod.svc.cluster.local.',
        'api.prod.svc.cluster.local. 5 IN A 198.19.0.50',
        'api.prod.svc.l4lb.thisdcos.directory. 5 IN A 198.19.0.50',
      ],
    },
    {
      desc: 'a VIP object changing moves both names and its SRV',
      steps: [
        { type: 'ADDED', object: apiVip },
        { type: 'MODIFIED', object: movedVip },
      ],
      final: { vips: [movedVip] },
      name: 'api.prod.svc',
      want: [
        '_8080._tcp.api.prod.svc.l4lb.thisdcos.directory. 5 IN SRV 0 1 8080 api.prod.svc.l4lb.thisdcos.directory.',
        '_http._tcp.api.prod.svc.cluster.local. 5 IN SRV 0 100 80 api.prod.svc.cluster.local.',
        'api.prod.svc.cluster.local. 5 IN A 198.19.0.51',
        'api.prod.svc.l4lb.thisdcos.directory. 5 IN A 198.19.0.51',
      ],
    },
    {
      desc: 'a VIP object deleted takes both names away',
      steps: [
        { type: 'ADDED', object: apiVip },
        { type: 'DELETED', object: apiVip },
      ],
      final: { vips: [] },
      name: 'api.prod.svc',
      want: [],
    },
    {
      desc: 'a VIP object being released (releaseAt set) is no longer answered',
      steps: [
        { type: 'ADDED', object: appVip },
        { type: 'MODIFIED', object: modified(appVip, { owners: [], releaseAt: '2030-01-01T00:00:00Z' }) },
      ],
      final: { vips: [modified(appVip, { owners: [], releaseAt: '2030-01-01T00:00:00Z' })] },
      name: 'mygroupmyapp',
      want: [],
    },
    {
      desc: 'leadership moving between master Nodes moves leader and masterN',
      steps: [
        { type: 'MODIFIED', object: newLeader },
        { type: 'MODIFIED', object: oldLeader },
      ],
      final: { nodes: [...agents, newLeader, oldLeader, framework] },
      name: 'mesos',
      want: [
        'leader.mesos. 5 IN A 198.18.0.10',
        'master0.mesos. 5 IN A 198.18.0.10',
        'master1.mesos. 5 IN A 198.18.0.11',
      ],
    },
    {
      desc: 'the last master Node deleted falls back to the masters option',
      steps: masters.map((object) => ({ type: 'DELETED' as const, object })),
      final: { nodes: [...agents, framework] },
      name: 'mesos',
      want: ['leader.mesos. 5 IN A 198.18.0.1', 'master0.mesos. 5 IN A 198.18.0.1'],
    },
  ];
  it.each(cases)('$desc', ({ steps, final, name, want }) => {
    let zone = compileZone(base);
    for (const step of steps) zone = updateZone(zone, [step], 43);
    const full = compileZone({ ...base, ...final, revision: 43 });
    expect(zone.zoneText()).toBe(full.zoneText());
    const keep =
      name === 'mesos'
        ? (r: ResourceRecord): boolean => /^(leader|master\d)\.mesos$/.test(r.name)
        : (r: ResourceRecord): boolean => r.name.includes(name) && notApex(r) && r.data.type !== 'PTR';
    expect(linesOf(zone, keep)).toEqual(want);
  });
});
