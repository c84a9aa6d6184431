import type { StoredObject, TaskSpec, VipBackend, VipOwner, VipPort } from '../state';
import {
  compileRouteTable,
  DEFAULT_COMPILE_OPTIONS,
  type CompileOptions,
  type RouteSnapshot,
} from './compile';
import type { RouteTable } from './route-table';
import { node, service, task } from './test-fixtures';

let revision = 1000;

function vip(
  name: string,
  address: string,
  ports: VipPort[],
  backends: VipBackend[],
  owners: VipOwner[] = [{ kind: 'app', namespace: 'default', name: 'web', source: 'VIP_0' }],
): StoredObject<'VIP'> {
  revision++;
  const [vipName = name, framework = 'marathon'] = name.split(/\.(.*)/s);
  return {
    kind: 'VIP',
    name,
    labels: {},
    revision,
    createRevision: revision,
    spec: { name: vipName, framework, address, ports, backends, owners },
  };
}

const nodes = [node('node-1', '198.18.0.1'), node('node-2', '198.18.0.2')];
const hostTask = (name: string, port: number, extra: Partial<TaskSpec> = {}) =>
  task(name, {
    app: 'web',
    networkMode: 'host',
    ips: [],
    ports: [{ name: 'http', containerPort: port, hostPort: port, protocol: 'tcp' }],
    ...extra,
  });
const backend = (t: string, port: number, weight = 1, vipPort = 80): VipBackend => ({
  task: `Task/default/${t}`,
  vipPort,
  protocol: 'tcp',
  address: '198.18.0.1',
  port,
  weight,
});
const tcp80: VipPort = { port: 80, protocol: 'tcp', mode: 'tcp' };
const serviceOwner: VipOwner = { kind: 'service', namespace: 'default', name: 'web', source: 'spec.vip' };

function compile(snapshot: Partial<RouteSnapshot>, options: Partial<CompileOptions> = {}): RouteTable {
  return compileRouteTable({ services: [], tasks: [], nodes, vips: [], ...snapshot }, undefined, {
    ...DEFAULT_COMPILE_OPTIONS,
    listenHost: '127.0.0.1',
    ...options,
  });
}

function describeTable(table: RouteTable): string[] {
  const lines = table.frontends.map((f) => `${f.id} ${f.mode} → ${f.pool ?? f.router?.defaultPool ?? '-'}`);
  for (const pool of table.pools.values()) {
    const backends = pool.backends.map(
      (b) => `${b.id}=${b.host}:${b.port}/w${b.weight}${b.zeroWeightReason ? `(${b.zeroWeightReason})` : ''}`,
    );
    lines.push(`pool ${pool.id} ${pool.mode} ${pool.algorithm} [${backends.join(' ')}]`);
  }
  return lines;
}

