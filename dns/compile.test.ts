import { compileZone, updateZone, type ZoneSnapshot } from './compile';
import { modified, network, node, service, task, vip } from './testing/fixtures';
import { decodeMessage } from './testing/decode';
import { RR_TYPE, type ResourceRecord } from './wire';
import type { CompiledZone } from './zone';
import type { StoredObject } from '../state';
import { serviceSelectsTask } from '../state';

const nodes = [node('node-s1', '198.18.1.1'), node('node-s2', '198.18.1.2')];
const web = task('web-1', {
  id: 'web.1',
  app: 'group/web',
  ips: ['198.18.10.5'],
  ports: [{ name: 'http', containerPort: 8080, protocol: 'tcp' }],
});
const db = task('db-1', {
  id: 'db.1',
  app: 'db',
  node: 'node-s2',
  networkMode: 'port-mapped',
  ports: [{ name: 'pg', containerPort: 5432, hostPort: 31000, protocol: 'tcp' }],
});
const webService = service(
  'web',
  {
    selector: { app: 'group/web' },
    vip: { name: '/web', address: '198.19.0.10' },
    ports: [{ name: 'http', port: 80, protocol: 'tcp' }],
  },
  { namespace: 'prod' },
);
// What the VIP controller writes for webService (`spec.vip.name: /web`, framework `prod.svc`) and
// for an app's `VIP_0: /web:8080` label.
const webServiceVip = vip('web', 'prod.svc', '198.19.0.10', {
  owners: [{ kind: 'service', namespace: 'prod', name: 'web', source: 'spec.vip' }],
});
const webAppVip = vip('web', 'marathon', '198.19.0.20', {
  ports: [{ port: 8080, protocol: 'tcp', mode: 'tcp' }],
  owners: [{ kind: 'app', namespace: 'default', name: 'group/web', source: 'VIP_0' }],
});
const dbHeadless = service('db', {
  selector: { app: 'db' },
  headless: true,
  ports: [{ name: 'pg', port: 5432, protocol: 'tcp' }],
});

function snapshot(overrides: Partial<ZoneSnapshot> = {}): ZoneSnapshot {
  return {
    networks: [network()],
    nodes,
    tasks: [web, db],
    services: [webService, dbHeadless],
    vips: [webServiceVip, webAppVip],
    revision: 42,
    options: { masters: { addresses: ['198.18.0.1', '198.18.0.2'], leader: '198.18.0.2' } },
    ...overrides,
  };
}

function linesOf(zone: CompiledZone, keep: (r: ResourceRecord) => boolean): string[] {
  return zone
    .zoneText(keep)
    .split('\n')
    .filter((l) => l !== '');
}

