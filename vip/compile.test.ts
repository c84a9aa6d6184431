import type { ObjectInput, StoredObject } from '../state';
import { compileVips, type CompileVipsOptions, type VipSnapshot } from './compile';
import { VIP_ERROR_CODES } from './errors';
import {
  deepFreeze,
  networkInput,
  nodeInput,
  serviceInput,
  snapshotOf,
  storedVips,
  taskInput,
  type TaskOptions,
} from './test-fixtures';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const GRACE = 5 * 60_000;
const OPTIONS: CompileVipsOptions = { now: NOW, graceMs: GRACE };
const BASE = [
  networkInput('198.19.0.0/16'),
  nodeInput('node-1', '198.18.255.1'),
  nodeInput('node-2', '198.18.255.2'),
];
const WEB = { VIP_0: '/web:80' };

function web(name: string, o: TaskOptions = {}): ObjectInput {
  return taskInput(name, { vip: WEB, ...o });
}

function compile(inputs: ObjectInput[], vips: StoredObject<'VIP'>[] = [], options = OPTIONS) {
  return compileVips(snapshotOf([...BASE, ...inputs], vips), options);
}

function only(result: ReturnType<typeof compile>, name: string): ObjectInput<'VIP'> {
  const vip = result.vips.find((v) => v.name === name);
  if (vip === undefined) throw new Error(`no VIP ${name} in ${result.vips.map((v) => v.name).join(', ')}`);
  return vip;
}