describe('compileRouteTable: VIP frontends', () => {
  const cases: Array<{ desc: string; snapshot: Partial<RouteSnapshot>; expected: string[] }> = [
    {
      desc: 'a label VIP: a TCP frontend on the VIP address, its backends with the Service-style ids',
      snapshot: {
        tasks: [hostTask('web-1', 31001), hostTask('web-2', 31002)],
        vips: [
          vip('web.marathon', '198.19.0.10', [tcp80], [backend('web-1', 31001), backend('web-2', 31002)]),
        ],
      },
      expected: [
        '198.19.0.10:80 tcp → VIP/web.marathon:80',
        'pool VIP/web.marathon:80 tcp round-robin [Task/default/web-1#31001=198.18.0.1:31001/w1 Task/default/web-2#31002=198.18.0.1:31002/w1]',
      ],
    },
    {
      desc: 'a backend whose task is not listed (yet) gets an id naming its endpoint',
      snapshot: { vips: [vip('web.marathon', '198.19.0.10', [tcp80], [backend('web-9', 31009)])] },
      expected: [
        '198.19.0.10:80 tcp → VIP/web.marathon:80',
        'pool VIP/web.marathon:80 tcp round-robin [Task/default/web-9@198.18.0.1:31009=198.18.0.1:31009/w1]',
      ],
    },
    {
      desc: 'weight 0 is kept, with the task’s reason (draining, staging) or just "weight 0"',
      snapshot: {
        tasks: [hostTask('web-1', 31001, { draining: true }), hostTask('web-2', 31002, { state: 'staging' })],
        vips: [
          vip(
            'web.marathon',
            '198.19.0.10',
            [tcp80],
            [backend('web-1', 31001, 0), backend('web-2', 31002, 0), backend('web-3', 31003, 0)],
          ),
        ],
      },
      expected: [
        '198.19.0.10:80 tcp → VIP/web.marathon:80',
        'pool VIP/web.marathon:80 tcp round-robin [Task/default/web-1#31001=198.18.0.1:31001/w0(draining) Task/default/web-2#31002=198.18.0.1:31002/w0(staging) Task/default/web-3@198.18.0.1:31003=198.18.0.1:31003/w0(weight 0)]',
      ],
    },
    {
      desc: 'an http port gets an HTTP frontend, a UDP port a UDP one; backends of other ports stay out',
      snapshot: {
        vips: [
          vip(
            'web.marathon',
            '198.19.0.10',
            [
              { port: 8080, protocol: 'tcp', mode: 'http' },
              { port: 53, protocol: 'udp', mode: 'tcp' },
            ],
            [backend('web-1', 31001, 1, 8080), { ...backend('web-2', 31002, 1, 53), protocol: 'udp' }],
          ),
        ],
      },
      expected: [
        '198.19.0.10:53/udp udp → VIP/web.marathon:53/udp',
        '198.19.0.10:8080 http → VIP/web.marathon:8080',
        'pool VIP/web.marathon:53/udp udp round-robin [Task/default/web-2@198.18.0.1:31002/udp=198.18.0.1:31002/w1]',
        'pool VIP/web.marathon:8080 http round-robin [Task/default/web-1@198.18.0.1:31001=198.18.0.1:31001/w1]',
      ],
    },
    {
      desc: 'two VIPs on one port: one frontend per address, sorted by port then address',
      snapshot: {
        vips: [
          vip('web.marathon', '198.19.0.11', [tcp80], []),
          vip('api.marathon', '198.19.0.10', [tcp80], []),
        ],
      },
      expected: [
        '198.19.0.10:80 tcp → VIP/api.marathon:80',
        '198.19.0.11:80 tcp → VIP/web.marathon:80',
        'pool VIP/api.marathon:80 tcp round-robin []',
        'pool VIP/web.marathon:80 tcp round-robin []',
      ],
    },
  ];
  test.each(cases)('$desc', ({ snapshot, expected }) =>
    expect(describeTable(compile(snapshot))).toEqual(expected),
  );
});