describe('compileZone: record families as zone-file text', () => {
  const zone = compileZone(snapshot());
  const cases: Array<{ desc: string; keep: (r: ResourceRecord) => boolean; want: string[] }> = [
    {
      desc: 'Mesos-DNS task names (ip-per-container: the task IP), canonical names, legacy dotted names',
      keep: (r) => r.data.type === 'A' && r.name.includes('group') && !r.name.includes('.slave.'),
      want: [
        'web-group-e844k-s1.marathon.mesos. 5 IN A 198.18.10.5',
        'web-group.marathon.mesos. 5 IN A 198.18.10.5',
        'web.group-e844k-s1.marathon.mesos. 5 IN A 198.18.10.5',
        'web.group.marathon.mesos. 5 IN A 198.18.10.5',
      ],
    },
    {
      desc: '.slave. names use the node address',
      keep: (r) => r.name.startsWith('web-group') && r.name.includes('.slave.'),
      want: [
        'web-group-e844k-s1.marathon.slave.mesos. 5 IN A 198.18.1.1',
        'web-group.marathon.slave.mesos. 5 IN A 198.18.1.1',
      ],
    },
    {
      desc: 'port-mapped task: the node address, SRV on the host port via the slave canonical name',
      keep: (r) => r.name.includes('db') && r.name.endsWith('mesos'),
      want: [
        '_db._tcp.marathon.mesos. 5 IN SRV 0 1 31000 db-f3ink-s2.marathon.slave.mesos.',
        '_db._tcp.marathon.slave.mesos. 5 IN SRV 0 1 31000 db-f3ink-s2.marathon.slave.mesos.',
        '_pg._db._tcp.marathon.mesos. 5 IN SRV 0 1 31000 db-f3ink-s2.marathon.slave.mesos.',
        'db-f3ink-s2.marathon.mesos. 5 IN A 198.18.1.2',
        'db-f3ink-s2.marathon.slave.mesos. 5 IN A 198.18.1.2',
        'db.marathon.mesos. 5 IN A 198.18.1.2',
        'db.marathon.slave.mesos. 5 IN A 198.18.1.2',
      ],
    },
    {
      desc: 'container-port SRVs, plain and named, target the canonical task name',
      keep: (r) => r.data.type === 'SRV' && r.name.includes('web-group'),
      want: [
        '_http._web-group._tcp.marathon.mesos. 5 IN SRV 0 1 8080 web-group-e844k-s1.marathon.mesos.',
        '_web-group._tcp.marathon.mesos. 5 IN SRV 0 1 8080 web-group-e844k-s1.marathon.mesos.',
      ],
    },
    {
      desc: 'leader, master, masterN from the masters option',
      keep: (r) => /^(_?leader|master)/.test(r.name),
      want: [
        '_leader._tcp.mesos. 5 IN SRV 0 1 5050 leader.mesos.',
        '_leader._udp.mesos. 5 IN SRV 0 1 5050 leader.mesos.',
        'leader.mesos. 5 IN A 198.18.0.2',
        'master.mesos. 5 IN A 198.18.0.1',
        'master.mesos. 5 IN A 198.18.0.2',
        'master0.mesos. 5 IN A 198.18.0.1',
        'master1.mesos. 5 IN A 198.18.0.2',
      ],
    },
    {
      desc: 'slave.<domain> lists every node',
      keep: (r) => r.name === 'slave.mesos',
      want: ['slave.mesos. 5 IN A 198.18.1.1', 'slave.mesos. 5 IN A 198.18.1.2'],
    },
    {
      desc: 'Kubernetes VIP service: A, SRV per named port, PTR',
      keep: (r) => r.name.includes('web.prod.svc.cluster') || r.name.startsWith('10.0.19.198'),
      want: [
        '10.0.19.198.in-addr.arpa. 5 IN PTR web.prod.svc.cluster.local.',
        '_http._tcp.web.prod.svc.cluster.local. 5 IN SRV 0 100 80 web.prod.svc.cluster.local.',
        'web.prod.svc.cluster.local. 5 IN A 198.19.0.10',
      ],
    },
    {
      desc: 'headless service: ready endpoints, per-endpoint names, SRV to them',
      keep: (r) => r.name.includes('db.default.svc'),
      want: [
        '198-18-1-2.db.default.svc.cluster.local. 5 IN A 198.18.1.2',
        '_pg._tcp.db.default.svc.cluster.local. 5 IN SRV 0 100 31000 198-18-1-2.db.default.svc.cluster.local.',
        'db.default.svc.cluster.local. 5 IN A 198.18.1.2',
      ],
    },
    {
      desc: 'task PTR points at the canonical name',
      keep: (r) => r.name === '5.10.18.198.in-addr.arpa',
      want: ['5.10.18.198.in-addr.arpa. 5 IN PTR web-group-e844k-s1.marathon.mesos.'],
    },
    {
      desc: 'named VIPs under l4lb.thisdcos.directory, from the VIP objects, with SRV per port',
      keep: (r) =>
        r.name.endsWith('l4lb.thisdcos.directory') && r.data.type !== 'SOA' && r.data.type !== 'NS',
      want: [
        '_80._tcp.web.prod.svc.l4lb.thisdcos.directory. 5 IN SRV 0 1 80 web.prod.svc.l4lb.thisdcos.directory.',
        '_8080._tcp.web.marathon.l4lb.thisdcos.directory. 5 IN SRV 0 1 8080 web.marathon.l4lb.thisdcos.directory.',
        'web.marathon.l4lb.thisdcos.directory. 5 IN A 198.19.0.20',
        'web.prod.svc.l4lb.thisdcos.directory. 5 IN A 198.19.0.10',
      ],
    },
    {
      desc: 'SOA and NS at each apex, serial = revision, minimum = ttl; dns-version TXT',
      keep: (r) => r.data.type === 'SOA' || r.data.type === 'NS' || r.data.type === 'TXT',
      want: [
        'cluster.local. 5 IN NS ns1.cluster.local.',
        'cluster.local. 5 IN SOA ns1.cluster.local. hostmaster.cluster.local. 42 60 600 86400 5',
        'dns-version.cluster.local. 5 IN TXT "1.1.0"',
        'l4lb.thisdcos.directory. 5 IN NS ns1.l4lb.thisdcos.directory.',
        'l4lb.thisdcos.directory. 5 IN SOA ns1.l4lb.thisdcos.directory. hostmaster.l4lb.thisdcos.directory. 42 60 600 86400 5',
        'mesos. 5 IN NS ns1.mesos.',
        'mesos. 5 IN SOA ns1.mesos. hostmaster.mesos. 42 60 600 86400 5',
      ],
    },
  ];
  it.each(cases)('$desc', ({ keep, want }) => {
    expect(linesOf(zone, keep)).toEqual(want);
  });
});

