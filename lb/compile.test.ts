import type { StoredObject } from '../state';
import { compileRouteTable, DEFAULT_COMPILE_OPTIONS, type RouteSnapshot } from './compile';
import { node, service, task } from './test-fixtures';

const web = service('web', {
  ports: [
    { port: 8080, targetPort: 'http', protocol: 'tcp', mode: 'http' },
    { port: 9000, protocol: 'tcp' },
  ],
  ingress: [{ host: 'web.example.org', path: '/', pathType: 'Prefix', port: 8080 }],
});
const nodes = [node('node-1', '198.18.0.1'), node('node-2', '198.18.0.2')];
const httpPort = { name: 'http', containerPort: 80, hostPort: 31080, protocol: 'tcp' as const };

function backendsOf(tasks: StoredObject<'Task'>[], services = [web]): string[] {
  const table = compileRouteTable({ services, tasks, nodes }, undefined, {
    ...DEFAULT_COMPILE_OPTIONS,
    listenHost: '127.0.0.1',
  });
  return (table.pools.get('default/web:8080')?.backends ?? []).map(
    (b) => `${b.id} ${b.host}:${b.port} w${b.weight}${b.zeroWeightReason ? ` ${b.zeroWeightReason}` : ''}`,
  );
}

describe('compileRouteTable: backends', () => {
  const cases: Array<{ desc: string; tasks: StoredObject<'Task'>[]; expected: string[] }> = [
    {
      desc: 'ip-per-container: task IP + container port',
      tasks: [task('web-1', { app: 'web', ips: ['198.18.1.5'], ports: [httpPort] })],
      expected: ['Task/default/web-1#80 198.18.1.5:80 w1'],
    },
    {
      desc: 'port-mapped: node address + host port',
      tasks: [
        task('web-1', { app: 'web', networkMode: 'port-mapped', node: 'node-2', ips: [], ports: [httpPort] }),
      ],
      expected: ['Task/default/web-1#80 198.18.0.2:31080 w1'],
    },
    {
      desc: 'draining, killing and unhealthy tasks get weight 0',
      tasks: [
        task('web-1', { app: 'web', draining: true, ports: [httpPort] }),
        task('web-2', { app: 'web', state: 'killing', ports: [httpPort] }),
        task('web-3', { app: 'web', health: 'unhealthy', ports: [httpPort] }),
      ],
      expected: [
        'Task/default/web-1#80 127.0.0.1:80 w0 draining',
        'Task/default/web-2#80 127.0.0.1:80 w0 killing',
        'Task/default/web-3#80 127.0.0.1:80 w0 unhealthy',
      ],
    },
    {
      desc: 'staging and finished tasks, other apps and other namespaces are left out',
      tasks: [
        task('web-1', { app: 'web', state: 'staging', ports: [httpPort] }),
        task('web-2', { app: 'web', state: 'finished', ports: [httpPort] }),
        task('api-1', { app: 'api', ports: [httpPort] }),
        { ...task('web-3', { app: 'web', ports: [httpPort] }), namespace: 'prod' },
      ],
      expected: [],
    },
    {
      desc: 'a task without an IP or host port is skipped',
      tasks: [
        task('web-1', { app: 'web', ips: [], ports: [httpPort] }),
        task('web-2', {
          app: 'web',
          networkMode: 'port-mapped',
          ports: [{ ...httpPort, hostPort: undefined }],
        }),
      ],
      expected: [],
    },
  ];
  test.each(cases)('$desc', ({ tasks, expected }) => expect(backendsOf(tasks)).toEqual(expected));

  test('label selectors with expressions', () => {
    const svc = service('web', {
      selector: {
        matchLabels: { tier: 'front' },
        matchExpressions: [{ key: 'track', operator: 'NotIn', values: ['canary'] }],
      },
      ports: [{ port: 8080, targetPort: 'http', protocol: 'tcp', mode: 'http' }],
    });
    const tasks = [
      task('a', { app: 'x', ports: [httpPort] }, { tier: 'front' }),
      task('b', { app: 'x', ports: [httpPort] }, { tier: 'front', track: 'canary' }),
      task('c', { app: 'x', ports: [httpPort] }, { tier: 'back' }),
    ];
    expect(backendsOf(tasks, [svc]).map((s) => s.split(' ')[0])).toEqual(['Task/default/a#80']);
  });
});

describe('compileRouteTable: frontends and purity', () => {
  const snapshot: RouteSnapshot = {
    services: [web],
    tasks: [task('web-1', { app: 'web', ports: [httpPort, { containerPort: 9000, protocol: 'tcp' }] })],
    nodes,
  };

  test('service ports become frontends, ingress rules a shared HTTP frontend', () => {
    const table = compileRouteTable(snapshot, undefined, {
      ...DEFAULT_COMPILE_OPTIONS,
      listenHost: '127.0.0.1',
    });
    expect(table.frontends.map((f) => `${f.id} ${f.mode}`)).toEqual([
      '127.0.0.1:80 http',
      '127.0.0.1:8080 http',
      '127.0.0.1:9000 tcp',
    ]);
    expect(
      table.frontendsById.get('127.0.0.1:80')?.router?.hosts.get('web.example.org')?.prefix.get('/'),
    ).toBe('default/web:8080');
    expect(table.frontendsById.get('127.0.0.1:9000')?.pool).toBe('default/web:9000');
    expect(table.revision).toBeGreaterThan(0);
  });

  test('a port claimed twice: the first service by key keeps it, with a warning', () => {
    const other = service('aaa', { ports: [{ port: 9000, protocol: 'tcp' }] });
    const table = compileRouteTable({ ...snapshot, services: [web, other] });
    expect(table.frontendsById.get('0.0.0.0:9000')?.pool).toBe('default/aaa:9000');
    expect(table.warnings.some((w) => w.includes('port 9000'))).toBe(true);
  });

  test('inputs are not mutated, output is deterministic, unchanged pools keep identity', () => {
    const frozen = JSON.parse(JSON.stringify(snapshot)) as RouteSnapshot;
    const first = compileRouteTable(snapshot);
    expect(snapshot).toEqual(frozen);
    const second = compileRouteTable(snapshot, first);
    expect(second.pools.get('default/web:8080')).toBe(first.pools.get('default/web:8080'));
    const changed = compileRouteTable({ ...snapshot, tasks: [] }, first);
    expect(changed.pools.get('default/web:8080')).not.toBe(first.pools.get('default/web:8080'));
    expect(changed.pools.get('default/web:8080')?.backends).toEqual([]);
  });

  test('health check: service settings over defaults, timeout bounded by the interval', () => {
    const svc = service('web', {
      ports: [{ port: 8080, protocol: 'tcp', mode: 'http' }],
      loadBalancing: { healthCheck: { type: 'http', path: '/healthz', intervalMs: 500 } },
    });
    const table = compileRouteTable({ services: [svc], tasks: [], nodes });
    expect(table.pools.get('default/web:8080')?.healthCheck).toEqual({
      type: 'http',
      path: '/healthz',
      intervalMs: 500,
      timeoutMs: 500,
      rise: 2,
      fall: 3,
    });
  });
});
