import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectInput, TaskSpec } from '../../model';
import { validateInput } from '../../validate';
import { dnsSubdomainReason } from '../../validate/names';
import { convertMesosState, type ConvertInput } from './convert';
import { parseMesosState } from './decode';
import { objectNameFor } from './names';
import type { IpSource, MesosState, MesosStatus, MesosTask } from './types';

const FIXTURE = parseMesosState(readFileSync(join(__dirname, 'testdata', 'state-leader.json'), 'utf8'));
const MASTERS = ['198.18.0.10:5050', '198.18.0.11:5050', '198.18.0.12:5050'];
const RESOLVED = { 'agent-3.example.org': ['198.18.1.3'], 'spark-driver.example.org': ['198.18.0.20'] };
const S1 = 'c0ffee00-0000-4000-8000-000000000000-47fb0463-s1';
const S2 = 'c0ffee00-0000-4000-8000-000000000000-543fc09c-s2';
const S3 = 'c0ffee00-0000-4000-8000-000000000000-9f5058c6-s3';

function convert(input: Partial<ConvertInput> = {}, ipSources?: IpSource[]) {
  return convertMesosState(
    { state: FIXTURE, masters: MASTERS, resolved: RESOLVED, ...input },
    ipSources === undefined ? {} : { ipSources },
  );
}