describe('compileZone: options and health', () => {
  const sick = task('sick-1', { app: 'sick', health: 'unhealthy', ips: ['198.18.10.9'] });
  const draining = task('drain-1', { app: 'drain', draining: true, ips: ['198.18.10.10'] });
  const killing = task('kill-1', { app: 'kill', state: 'killing', ips: ['198.18.10.11'] });
  const staging = task('stage-1', { app: 'stage', state: 'staging', ips: ['198.18.10.12'] });
  const extra = [sick, draining, killing, staging];
  const cases = [
    {
      desc: 'unhealthy, draining, killing and staging tasks are not published by default',
      publish: {},
      want: [] as string[],
    },
    {
      desc: 'publishing unhealthy and killing tasks can be switched on',
      publish: { unhealthy: true, killing: true },
      want: ['kill.marathon.mesos. 5 IN A 198.18.10.11', 'sick.marathon.mesos. 5 IN A 198.18.10.9'],
    },
    {
      desc: 'draining can be switched on',
      publish: { draining: true },
      want: ['drain.marathon.mesos. 5 IN A 198.18.10.10'],
    },
  ];
  it.each(cases)('$desc', ({ publish, want }) => {
    const zone = compileZone(snapshot({ tasks: extra, services: [], options: { publish } }));
    expect(linesOf(zone, (r) => /^(sick|drain|kill|stage)\.marathon\.mesos$/.test(r.name))).toEqual(want);
  });

  it('domains come from the Network object; ttl and RFC 952 are options', () => {
    const zone = compileZone(
      snapshot({
        networks: [network({ mesosDomain: 'DC1.example.org', clusterDomain: 'k.example.org' })],
        tasks: [task('w', { app: '2fast-service-with-a-long-name', ips: ['198.18.10.7'] })],
        services: [],
        options: { ttl: 60, labelSpec: 'rfc952' },
      }),
    );
    expect(linesOf(zone, (r) => r.data.type === 'A' && r.name.startsWith('fast'))).toEqual([
      // The leading digit goes (RFC 952), the label is cut at 24, the canonical name fits in 24 too.
      'fast-service-wi-i9anj-s1.marathon.dc1.example.org. 60 IN A 198.18.10.7',
      'fast-service-wi-i9anj-s1.marathon.slave.dc1.example.org. 60 IN A 198.18.1.1',
      'fast-service-with-a-long.marathon.dc1.example.org. 60 IN A 198.18.10.7',
      'fast-service-with-a-long.marathon.slave.dc1.example.org. 60 IN A 198.18.1.1',
    ]);
    expect(zone.lookup('dns-version.k.example.org', RR_TYPE.TXT).kind).toBe('answer');
  });

  it('explains what it could not publish', () => {
    const orphan = task('orphan', { node: 'node-missing', ips: ['198.18.10.8'] });
    const zone = compileZone(
      snapshot({ tasks: [orphan], services: [service('novip', { vip: { name: 'x' } })] }),
    );
    expect(zone.problems).toEqual([
      'service default/novip: no VIP address yet, nothing published',
      'task orphan: node node-missing is unknown',
    ]);
    expect(zone.lookup('x.marathon.l4lb.thisdcos.directory', RR_TYPE.A).kind).toBe('nxdomain');
  });
});