describe('compileVips: VIPs from task port labels', () => {
  it('makes one VIP per (name, framework), with every labelled task as a backend', () => {
    const result = compile([web('web.1', { ip: '198.18.1.2' }), web('web.2', { ip: '198.18.1.3' })]);
    expect(result.problems).toEqual([]);
    const vip = only(result, 'web.marathon');
    expect(vip.spec).toEqual({
      name: 'web',
      framework: 'marathon',
      address: vip.spec.address,
      ports: [{ port: 80, protocol: 'tcp', mode: 'tcp' }],
      backends: [
        {
          task: 'Task/default/web.1',
          vipPort: 80,
          protocol: 'tcp',
          address: '198.18.1.2',
          port: 8080,
          weight: 1,
        },
        {
          task: 'Task/default/web.2',
          vipPort: 80,
          protocol: 'tcp',
          address: '198.18.1.3',
          port: 8080,
          weight: 1,
        },
      ],
      owners: [{ kind: 'app', namespace: 'default', name: 'web', source: 'VIP_0' }],
    });
    expect(vip.spec.address).toMatch(/^198\.19\.\d+\.\d+$/);
  });

  it.each([
    {
      desc: 'ip-per-container: task IP and container port',
      o: { ip: '198.18.1.9' },
      address: '198.18.1.9',
      port: 8080,
    },
    {
      desc: 'port-mapped: node address and host port',
      o: { mode: 'port-mapped', hostPort: 31000, node: 'node-2' },
      address: '198.18.255.2',
      port: 31000,
    },
    {
      desc: 'host: node address and the port itself',
      o: { mode: 'host', containerPort: 9000 },
      address: '198.18.255.1',
      port: 9000,
    },
  ] as const)('backend address, $desc', ({ o, address, port }) => {
    const vip = only(compile([web('web.1', o)]), 'web.marathon');
    expect(vip.spec.backends.map((b) => [b.address, b.port])).toEqual([[address, port]]);
  });

  it.each([
    { desc: 'running and healthy', o: {}, weight: 1 },
    { desc: 'running, health unknown', o: { health: 'unknown' }, weight: 1 },
    { desc: 'unhealthy', o: { health: 'unhealthy' }, weight: 0 },
    { desc: 'draining', o: { draining: true }, weight: 0 },
    { desc: 'killing', o: { state: 'killing' }, weight: 0 },
    { desc: 'staging', o: { state: 'staging' }, weight: 0 },
  ] as const)('weight: $desc → $weight', ({ o, weight }) => {
    const vip = only(compile([web('web.1', o)]), 'web.marathon');
    expect(vip.spec.backends.map((b) => b.weight)).toEqual([weight]);
  });

  it('keeps the VIP for a failed task (the app still exists) but gives it no backend', () => {
    const vip = only(compile([web('web.1', { state: 'failed' })]), 'web.marathon');
    expect(vip.spec.backends).toEqual([]);
    expect(vip.spec.owners).toHaveLength(1);
  });

  it('leaves out a backend whose address is not known yet', () => {
    const vip = only(compile([web('web.1', { mode: 'host', node: 'node-9' })]), 'web.marathon');
    expect(vip.spec.backends).toEqual([]);
  });

  it('names VIPs the DC/OS way and keeps frameworks apart', () => {
    const result = compile([
      taskInput('a.1', { app: 'group/app', labels: { app: 'app' }, vip: { VIP_0: '/my-group/My_App:80' } }),
      taskInput('k.1', { app: 'broker', framework: 'kafka', vip: { VIP_0: '/web:9092' } }),
      web('web.1'),
    ]);
    expect(result.vips.map((v) => v.name)).toEqual(['my-groupmy-app.marathon', 'web.kafka', 'web.marathon']);
    expect(new Set(result.vips.map((v) => v.spec.address)).size).toBe(3);
  });

  it('serves several ports and protocols on one VIP', () => {
    const result = compile([
      taskInput('dns.1', { app: 'dns', protocol: 'udp', containerPort: 5353, vip: { VIP_0: '/dns:53' } }),
      taskInput('dns.2', { app: 'dns', containerPort: 5353, vip: { VIP_0: '/dns:53', VIP_1: '/dns:8053' } }),
    ]);
    const vip = only(result, 'dns.marathon');
    expect(vip.spec.ports).toEqual([
      { port: 53, protocol: 'tcp', mode: 'tcp' },
      { port: 53, protocol: 'udp', mode: 'tcp' },
      { port: 8053, protocol: 'tcp', mode: 'tcp' },
    ]);
    expect(vip.spec.backends.map((b) => `${b.task} ${b.vipPort}/${b.protocol}`)).toEqual([
      'Task/default/dns.2 53/tcp',
      'Task/default/dns.1 53/udp',
      'Task/default/dns.2 8053/tcp',
    ]);
  });

  it('turns an IP VIP label into a VIP at that address', () => {
    const result = compile([taskInput('db.1', { app: 'db', vip: { VIP_0: '198.19.0.10:5432' } })]);
    const vip = only(result, '198-19-0-10.ip.vip');
    expect(vip.spec.address).toBe('198.19.0.10');
    expect(vip.spec.ports).toEqual([{ port: 5432, protocol: 'tcp', mode: 'tcp' }]);
  });

  it('reports an IP VIP outside the service CIDR and makes no VIP for it', () => {
    const result = compile([taskInput('db.1', { app: 'db', vip: { VIP_0: '10.1.2.3:5432' } })]);
    expect(result.vips).toEqual([]);
    expect(result.problems.map((p) => p.code)).toEqual([VIP_ERROR_CODES.ADDRESS_INVALID]);
    expect(result.problems[0]?.message).toBe(
      'VIP 10-1-2-3.ip.vip: 10.1.2.3 is not inside the service CIDR of any Network: 198.19.0.0/16 (Network "main")',
    );
  });

  it('reports a bad label and still compiles the good ones', () => {
    const result = compile([taskInput('web.1', { vip: { VIP_0: '/web:80', VIP_1: '/web:eighty' } })]);
    expect(result.vips.map((v) => v.name)).toEqual(['web.marathon']);
    expect(result.problems.map((p) => [p.code, p.field])).toEqual([[VIP_ERROR_CODES.BAD_LABEL, 'VIP_1']]);
    expect(result.problems[0]?.message).toBe(
      'Task/default/web.1 port label VIP_1="/web:eighty": the port after the last ":" must be an integer 1-65535, got "eighty"',
    );
  });

  it('reports a name too long for an object name', () => {
    const long = Array.from({ length: 4 }, () => 'a'.repeat(63)).join('.');
    const result = compile([taskInput('web.1', { vip: { VIP_0: `/${long}:80` } })]);
    expect(result.vips).toEqual([]);
    expect(result.problems[0]?.code).toBe(VIP_ERROR_CODES.BAD_NAME);
    expect(result.problems[0]?.message).toContain('longer than 253 characters');
  });
});