describe('compileRouteTable: VIPs and Services', () => {
  const web = service('web', {
    ports: [{ port: 8080, targetPort: 'http', protocol: 'tcp', mode: 'http' }],
    loadBalancing: {
      algorithm: 'least-connections',
      healthCheck: { type: 'http', path: '/hz', intervalMs: 300 },
    },
    vip: { name: 'web' },
  });
  const tasks = [hostTask('web-1', 31001)];
  const http8080: VipPort = { port: 8080, protocol: 'tcp', mode: 'http' };
  const ownVip = vip(
    'web.default.svc',
    '198.19.0.20',
    [http8080],
    [backend('web-1', 31001, 1, 8080)],
    [serviceOwner],
  );

  test('a Service’s own VIP routes to the Service’s pool: one pool, one health check per backend', () => {
    expect(describeTable(compile({ services: [web], tasks, vips: [ownVip] }))).toEqual([
      '127.0.0.1:8080 http → default/web:8080',
      '198.19.0.20:8080 http → default/web:8080',
      'pool default/web:8080 http least-connections [Task/default/web-1#31001=198.18.0.1:31001/w1]',
    ]);
  });

  test('a VIP the Service shares with an app has its own pool, with the Service’s settings and the same backend ids', () => {
    const shared = vip(
      'web.marathon',
      '198.19.0.21',
      [http8080],
      [backend('web-1', 31001, 1, 8080)],
      [{ kind: 'app', namespace: 'default', name: 'web', source: 'VIP_0' }, serviceOwner],
    );
    const table = compile({ services: [web], tasks, vips: [shared] });
    const pool = table.pools.get('VIP/web.marathon:8080');
    expect(pool?.algorithm).toBe('least-connections');
    expect(pool?.healthCheck).toMatchObject({ type: 'http', path: '/hz', intervalMs: 300 });
    expect(pool?.backends.map((b) => b.id)).toEqual(
      table.pools.get('default/web:8080')?.backends.map((b) => b.id),
    );
  });

  test('a wildcard listenHost already serves a Service’s own VIP: no second frontend, no warning', () => {
    const table = compile({ services: [web], tasks, vips: [ownVip] }, { listenHost: '0.0.0.0' });
    expect(table.frontends.map((f) => f.id)).toEqual(['0.0.0.0:8080']);
    expect(table.warnings).toEqual([]);
  });

  test('another VIP on a port a wildcard listenHost holds is left out with a warning; the Service keeps it', () => {
    const other = vip('api.marathon', '198.19.0.30', [http8080], []);
    const table = compile({ services: [web], tasks, vips: [other] }, { listenHost: '0.0.0.0' });
    expect(table.frontends.map((f) => f.id)).toEqual(['0.0.0.0:8080']);
    expect(table.warnings).toEqual([
      'VIP/api.marathon port 8080: 0.0.0.0:8080 of default/web:8080 already listens on 198.19.0.30; default/web:8080 keeps it (give the proxy a specific listen address)',
    ]);
    const v6 = compile({ services: [web], tasks, vips: [other] }, { listenHost: '::' });
    expect(v6.frontends.map((f) => f.id)).toEqual([':::8080']);
  });

  test('serveVips: false leaves VIPs out', () => {
    const table = compile({ services: [web], tasks, vips: [ownVip] }, { serveVips: false });
    expect(table.frontends.map((f) => f.id)).toEqual(['127.0.0.1:8080']);
  });

  test('recompiling keeps VIP pool identity; a changed weight makes a new pool; the revision counts VIPs', () => {
    const v = vip('web.marathon', '198.19.0.10', [tcp80], [backend('web-1', 31001)]);
    const first = compile({ tasks, vips: [v] });
    expect(first.revision).toBe(v.revision);
    const again = compileRouteTable({ services: [], tasks, nodes, vips: [v] }, first, {
      ...DEFAULT_COMPILE_OPTIONS,
      listenHost: '127.0.0.1',
    });
    expect(again.pools.get('VIP/web.marathon:80')).toBe(first.pools.get('VIP/web.marathon:80'));
    const drained = { ...v, spec: { ...v.spec, backends: [backend('web-1', 31001, 0)] } };
    const next = compileRouteTable({ services: [], tasks, nodes, vips: [drained] }, first, {
      ...DEFAULT_COMPILE_OPTIONS,
      listenHost: '127.0.0.1',
    });
    expect(next.pools.get('VIP/web.marathon:80')).not.toBe(first.pools.get('VIP/web.marathon:80'));
    expect(next.pools.get('VIP/web.marathon:80')?.backends[0]?.id).toBe('Task/default/web-1#31001');
  });
});