describe('compiled answers', () => {
  const zone = compileZone(snapshot());
  const cases = [
    { desc: 'existing name and type', name: 'web-group.marathon.mesos', type: RR_TYPE.A, kind: 'answer' },
    {
      desc: 'existing name, other type is NODATA',
      name: 'web-group.marathon.mesos',
      type: RR_TYPE.AAAA,
      kind: 'nodata',
    },
    {
      desc: 'empty non-terminal is NODATA (RFC 8020)',
      name: 'marathon.mesos',
      type: RR_TYPE.A,
      kind: 'nodata',
    },
    { desc: 'unknown name is NXDOMAIN', name: 'nope.marathon.mesos', type: RR_TYPE.A, kind: 'nxdomain' },
    {
      desc: 'unknown SRV is NXDOMAIN too (Mesos-DNS said NOERROR)',
      name: '_nope._tcp.marathon.mesos',
      type: RR_TYPE.SRV,
      kind: 'nxdomain',
    },
    { desc: 'apex SOA', name: 'mesos', type: RR_TYPE.SOA, kind: 'answer' },
    { desc: 'ANY picks one RRset (RFC 8482)', name: 'slave.mesos', type: RR_TYPE.ANY, kind: 'answer' },
    { desc: 'outside every zone', name: 'example.org', type: RR_TYPE.A, kind: 'outside' },
    {
      desc: 'unknown reverse name is not ours',
      name: '1.0.0.127.in-addr.arpa',
      type: RR_TYPE.PTR,
      kind: 'outside',
    },
  ];
  it.each(cases)('$desc', ({ name, type, kind }) => {
    expect(zone.lookup(name, type).kind).toBe(kind);
  });

  it("an SRV answer carries the targets' addresses in the additional section", () => {
    const found = zone.lookup('_pg._tcp.db.default.svc.cluster.local', RR_TYPE.SRV);
    if (found.kind !== 'answer') throw new Error(found.kind);
    const message = decodeMessage(found.answer.wire);
    expect(message).toMatchObject({
      rcode: 0,
      flags: { aa: true, tc: false, rd: false, ra: true },
      question: '_pg._tcp.db.default.svc.cluster.local. SRV',
      answer: [
        '_pg._tcp.db.default.svc.cluster.local. 5 IN SRV 0 100 31000 198-18-1-2.db.default.svc.cluster.local.',
      ],
      authority: [],
      additional: ['198-18-1-2.db.default.svc.cluster.local. 5 IN A 198.18.1.2'],
      errors: 0,
    });
  });

  it('compresses owner names against the question', () => {
    const found = zone.lookup('slave.mesos', RR_TYPE.A);
    if (found.kind !== 'answer') throw new Error(found.kind);
    // 12 header + 17 question + 2 × (2 pointer + 10 fixed + 4 address)
    expect(found.answer.wire.length).toBe(12 + 17 + 2 * 16);
    expect(found.answer.answerEnds).toEqual([12 + 17 + 16, 12 + 17 + 32]);
  });
});