describe('compileVips: VIPs from Services', () => {
  const prodWeb = (o: Parameters<typeof serviceInput>[1] = {}): ObjectInput =>
    serviceInput('web', { namespace: 'prod', vipName: '/prod/web', ...o });

  it('names the VIP <name>.<namespace>.svc and selects backends with the shared selector', () => {
    const result = compile([
      prodWeb({ address: '198.19.7.7' }),
      taskInput('web.1', { namespace: 'prod', ip: '198.18.1.2' }),
      taskInput('web.2', { namespace: 'dev', ip: '198.18.1.3' }),
      taskInput('api.1', { namespace: 'prod', app: 'api', ip: '198.18.1.4' }),
    ]);
    expect(result.problems).toEqual([]);
    expect(only(result, 'prodweb.prod.svc').spec).toEqual({
      name: 'prodweb',
      framework: 'prod.svc',
      address: '198.19.7.7',
      ports: [{ port: 80, protocol: 'tcp', mode: 'http' }],
      backends: [
        {
          task: 'Task/prod/web.1',
          vipPort: 80,
          protocol: 'tcp',
          address: '198.18.1.2',
          port: 8080,
          weight: 1,
        },
      ],
      owners: [{ kind: 'service', namespace: 'prod', name: 'web', source: 'spec.vip' }],
    });
  });

  it('gives Services in two namespaces two VIPs', () => {
    const result = compile([prodWeb(), serviceInput('web', { namespace: 'dev', vipName: '/prod/web' })]);
    expect(result.vips.map((v) => v.name)).toEqual(['prodweb.dev.svc', 'prodweb.prod.svc']);
  });

  it('makes no VIP for a Service without spec.vip.name', () => {
    expect(compile([serviceInput('web', { address: '198.19.7.7' })]).vips).toEqual([]);
  });

  it("steps around a Service's explicit address that no VIP owns", () => {
    const slot = only(compile([web('web.1')]), 'web.marathon').spec.address;
    const result = compile([
      serviceInput('db', { app: 'db', address: slot }),
      web('web.1'),
      taskInput('x.1', { app: 'x', vip: { VIP_0: `${slot}:80` } }),
    ]);
    expect(only(result, 'web.marathon').spec.address).not.toBe(slot);
    expect(result.vips.map((v) => v.name)).toEqual(['web.marathon']);
    expect(result.problems.map((p) => p.message)).toEqual([
      `VIP ${slot.replace(/\./g, '-')}.ip.vip: ${slot} is already the address of Service/default/db (spec.vip.address)`,
    ]);
  });

  it('joins an app VIP through the framework label; the Service sets the mode', () => {
    const result = compile([
      serviceInput('web', { vipName: 'web', labels: { 'switchyard.io/framework': 'marathon' } }),
      web('web.1', { ip: '198.18.1.2' }),
    ]);
    const vip = only(result, 'web.marathon');
    expect(vip.spec.ports).toEqual([{ port: 80, protocol: 'tcp', mode: 'http' }]);
    expect(vip.spec.owners.map((o) => `${o.kind} ${o.namespace}/${o.name} ${o.source}`)).toEqual([
      'app default/web VIP_0',
      'service default/web spec.vip',
    ]);
    expect(vip.spec.backends).toHaveLength(1);
  });

  it('reports two Services that disagree on a port mode or an address, keeping the first', () => {
    const shared = { vipName: 'web', labels: { 'switchyard.io/framework': 'marathon' } };
    const result = compile([
      serviceInput('a', { ...shared, address: '198.19.0.10', ports: [{ port: 80, mode: 'http' }] }),
      serviceInput('b', { ...shared, address: '198.19.0.11', ports: [{ port: 80, mode: 'tcp' }] }),
    ]);
    const vip = only(result, 'web.marathon');
    expect(vip.spec.address).toBe('198.19.0.10');
    expect(vip.spec.ports).toEqual([{ port: 80, protocol: 'tcp', mode: 'http' }]);
    expect(result.problems.map((p) => p.message)).toEqual([
      'VIP web.marathon: Service/default/b asks for address 198.19.0.11, but Service/default/a already asked for 198.19.0.10; keeping 198.19.0.10',
      'VIP web.marathon: Service/default/b gives port 80/tcp mode tcp, but Service/default/a gives it mode http; keeping http',
    ]);
  });
});