function find(objects: readonly ObjectInput[], kind: string, name: string): ObjectInput {
  const found = objects.find((o) => o.kind === kind && o.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name} in ${objects.map((o) => o.name).join(', ')}`);
  return found;
}

function taskById(objects: readonly ObjectInput[], id: string): ObjectInput<'Task'> {
  const found = objects.find((o) => o.kind === 'Task' && (o.spec as TaskSpec).id === id);
  if (found === undefined) throw new Error(`no task ${id}`);
  return found as ObjectInput<'Task'>;
}

describe('convertMesosState on the recorded leader state', () => {
  const { objects, problems } = convert();

  it.each([
    {
      desc: 'the listed leader is master0 and carries the leader label',
      kind: 'Node',
      name: 'mesos-master-198.18.0.10-5050',
      expected: {
        labels: {
          'switchyard.io/source': 'mesos',
          'switchyard.io/mesos-role': 'master',
          'switchyard.io/mesos-leader': 'true',
          'switchyard.io/mesos-master-index': '0',
          'switchyard.io/mesos-port': '5050',
        },
        spec: { address: '198.18.0.10' },
      },
    },
    {
      desc: 'a standby master keeps its list position as masterN',
      kind: 'Node',
      name: 'mesos-master-198.18.0.12-5050',
      expected: { labels: { 'switchyard.io/mesos-master-index': '2' }, spec: { address: '198.18.0.12' } },
    },
    {
      desc: 'an agent is named by its id, hashed (it had an upper-case S) with the tail kept for DNS',
      kind: 'Node',
      name: S1,
      expected: {
        labels: {
          'switchyard.io/mesos-role': 'agent',
          'switchyard.io/mesos-port': '5051',
          'switchyard.io/mesos-id': 'c0ffee00-0000-4000-8000-000000000000-S1',
        },
        spec: { address: '198.18.1.1' },
      },
    },
    {
      desc: 'an agent whose pid names a host gets the resolved address',
      kind: 'Node',
      name: S3,
      expected: { spec: { address: '198.18.1.3' } },
    },
    {
      desc: 'a framework scheduler is a Node with the Mesos-DNS framework name (dots kept) and its port',
      kind: 'Node',
      name: 'mesos-framework-c0ffee00-0000-4000-8000-000000000000-0002',
      expected: {
        labels: {
          'switchyard.io/mesos-role': 'framework',
          'switchyard.io/mesos-framework': 'spark.prod-1',
          'switchyard.io/mesos-port': '15102',
        },
        spec: { address: '198.18.0.20' },
      },
    },
  ])('$desc', ({ kind, name, expected }) => {
    expect(find(objects, kind, name)).toMatchObject(expected);
  });

  it.each([
    {
      desc: 'Marathon host-networking task: DiscoveryInfo names, ports and labels; health from the latest status with one',
      id: 'web.0c9e2f4a-1111-11ee-8a00-0242ac110001',
      name: 'web.0c9e2f4a-1111-11ee-8a00-0242ac110001',
      labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'web.example.org' },
      spec: {
        app: 'web',
        framework: 'marathon',
        node: S1,
        state: 'running',
        health: 'healthy',
        networkMode: 'ip-per-container',
        ips: ['198.18.1.1'],
        ports: [
          {
            name: 'http',
            containerPort: 31000,
            hostPort: 31000,
            protocol: 'tcp',
            labels: { VIP_0: '/web:80' },
          },
          { name: 'admin', containerPort: 31001, hostPort: 31001, protocol: 'tcp' },
        ],
        startedAt: '2023-11-14T22:13:22.250Z',
      },
    },
    {
      desc: 'grouped Marathon app with Docker bridge: sanitised name + hash, app id from the dotted name, container port from the mapping',
      id: 'prod_db_mysql.5d0e7a22-4444-11ee-8a00-0242ac110001',
      name: 'prod-db-mysql.5d0e7a22-4444-11ee-8a00-0242ac110001-5daae3eb',
      spec: {
        app: 'prod/db/mysql',
        node: S2,
        health: 'unhealthy',
        networkMode: 'ip-per-container',
        ips: ['172.17.0.2'],
        ports: [
          {
            name: 'mysql',
            containerPort: 3306,
            hostPort: 31200,
            protocol: 'tcp',
            labels: { 'network-scope': 'host' },
          },
        ],
        startedAt: '2023-11-14T22:16:40.000Z',
      },
    },
    {
      desc: 'Mesos containerizer on an overlay: every netinfo IP (v4 and v6, canonical), an empty DI protocol gives tcp and udp',
      id: 'cache.7f3b1c00-5555-11ee-8a00-0242ac110001',
      spec: {
        networkMode: 'ip-per-container',
        ips: ['198.19.5.5', 'fd00::5'],
        health: 'unknown',
        ports: [
          { name: 'redis', containerPort: 6379, protocol: 'tcp' },
          { containerPort: 6379, protocol: 'udp' },
        ],
      },
    },
    {
      desc: 'Mesos 0.25 NetworkInfo with a single ip_address',
      id: 'legacy.9a9a9a9a-6666-11ee-8a00-0242ac110001',
      spec: { ips: ['198.19.6.6'], ports: [{ containerPort: 31100, hostPort: 31100, protocol: 'tcp' }] },
    },
    {
      desc: 'a killed task keeps its state; with no IPs in its running status it falls through to the host',
      id: 'web.0c9e2f4a-2222-11ee-8a00-0242ac110001',
      spec: { state: 'killed', networkMode: 'host', ips: [], startedAt: '2023-11-14T22:13:30.000Z' },
    },
    {
      desc: 'a staging task on a host-named agent: host mode, DI port plus the undescribed resource port',
      id: 'web.0c9e2f4a-3333-11ee-8a00-0242ac110001',
      spec: {
        state: 'staging',
        node: S3,
        networkMode: 'host',
        ports: [
          { name: 'http', containerPort: 31020, hostPort: 31020, protocol: 'tcp' },
          { containerPort: 31021, hostPort: 31021, protocol: 'tcp' },
        ],
      },
    },
    {
      desc: 'a non-Marathon framework: id with ":" hashed, framework flattened to one label, "mesos" IP label source, garbage IP skipped',
      id: 'ct:1700000000000:0:Nightly_Report:',
      name: 'ct-1700000000000-0-nightly-report-0d94120d',
      labels: { 'switchyard.io/mesos-framework': 'spark.prod-1' },
      spec: {
        app: 'Nightly Report',
        framework: 'spark-prod-1',
        ips: ['198.19.7.7'],
        ports: [31500, 31502, 31503].map((p) => ({ containerPort: p, hostPort: p, protocol: 'tcp' })),
      },
    },
    {
      desc: 'a finished task',
      id: 'driver-finished',
      name: 'driver-finished',
      spec: { state: 'finished', app: 'driver', node: S2, ports: [] },
    },
  ])('$desc', ({ id, name, labels, spec }) => {
    const task = taskById(objects, id);
    if (name !== undefined) expect(task.name).toBe(name);
    expect(task.namespace).toBe('default');
    expect(task.labels).toMatchObject({ 'switchyard.io/source': 'mesos', ...labels });
    expect(task.spec).toMatchObject({ id, ...spec });
  });

  it('skips a task whose agent is not in the state, and says so', () => {
    expect(objects.some((o) => (o.spec as TaskSpec).id?.startsWith('orphan.'))).toBe(false);
    expect(problems).toEqual([expect.stringContaining('agent c0ffee00-0000-4000-8000-000000000000-S99')]);
  });

  it('drops task labels that are not valid state labels (a space in "team web")', () => {
    expect(taskById(objects, 'web.0c9e2f4a-1111-11ee-8a00-0242ac110001').labels).not.toHaveProperty('owner');
  });

  it('writes 3 masters, 3 agents, 2 frameworks and 8 tasks, every one valid for the store', () => {
    const count = (role: string) =>
      objects.filter((o) => o.labels?.['switchyard.io/mesos-role'] === role).length;
    expect([count('master'), count('agent'), count('framework')]).toEqual([3, 3, 2]);
    expect(objects.filter((o) => o.kind === 'Task')).toHaveLength(8);
    for (const o of objects) expect(() => validateInput(o)).not.toThrow();
  });

  it('is pure: a frozen input, the same output twice', () => {
    const frozen = deepFreeze(structuredClone(FIXTURE));
    const a = convertMesosState({ state: frozen, masters: MASTERS, resolved: RESOLVED });
    const b = convertMesosState({ state: frozen, masters: MASTERS, resolved: RESOLVED });
    expect(a).toEqual(b);
    expect(a.objects).toEqual(objects);
  });
});

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('IP-source order (Mesos-DNS Task.IPs: all IPs of the first source that yields)', () => {
  const MYSQL = 'prod_db_mysql.5d0e7a22-4444-11ee-8a00-0242ac110001';
  const SPARK = 'ct:1700000000000:0:Nightly_Report:';
  it.each([
    {
      desc: 'default order: netinfo first (the Docker bridge IP)',
      sources: undefined,
      id: MYSQL,
      ips: ['172.17.0.2'],
      mode: 'ip-per-container',
    },
    {
      desc: 'docker label source',
      sources: ['docker', 'host'],
      id: MYSQL,
      ips: ['172.17.0.2'],
      mode: 'ip-per-container',
    },
    {
      desc: 'the sample config order: no mesos label, so the agent (port-mapped: Docker mappings)',
      sources: ['mesos', 'host'],
      id: MYSQL,
      ips: [],
      mode: 'port-mapped',
    },
    { desc: 'host first', sources: ['host', 'netinfo'], id: MYSQL, ips: [], mode: 'port-mapped' },
    {
      desc: 'mesos label source',
      sources: ['mesos', 'netinfo'],
      id: SPARK,
      ips: ['198.19.7.7'],
      mode: 'ip-per-container',
    },
    {
      desc: 'no source yields: no IPs, still a container task (Mesos-DNS: only .slave names)',
      sources: ['netinfo', 'docker'],
      id: SPARK,
      ips: [],
      mode: 'ip-per-container',
    },
    {
      desc: 'host-networking task with host first',
      sources: ['host'],
      id: 'web.0c9e2f4a-1111-11ee-8a00-0242ac110001',
      ips: [],
      mode: 'host',
    },
  ] as { desc: string; sources: IpSource[] | undefined; id: string; ips: string[]; mode: string }[])(
    '$desc',
    ({ sources, id, ips, mode }) => {
      const task = taskById(convert({}, sources).objects, id);
      expect({ ips: task.spec.ips, mode: task.spec.networkMode }).toEqual({ ips, mode });
    },
  );
});

const AGENT = { id: 'a-S1', pid: 'slave(1)@198.18.1.1:5051' };

function status(state: string, timestamp: number, extra: Partial<MesosStatus> = {}): MesosStatus {
  return { state, timestamp, labels: [], networkInfos: [], ...extra };
}

function oneTask(task: Partial<MesosTask>, frameworkName = 'marathon'): MesosState {
  const full: MesosTask = {
    id: 't1',
    name: 't',
    frameworkId: 'fw',
    agentId: 'a-S1',
    state: 'TASK_RUNNING',
    statuses: [],
    resourcePorts: [],
    labels: [],
    portMappings: [],
    ...task,
  };
  return {
    leader: 'master@198.18.0.10:5050',
    agents: [AGENT],
    frameworks: [{ id: 'fw', name: frameworkName, tasks: [full] }],
    skipped: [],
  };
}

function onlyTask(state: MesosState, ipSources?: IpSource[]): ObjectInput<'Task'> {
  const out = convertMesosState({ state, masters: [] }, ipSources === undefined ? {} : { ipSources });
  const tasks = out.objects.filter((o) => o.kind === 'Task');
  expect(tasks).toHaveLength(1);
  return tasks[0] as ObjectInput<'Task'>;
}

const net = (ip: string) => ({ networkInfos: [{ ipAddresses: [ip] }] });

describe('statuses are read by timestamp, not array order', () => {
  it.each([
    {
      desc: 'netinfo comes from the latest TASK_RUNNING status',
      statuses: [
        status('TASK_RUNNING', 20, net('198.19.0.2')),
        status('TASK_RUNNING', 10, net('198.19.0.1')),
      ],
      expected: { ips: ['198.19.0.2'] },
    },
    {
      desc: 'a later non-running status does not hide the running one',
      statuses: [
        status('TASK_RUNNING', 10, net('198.19.0.1')),
        status('TASK_KILLING', 30, net('198.19.0.9')),
      ],
      expected: { ips: ['198.19.0.1'] },
    },
    {
      desc: 'health: the latest status that has one wins (unhealthy after healthy)',
      statuses: [
        status('TASK_RUNNING', 50, { healthy: false }),
        status('TASK_RUNNING', 40, { healthy: true }),
        status('TASK_RUNNING', 60),
      ],
      expected: { health: 'unhealthy' },
    },
    {
      desc: 'health: healthy after unhealthy',
      statuses: [
        status('TASK_RUNNING', 40, { healthy: false }),
        status('TASK_RUNNING', 50, { healthy: true }),
      ],
      expected: { health: 'healthy' },
    },
    {
      desc: 'startedAt is the earliest running status',
      statuses: [
        status('TASK_RUNNING', 1700000020),
        status('TASK_STARTING', 1700000001),
        status('TASK_RUNNING', 1700000010.5),
      ],
      expected: { startedAt: '2023-11-14T22:13:30.500Z' },
    },
  ])('$desc', ({ statuses, expected }) => {
    expect(onlyTask(oneTask({ statuses })).spec).toMatchObject(expected);
  });
});

describe('task states', () => {
  it.each([
    ['TASK_STAGING', 'staging'],
    ['TASK_STARTING', 'starting'],
    ['TASK_RUNNING', 'running'],
    ['TASK_KILLING', 'killing'],
    ['TASK_FINISHED', 'finished'],
    ['TASK_FAILED', 'failed'],
    ['TASK_ERROR', 'failed'],
    ['TASK_KILLED', 'killed'],
    ['TASK_LOST', 'lost'],
    ['TASK_UNREACHABLE', 'lost'],
    ['TASK_GONE_BY_OPERATOR', 'lost'],
    ['TASK_SOMETHING_NEW', 'lost'],
  ])('%s → %s', (mesos, expected) => {
    expect(onlyTask(oneTask({ state: mesos })).spec.state).toBe(expected);
  });
});

describe('ports', () => {
  it.each([
    {
      desc: 'a UDP Docker mapping makes the resource port UDP',
      task: {
        resourcePorts: [31000],
        portMappings: [{ hostPort: 31000, containerPort: 53, protocol: 'udp' }],
      },
      expected: [{ containerPort: 53, hostPort: 31000, protocol: 'udp' }],
    },
    {
      desc: 'a DI port without a matching resource has no host port (container network)',
      task: {
        discovery: { name: 't', ports: [{ number: 8080, name: 'HTTP Main', protocol: 'TCP', labels: [] }] },
      },
      expected: [{ name: 'httpmain', containerPort: 8080, protocol: 'tcp' }],
    },
    {
      desc: 'port 0 and unknown protocols are skipped',
      task: {
        discovery: {
          name: 't',
          ports: [
            { number: 0, name: 'zero', protocol: 'tcp', labels: [] },
            { number: 9000, name: 'sctp', protocol: 'sctp', labels: [] },
          ],
        },
      },
      expected: [],
    },
    {
      desc: 'a repeated DI port name is kept only on the first',
      task: {
        discovery: {
          name: 't',
          ports: [
            { number: 80, name: 'web', protocol: 'tcp', labels: [] },
            { number: 81, name: 'web', protocol: 'tcp', labels: [] },
          ],
        },
      },
      expected: [
        { name: 'web', containerPort: 80, protocol: 'tcp' },
        { containerPort: 81, protocol: 'tcp' },
      ],
    },
  ] as { desc: string; task: Partial<MesosTask>; expected: object[] }[])('$desc', ({ task, expected }) => {
    expect(onlyTask(oneTask(task)).spec.ports).toEqual(expected);
  });
});

describe('masters (Mesos-DNS masterRecord order)', () => {
  function masters(list: string[], leader: string, resolved: Record<string, string[]> = {}) {
    const state: MesosState = { leader: `master@${leader}`, agents: [], frameworks: [], skipped: [] };
    return convertMesosState({ state, masters: list, resolved })
      .objects.filter((o) => o.labels?.['switchyard.io/mesos-role'] === 'master')
      .map((o) => ({
        address: (o.spec as { address: string }).address,
        index: o.labels?.['switchyard.io/mesos-master-index'],
        leader: o.labels?.['switchyard.io/mesos-leader'] === 'true',
      }));
  }
  it.each([
    {
      desc: 'the leader in the middle of the list keeps its index',
      list: ['198.18.0.10:5050', '198.18.0.11:5050', '198.18.0.12:5050'],
      leader: '198.18.0.11:5050',
      expected: [
        { address: '198.18.0.10', index: '0', leader: false },
        { address: '198.18.0.11', index: '1', leader: true },
        { address: '198.18.0.12', index: '2', leader: false },
      ],
    },
    {
      desc: 'a leader not in the list gets the next index',
      list: ['198.18.0.10:5050'],
      leader: '198.18.0.20:5050',
      expected: [
        { address: '198.18.0.10', index: '0', leader: false },
        { address: '198.18.0.20', index: '1', leader: true },
      ],
    },
    {
      desc: 'no configured masters: the leader is master0',
      list: [],
      leader: '198.18.0.20:5050',
      expected: [{ address: '198.18.0.20', index: '0', leader: true }],
    },
    {
      desc: 'a duplicate address is skipped without taking an index',
      list: ['198.18.0.10:5050', '198.18.0.10:5051', '198.18.0.11:5050'],
      leader: '198.18.0.11:5050',
      expected: [
        { address: '198.18.0.10', index: '0', leader: false },
        { address: '198.18.0.11', index: '1', leader: true },
      ],
    },
    {
      desc: 'a master given by host name is resolved',
      list: ['master-1.example.org:5050'],
      leader: '198.18.0.10:5050',
      resolved: { 'master-1.example.org': ['198.18.0.10'] },
      expected: [{ address: '198.18.0.10', index: '0', leader: true }],
    },
  ])('$desc', ({ list, leader, resolved, expected }) => {
    expect(masters(list, leader, resolved)).toEqual(expected);
  });
});

describe('object names', () => {
  it.each([
    {
      desc: 'a valid Marathon task id is kept',
      id: 'web.0c9e2f4a-1111-11ee-8a00-0242ac110001',
      keepTail: false,
      name: 'web.0c9e2f4a-1111-11ee-8a00-0242ac110001',
    },
    { desc: 'underscores: sanitised, hash appended', id: 'prod_web.1', keepTail: false, name: 'prod-web.1-' },
    {
      desc: 'upper case only: still hashed (A and a must not collide)',
      id: 'Web',
      keepTail: false,
      name: 'web-',
    },
    { desc: 'agent tail kept after the hash', id: 'abc-S12', keepTail: true, name: 'abc-' },
    { desc: 'empty id', id: '', keepTail: false, name: '' },
    { desc: 'dots only', id: '...', keepTail: false, name: '' },
    { desc: 'a 70-character label is cut to 63', id: `${'A'.repeat(70)}`, keepTail: false, name: 'aaaa' },
    {
      desc: 'a 300-character name is cut to 253',
      id: `${'a'.repeat(60)}.`.repeat(5),
      keepTail: false,
      name: 'aaaa',
    },
    { desc: 'unicode and punctuation', id: 'naïve/app:1', keepTail: false, name: 'na' },
  ])('$desc', ({ id, keepTail, name }) => {
    const out = objectNameFor(id, { keepTail });
    expect(out.startsWith(name)).toBe(true);
    expect(dnsSubdomainReason(out)).toBeUndefined();
    expect(objectNameFor(id, { keepTail })).toBe(out);
    if (keepTail && id.includes('-'))
      expect(out.endsWith(`-${id.slice(id.lastIndexOf('-') + 1).toLowerCase()}`)).toBe(true);
  });

  it('sanitised ids that look alike stay apart', () => {
    const ids = ['a_b', 'a-b', 'A-B', 'a.b', 'a:b', 'A_b'];
    expect(new Set(ids.map((id) => objectNameFor(id))).size).toBe(ids.length);
  });

  it('tasks with the same id in two frameworks are named <framework id>.<task id>', () => {
    const base = oneTask({ id: 'job-1' });
    const state: MesosState = {
      ...base,
      frameworks: [
        ...base.frameworks,
        {
          id: 'fw2',
          name: 'chronos',
          tasks: [{ ...(base.frameworks[0]?.tasks[0] as MesosTask), frameworkId: 'fw2' }],
        },
      ],
    };
    const names = convertMesosState({ state, masters: [] })
      .objects.filter((o) => o.kind === 'Task')
      .map((o) => o.name);
    expect(names).toEqual(['fw.job-1', 'fw2.job-1']);
  });
});

describe('ownership and source name', () => {
  it('labels everything with the configured source name and namespace', () => {
    const out = convertMesosState(
      { state: oneTask({}), masters: [] },
      { sourceName: 'mesos-east', namespace: 'east' },
    );
    expect(out.objects.every((o) => o.labels?.['switchyard.io/source'] === 'mesos-east')).toBe(true);
    expect(out.objects.find((o) => o.kind === 'Task')?.namespace).toBe('east');
  });

  it('never copies a Mesos label into the switchyard.io/ prefix', () => {
    const task = onlyTask(
      oneTask({
        labels: [
          { key: 'switchyard.io/source', value: 'other' },
          { key: 'tier', value: 'web' },
        ],
      }),
    );
    expect(task.labels).toMatchObject({ 'switchyard.io/source': 'mesos', tier: 'web' });
  });
});