describe('incremental updates', () => {
  function answerSets(zone: CompiledZone): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, answers] of zone.state.answers.entries()) {
      for (const [type, answer] of answers) {
        const m = decodeMessage(answer.wire);
        out[`${name}/${type}`] = [...m.answer.sort(), '--', ...m.additional.sort()];
      }
    }
    return out;
  }

  it('a task change re-encodes only the names it touches', () => {
    const before = compileZone(snapshot());
    const web2 = task('web-2', {
      id: 'web.2',
      app: 'group/web',
      ips: ['198.18.10.6'],
      ports: [{ name: 'http', containerPort: 8080, protocol: 'tcp' }],
    });
    const after = updateZone(before, [{ type: 'ADDED', object: web2 }]);
    expect(after.state.answers.get('db.marathon.mesos')).toBe(before.state.answers.get('db.marathon.mesos'));
    expect(after.state.answers.get('web.prod.svc.cluster.local')).toBe(
      before.state.answers.get('web.prod.svc.cluster.local'),
    );
    expect(after.state.answers.get('web-group.marathon.mesos')).not.toBe(
      before.state.answers.get('web-group.marathon.mesos'),
    );
    expect(linesOf(after, (r) => r.name === 'web-group.marathon.mesos')).toEqual([
      'web-group.marathon.mesos. 5 IN A 198.18.10.5',
      'web-group.marathon.mesos. 5 IN A 198.18.10.6',
    ]);
    // The old version is untouched.
    expect(linesOf(before, (r) => r.name === 'web-group.marathon.mesos')).toEqual([
      'web-group.marathon.mesos. 5 IN A 198.18.10.5',
    ]);
  });

  it('a node address change moves its port-mapped tasks and headless endpoints', () => {
    const before = compileZone(snapshot());
    const moved = modified(nodes[1] as StoredObject<'Node'>, { address: '198.18.1.22' });
    const after = updateZone(before, [{ type: 'MODIFIED', object: moved }]);
    expect(
      linesOf(after, (r) => r.name === 'db.marathon.mesos' || r.name === 'db.default.svc.cluster.local'),
    ).toEqual(['db.default.svc.cluster.local. 5 IN A 198.18.1.22', 'db.marathon.mesos. 5 IN A 198.18.1.22']);
    const srv = after.lookup('_db._tcp.marathon.mesos', RR_TYPE.SRV);
    if (srv.kind !== 'answer') throw new Error(srv.kind);
    expect(decodeMessage(srv.answer.wire).additional).toEqual([
      'db-f3ink-s2.marathon.slave.mesos. 5 IN A 198.18.1.22',
    ]);
  });

  it('deleting the last task under a name makes it and its empty parents NXDOMAIN', () => {
    const before = compileZone(snapshot({ tasks: [web], services: [] }));
    const after = updateZone(before, [{ type: 'DELETED', object: web }]);
    expect(after.lookup('web-group.marathon.mesos', RR_TYPE.A).kind).toBe('nxdomain');
    expect(after.lookup('marathon.mesos', RR_TYPE.A).kind).toBe('nxdomain');
    expect(after.lookup('5.10.18.198.in-addr.arpa', RR_TYPE.PTR).kind).toBe('outside');
    expect(before.lookup('marathon.mesos', RR_TYPE.A).kind).toBe('nodata');
  });

  it('random change sequences (tasks, VIP objects, master Nodes) end where a full compile ends', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor(seed / 65536) % n;
    };
    // `late` has no explicit address: its answer comes only from a VIP object that owns it.
    const late = service('late', {
      selector: { app: 'db' },
      ports: [{ name: 'pg', port: 5432, protocol: 'tcp' }],
    });
    const live = new Map<string, StoredObject>();
    const keyOf = (o: StoredObject): string => `${o.kind}/${o.name}`;
    for (const o of [...nodes, web, db, webService, dbHeadless, late, webServiceVip, webAppVip])
      live.set(keyOf(o), o);
    const all = (): StoredObject[] => [...live.values()];
    const snapshotOfLive = (revision: number): ZoneSnapshot =>
      snapshot({
        nodes: all().filter((o) => o.kind === 'Node'),
        tasks: all().filter((o) => o.kind === 'Task'),
        services: all().filter((o) => o.kind === 'Service'),
        vips: all().filter((o) => o.kind === 'VIP'),
        revision,
      });
    let zone = compileZone(snapshotOfLive(99));
    let viaSnapshot = zone;
    const owners = [
      { kind: 'service' as const, namespace: 'default', name: 'late', source: 'spec.vip' },
      { kind: 'service' as const, namespace: 'prod', name: 'web', source: 'spec.vip' },
      { kind: 'app' as const, namespace: 'default', name: 'db', source: 'VIP_0' },
    ];
    const counts = { vip: 0, master: 0, task: 0 };
    for (let step = 0; step < 120; step++) {
      const family = random(4);
      const i = random(8);
      let key: string;
      let make: (existing: StoredObject | undefined) => StoredObject;
      if (family === 0) {
        counts.vip += 1;
        key = `VIP/v${i % 3}.fw`;
        const spec = {
          framework: ['marathon', 'ip.vip', 'default.svc'][random(3)] as string,
          address: `198.19.1.${random(4)}`,
          ports: [{ port: 80 + random(2), protocol: 'tcp' as const, mode: 'tcp' as const }],
          owners: owners.filter(() => random(2) === 0),
          ...(random(4) === 0 ? { releaseAt: '2030-01-01T00:00:00Z' } : {}),
        };
        make = (existing) =>
          existing === undefined
            ? { ...vip(`v${i % 3}`, spec.framework, spec.address, spec), name: `v${i % 3}.fw` }
            : modified(existing as StoredObject<'VIP'>, spec);
      } else if (family === 1) {
        counts.master += 1;
        key = `Node/m${i % 3}`;
        const labels: Record<string, string> = {
          'switchyard.io/mesos-role': ['master', 'master', 'framework', 'agent'][random(4)] as string,
          'switchyard.io/mesos-master-index': String(random(3)),
        };
        if (random(2) === 0) labels['switchyard.io/mesos-leader'] = 'true';
        const address = `198.18.0.${10 + random(3)}`;
        make = (existing) =>
          existing === undefined
            ? node(`m${i % 3}`, address, {}, labels)
            : { ...modified(existing as StoredObject<'Node'>, { address }), labels };
      } else {
        counts.task += 1;
        key = `Task/t${i}`;
        const spec = {
          app: random(2) === 0 ? 'db' : 'group/web',
          node: random(2) === 0 ? 'node-s1' : 'node-s2',
          networkMode: random(2) === 0 ? ('ip-per-container' as const) : ('port-mapped' as const),
          health: random(4) === 0 ? ('unhealthy' as const) : ('healthy' as const),
          ips: [`198.18.20.${i}`],
          ports: [{ name: 'pg', containerPort: 5432, hostPort: 31000 + i, protocol: 'tcp' as const }],
        };
        make = (existing) =>
          existing === undefined ? task(`t${i}`, spec) : modified(existing as StoredObject<'Task'>, spec);
      }
      const existing = live.get(key);
      let event: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: StoredObject };
      if (existing !== undefined && random(3) === 0) {
        live.delete(key);
        event = { type: 'DELETED', object: existing };
      } else {
        const object = make(existing);
        live.set(key, object);
        event = { type: existing === undefined ? 'ADDED' : 'MODIFIED', object };
      }
      zone = updateZone(zone, [event], 100 + step);
      const current = snapshotOfLive(100 + step);
      viaSnapshot = compileZone(current, viaSnapshot);
      const full = compileZone(current);
      expect(zone.zoneText()).toBe(full.zoneText());
      expect(viaSnapshot.zoneText()).toBe(full.zoneText());
      expect(zone.problems).toEqual(full.problems);
      if (step % 10 === 9) expect(answerSets(zone)).toEqual(answerSets(full));
    }
    expect(Math.min(counts.vip, counts.master, counts.task)).toBeGreaterThan(10);
  });
});