describe('compileRouteTable: VIP UDP ports', () => {
  const dnsTask = (name: string, hostPort: number, extra: Partial<TaskSpec> = {}) =>
    task(name, {
      app: 'dns',
      networkMode: 'host',
      ips: [],
      ports: [
        { name: 'dns', containerPort: 53, hostPort, protocol: 'udp' },
        { name: 'dns-tcp', containerPort: 53, hostPort, protocol: 'tcp' },
      ],
      ...extra,
    });
  const udp53: VipPort = { port: 53, protocol: 'udp', mode: 'tcp' };
  const tcp53: VipPort = { port: 53, protocol: 'tcp', mode: 'tcp' };
  const dnsBackend = (t: string, port: number, protocol: 'tcp' | 'udp', weight = 1): VipBackend => ({
    task: `Task/default/${t}`,
    vipPort: 53,
    protocol,
    address: '198.18.0.1',
    port,
    weight,
  });
  const dnsOwner: VipOwner = { kind: 'service', namespace: 'default', name: 'dns', source: 'spec.vip' };
  const tasks = [dnsTask('dns-1', 31053), dnsTask('dns-2', 32053, { draining: true })];
  const backends = [
    dnsBackend('dns-1', 31053, 'udp'),
    dnsBackend('dns-2', 32053, 'udp', 0),
    dnsBackend('dns-1', 31053, 'tcp'),
    dnsBackend('dns-2', 32053, 'tcp', 0),
  ];

  const cases: Array<{ desc: string; snapshot: Partial<RouteSnapshot>; expected: string[] }> = [
    {
      desc: 'a UDP port: a udp frontend <address>:<port>/udp, its own pool, backend ids ending in /udp, weights kept',
      snapshot: {
        tasks,
        vips: [vip('dns.marathon', '198.19.0.53', [udp53], backends.slice(0, 2))],
      },
      expected: [
        '198.19.0.53:53/udp udp → VIP/dns.marathon:53/udp',
        'pool VIP/dns.marathon:53/udp udp round-robin [Task/default/dns-1#53/udp=198.18.0.1:31053/w1 Task/default/dns-2#53/udp=198.18.0.1:32053/w0(draining)]',
      ],
    },
    {
      desc: 'TCP and UDP on one port number: two frontends, two pools, two backends per task',
      snapshot: { tasks, vips: [vip('dns.marathon', '198.19.0.53', [udp53, tcp53], backends)] },
      expected: [
        '198.19.0.53:53 tcp → VIP/dns.marathon:53',
        '198.19.0.53:53/udp udp → VIP/dns.marathon:53/udp',
        'pool VIP/dns.marathon:53 tcp round-robin [Task/default/dns-1#53=198.18.0.1:31053/w1 Task/default/dns-2#53=198.18.0.1:32053/w0(draining)]',
        'pool VIP/dns.marathon:53/udp udp round-robin [Task/default/dns-1#53/udp=198.18.0.1:31053/w1 Task/default/dns-2#53/udp=198.18.0.1:32053/w0(draining)]',
      ],
    },
    {
      desc: 'a backend whose task is not listed: the endpoint id, with /udp',
      snapshot: { vips: [vip('dns.marathon', '198.19.0.53', [udp53], [dnsBackend('dns-9', 39053, 'udp')])] },
      expected: [
        '198.19.0.53:53/udp udp → VIP/dns.marathon:53/udp',
        'pool VIP/dns.marathon:53/udp udp round-robin [Task/default/dns-9@198.18.0.1:39053/udp=198.18.0.1:39053/w1]',
      ],
    },
  ];
  test.each(cases)('$desc', ({ snapshot, expected }) =>
    expect(describeTable(compile(snapshot))).toEqual(expected),
  );

  test('UDP pools have no active check and hash on the client IP', () => {
    const table = compile({
      tasks,
      vips: [vip('dns.marathon', '198.19.0.53', [udp53], backends.slice(0, 2))],
    });
    const pool = table.pools.get('VIP/dns.marathon:53/udp');
    expect(pool?.healthCheck.type).toBe('none');
    expect(pool?.hashOn).toBe('client-ip');
  });

  test('a Service’s own VIP: the UDP port gets the VIP’s pool with the Service’s settings, whatever listenHost holds', () => {
    const dns = service('dns', {
      ports: [
        { port: 53, protocol: 'udp' },
        { port: 53, protocol: 'tcp' },
      ],
      loadBalancing: {
        algorithm: 'consistent-hash',
        hashOn: 'cookie',
        healthCheck: { type: 'http', path: '/hz' },
      },
      vip: { name: 'dns' },
    });
    const own = vip('dns.default.svc', '198.19.0.54', [udp53, tcp53], backends, [dnsOwner]);
    const table = compile({ services: [dns], tasks, vips: [own] }, { listenHost: '0.0.0.0' });
    expect(table.frontends.map((f) => `${f.id} ${f.mode} → ${f.pool}`)).toEqual([
      '0.0.0.0:53 tcp → default/dns:53',
      '198.19.0.54:53/udp udp → VIP/dns.default.svc:53/udp',
    ]);
    const pool = table.pools.get('VIP/dns.default.svc:53/udp');
    expect(pool).toMatchObject({ mode: 'udp', algorithm: 'consistent-hash', hashOn: 'client-ip' });
    expect(pool?.healthCheck.type).toBe('none');
    expect(table.warnings).toEqual([]);
  });

  test('recompiling keeps the UDP pool’s identity', () => {
    const v = vip('dns.marathon', '198.19.0.53', [udp53], backends.slice(0, 2));
    const first = compile({ tasks, vips: [v] });
    const again = compileRouteTable({ services: [], tasks, nodes, vips: [v] }, first, {
      ...DEFAULT_COMPILE_OPTIONS,
      listenHost: '127.0.0.1',
    });
    expect(again.pools.get('VIP/dns.marathon:53/udp')).toBe(first.pools.get('VIP/dns.marathon:53/udp'));
  });
});