describe('compileVips: deterministic and pure', () => {
  const inputs = [
    web('web.1', { ip: '198.18.1.2' }),
    web('web.2', { ip: '198.18.1.3' }),
    taskInput('api.1', { app: 'api', vip: { VIP_0: '/api:80', VIP_1: '/api:443' } }),
    taskInput('db.1', { app: 'db', vip: { VIP_0: '198.19.0.10:5432' } }),
    serviceInput('web', { namespace: 'prod', vipName: 'web' }),
  ];

  it('gives the same objects whatever the order of its inputs', () => {
    const forward = compile(inputs);
    const backward = compile([...inputs].reverse());
    expect(backward.vips).toEqual(forward.vips);
    const snapshot = snapshotOf([...BASE, ...inputs]);
    const reversed: VipSnapshot = {
      tasks: [...snapshot.tasks].reverse(),
      services: [...snapshot.services].reverse(),
      nodes: [...snapshot.nodes].reverse(),
      networks: [...snapshot.networks].reverse(),
      vips: [],
    };
    expect(compileVips(reversed, OPTIONS).vips).toEqual(forward.vips);
  });

  it('never writes to its input and shares nothing with it', () => {
    const first = compile(inputs);
    const snapshot = deepFreeze(snapshotOf([...BASE, ...inputs], storedVips(first.vips)));
    const again = compileVips(snapshot, OPTIONS);
    expect(again.vips).toEqual(first.vips);
    for (const vip of again.vips) {
      expect(snapshot.vips.some((s) => s.spec === vip.spec || s.spec.ports === vip.spec.ports)).toBe(false);
    }
  });

  it('keeps stored addresses rather than recomputing them', () => {
    const first = compile(inputs);
    const moved = first.vips.map((v) =>
      v.name === 'web.marathon' ? { ...v, spec: { ...v.spec, address: '198.19.200.1' } } : v,
    );
    const again = compile(inputs, storedVips(moved));
    expect(only(again, 'web.marathon').spec.address).toBe('198.19.200.1');
  });

  it('changes nothing without a Network, and says why', () => {
    const first = compile(inputs);
    const stored = storedVips(first.vips);
    const result = compileVips(snapshotOf(inputs, stored), OPTIONS);
    expect(result.vips).toEqual(first.vips);
    expect(result.problems.map((p) => p.code)).toEqual([VIP_ERROR_CODES.NO_NETWORK]);
  });
});

describe('compileVips: release after the grace period, and re-use', () => {
  const tasks = [web('web.1'), web('web.2')];
  const active = storedVips(compile(tasks).vips);
  const address = active[0]?.spec.address ?? '';

  it('keeps the address of a VIP whose owners are gone, with releaseAt = now + grace', () => {
    const result = compile([], active);
    expect(result.vips).toEqual([
      {
        kind: 'VIP',
        name: 'web.marathon',
        labels: {},
        spec: {
          name: 'web',
          framework: 'marathon',
          address,
          ports: [{ port: 80, protocol: 'tcp', mode: 'tcp' }],
          backends: [],
          owners: [],
          releaseAt: '2024-05-01T12:05:00.000Z',
        },
      },
    ]);
    expect(result.nextReleaseAt).toBe(NOW + GRACE);
  });

  it('keeps the releaseAt it already has, and lets the VIP go once it has passed', () => {
    const releasing = storedVips(compile([], active).vips);
    const later = compile([], releasing, { ...OPTIONS, now: NOW + GRACE - 1 });
    expect(later.vips[0]?.spec.releaseAt).toBe('2024-05-01T12:05:00.000Z');
    expect(compile([], releasing, { ...OPTIONS, now: NOW + GRACE }).vips).toEqual([]);
  });

  it('gives a returning owner the same address and clears releaseAt', () => {
    const releasing = storedVips(compile([], active).vips);
    const back = only(compile([web('web.3')], releasing, { ...OPTIONS, now: NOW + 60_000 }), 'web.marathon');
    expect(back.spec.address).toBe(address);
    expect(back.spec.releaseAt).toBeUndefined();
    expect(back.spec.owners).toHaveLength(1);
  });

  it('re-uses a released address for another VIP', () => {
    const result = compile([taskInput('db.1', { app: 'db', vip: { VIP_0: `${address}:5432` } })], []);
    expect(result.problems).toEqual([]);
    expect(result.vips.map((v) => v.spec.address)).toEqual([address]);
  });

  it('lets a Service that renamed its VIP take its explicit address along at once', () => {
    const before = storedVips(compile([serviceInput('web', { vipName: 'old', address: '198.19.7.7' })]).vips);
    const after = compile([serviceInput('web', { vipName: 'new', address: '198.19.7.7' })], before);
    expect(after.vips.map((v) => [v.name, v.spec.address, v.spec.releaseAt])).toEqual([
      ['new.default.svc', '198.19.7.7', undefined],
    ]);
  });

  it('gives a hand-written VIP without owners a grace period too', () => {
    const hand = storedVips([
      {
        kind: 'VIP',
        name: 'manual.marathon',
        spec: {
          name: 'manual',
          framework: 'marathon',
          address: '198.19.9.9',
          ports: [{ port: 80, protocol: 'tcp', mode: 'tcp' }],
          backends: [],
          owners: [],
        },
      },
    ]);
    expect(compile([], hand).vips[0]?.spec.releaseAt).toBe('2024-05-01T12:05:00.000Z');
  });
});