describe('headless services found through selector indexes', () => {
  // Label selectors are served from the task index by one matchLabels pair or the values of an In
  // expression; a selector with neither is served by a scan. All must agree with a full compile.
  const byLabel = service('by-label', {
    headless: true,
    selector: { matchLabels: { tier: 'db', zone: 'a' } },
    ports: [{ name: 'pg', port: 5432, protocol: 'tcp' }],
  });
  const byIn = service('by-in', {
    headless: true,
    selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['cache', 'db'] }] },
  });
  const byScan = service('by-scan', {
    headless: true,
    selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] },
  });
  const otherNamespace = service(
    'by-label',
    { headless: true, selector: { matchLabels: { tier: 'db' } } },
    { namespace: 'prod' },
  );
  const services = [byLabel, byIn, byScan, otherNamespace];

  it('random label changes end where a full compile of the final state ends', () => {
    let seed = 11;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor(seed / 65536) % n;
    };
    const live = new Map<string, StoredObject>();
    let zone = compileZone(snapshot({ tasks: [], services }));
    for (let step = 0; step < 80; step++) {
      const name = `h${random(10)}`;
      const existing = live.get(name) as StoredObject<'Task'> | undefined;
      let event: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: StoredObject };
      if (existing !== undefined && random(4) === 0) {
        live.delete(name);
        event = { type: 'DELETED', object: existing };
      } else {
        const labels = {
          tier: ['db', 'cache', 'web'][random(3)] as string,
          zone: ['a', 'b'][random(2)] as string,
        };
        const spec = { app: `app-${random(3)}`, ips: [`198.18.30.${random(200)}`] };
        const object =
          existing === undefined
            ? task(name, spec, { labels, namespace: random(5) === 0 ? 'prod' : 'default' })
            : { ...modified(existing, spec), labels };
        live.set(name, object);
        event = { type: existing === undefined ? 'ADDED' : 'MODIFIED', object };
      }
      zone = updateZone(zone, [event], 200 + step);
      const full = compileZone(snapshot({ tasks: [...live.values()], services, revision: 200 + step }));
      expect(zone.zoneText()).toBe(full.zoneText());
      // And both are right: each service's A records are the IPs of the tasks it selects, by brute force.
      for (const svc of services) {
        const base = `${svc.name}.${svc.namespace ?? 'default'}.svc.cluster.local`;
        const want = [...live.values()]
          .filter((t) => serviceSelectsTask(svc, t as StoredObject<'Task'>))
          .flatMap((t) => (t as StoredObject<'Task'>).spec.ips);
        const got = linesOf(zone, (r) => r.name === base && r.data.type === 'A').map((l) =>
          l.split(' ').pop(),
        );
        expect(got.sort()).toEqual([...new Set(want)].sort());
      }
    }
    expect(
      linesOf(zone, (r) => r.name.endsWith('svc.cluster.local') && r.data.type === 'A').length,
    ).toBeGreaterThan(0);
  });
});
