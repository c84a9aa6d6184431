import { StateError, StateErrorCode } from '../errors';
import { validateInput } from './schema';

// Addresses come from the benchmarking range 198.18.0.0/15 (DESIGN.md, "Network tests").
const NETWORK = {
  kind: 'Network',
  name: 'default',
  spec: { podCIDR: '198.18.0.0/17', nodeSubnetPrefix: 24, serviceCIDR: '198.18.128.0/17' },
};
const NODE = {
  kind: 'Node',
  name: 'agent-1.example.org',
  labels: { 'topology.example.org/zone': 'a' },
  spec: { address: '198.19.0.1', podSubnet: '198.18.3.0/24', heartbeatAt: '2024-05-01T12:00:00Z' },
};
const TASK = {
  kind: 'Task',
  name: 'web.4f1b-9c2e',
  namespace: 'prod',
  labels: { app: 'web' },
  spec: {
    app: 'web',
    framework: 'marathon',
    node: 'agent-1.example.org',
    state: 'running',
    networkMode: 'ip-per-container',
    ips: ['198.18.3.7'],
    ports: [{ name: 'http', containerPort: 8080, labels: { VIP_0: '/web:80' } }],
  },
};
const SERVICE = {
  kind: 'Service',
  name: 'web',
  spec: {
    selector: { app: 'web' },
    ports: [
      { name: 'http', port: 80, targetPort: 'http', mode: 'http' },
      { name: 'dns', port: 53, protocol: 'udp' },
      { name: 'dns-tcp', port: 53 },
    ],
    vip: { name: '/prod/web', address: '198.18.128.10' },
    ingress: [{ host: '*.example.org', path: '/', pathType: 'Prefix', port: 'http' }],
  },
};
const POLICY = {
  kind: 'Policy',
  name: 'allow-frontend',
  namespace: 'prod',
  spec: {
    taskSelector: { matchLabels: { app: 'web' } },
    ingress: [
      {
        peers: [
          {
            taskSelector: {
              matchExpressions: [{ key: 'role', operator: 'In', values: ['frontend', 'edge'] }],
            },
          },
          { ipBlock: { cidr: '198.18.0.0/16', except: ['198.18.9.0/24'] } },
        ],
        ports: [{ port: 8000, endPort: 8080 }],
      },
    ],
  },
};

const VIP = {
  kind: 'VIP',
  name: 'web.marathon',
  spec: {
    name: 'web',
    framework: 'marathon',
    address: '198.18.128.77',
    ports: [{ port: 80 }, { port: 53, protocol: 'udp' }, { port: 8080, mode: 'http' }],
    backends: [
      { task: 'Task/default/web.1', vipPort: 80, address: '198.18.3.7', port: 8080 },
      { task: 'Task/default/web.2', vipPort: 80, address: '198.19.0.1', port: 31000, weight: 0 },
      { task: 'Task/default/web.1', vipPort: 53, protocol: 'udp', address: '198.18.3.7', port: 5353 },
    ],
    owners: [{ kind: 'app', namespace: 'default', name: 'web', source: 'VIP_0' }],
  },
};

type Json = Record<string, unknown>;

/** A copy of `base` with `patch` merged into it, recursively; `undefined` in the patch deletes. */
function patched(base: Json, patch: Json): Json {
  const out: Json = structuredClone(base);
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    if (value === undefined) delete out[key];
    else if (isPlain(value) && isPlain(current)) out[key] = patched(current, value);
    else out[key] = value;
  }
  return out;
}

function isPlain(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorFrom(fn: () => unknown): StateError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StateError) return err;
    throw err;
  }
  throw new Error('expected a StateError, nothing was thrown');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Every object and array reachable from `value`. */
function objectsIn(value: unknown, into = new Set<object>()): Set<object> {
  if (typeof value === 'object' && value !== null) {
    into.add(value);
    for (const child of Object.values(value)) objectsIn(child, into);
  }
  return into;
}

describe('validateInput: valid objects come back normalised, with defaults filled', () => {
  it.each([
    {
      desc: 'Network: dns defaults',
      input: NETWORK,
      expected: {
        ...NETWORK,
        labels: {},
        spec: {
          ...NETWORK.spec,
          dns: {
            mesosDomain: 'mesos',
            clusterDomain: 'cluster.local',
            vipDomain: 'l4lb.thisdcos.directory',
            upstreams: [],
          },
        },
      },
    },
    {
      desc: 'Network: given dns kept, upstreams canonical',
      input: patched(NETWORK, {
        spec: {
          dns: { mesosDomain: 'dcos', upstreams: ['198.19.0.53', '198.19.0.54:5353', '[FD00::53]:53'] },
        },
      }),
      expected: {
        ...NETWORK,
        labels: {},
        spec: {
          ...NETWORK.spec,
          dns: {
            mesosDomain: 'dcos',
            clusterDomain: 'cluster.local',
            vipDomain: 'l4lb.thisdcos.directory',
            upstreams: ['198.19.0.53', '198.19.0.54:5353', '[fd00::53]:53'],
          },
        },
      },
    },
    {
      desc: 'Network: IPv6 CIDRs in canonical text',
      input: patched(NETWORK, {
        spec: { podCIDR: 'FD00:0:0:1::/64', serviceCIDR: 'fd00:0:0:2::/108', nodeSubnetPrefix: 80 },
      }),
      expected: {
        ...NETWORK,
        labels: {},
        spec: {
          podCIDR: 'fd00:0:0:1::/64',
          serviceCIDR: 'fd00:0:0:2::/108',
          nodeSubnetPrefix: 80,
          dns: {
            mesosDomain: 'mesos',
            clusterDomain: 'cluster.local',
            vipDomain: 'l4lb.thisdcos.directory',
            upstreams: [],
          },
        },
      },
    },
    { desc: 'Node: no defaults to fill', input: NODE, expected: NODE },
    {
      desc: 'Task: health, protocol and namespace defaults',
      input: TASK,
      expected: {
        ...TASK,
        spec: {
          ...TASK.spec,
          health: 'unknown',
          ports: [{ name: 'http', containerPort: 8080, protocol: 'tcp', labels: { VIP_0: '/web:80' } }],
        },
      },
    },
    {
      desc: 'Task: ips and ports default to empty, namespace to default',
      input: patched(TASK, {
        namespace: undefined,
        spec: { ips: undefined, ports: undefined, networkMode: 'host' },
      }),
      expected: {
        ...TASK,
        namespace: 'default',
        spec: { ...TASK.spec, networkMode: 'host', health: 'unknown', ips: [], ports: [] },
      },
    },
    {
      desc: 'Service: targetPort = port, protocol tcp, mode tcp',
      input: SERVICE,
      expected: {
        ...SERVICE,
        namespace: 'default',
        labels: {},
        spec: {
          ...SERVICE.spec,
          ports: [
            { name: 'http', port: 80, targetPort: 'http', protocol: 'tcp', mode: 'http' },
            { name: 'dns', port: 53, targetPort: 53, protocol: 'udp', mode: 'tcp' },
            { name: 'dns-tcp', port: 53, targetPort: 53, protocol: 'tcp', mode: 'tcp' },
          ],
        },
      },
    },
    {
      desc: 'Policy: policyTypes [Ingress] without egress rules; port protocol tcp',
      input: POLICY,
      expected: {
        ...POLICY,
        labels: {},
        spec: {
          ...POLICY.spec,
          policyTypes: ['Ingress'],
          ingress: [{ ...POLICY.spec.ingress[0], ports: [{ port: 8000, endPort: 8080, protocol: 'tcp' }] }],
        },
      },
    },
    {
      desc: 'Policy: policyTypes [Ingress, Egress] with egress rules',
      input: patched(POLICY, {
        spec: { ingress: undefined, egress: [{ ports: [{ protocol: 'udp', port: 53 }] }] },
      }),
      expected: {
        ...POLICY,
        labels: {},
        spec: {
          taskSelector: POLICY.spec.taskSelector,
          policyTypes: ['Ingress', 'Egress'],
          egress: [{ ports: [{ protocol: 'udp', port: 53 }] }],
        },
      },
    },
    {
      desc: 'VIP: protocol tcp, mode tcp, weight 1',
      input: VIP,
      expected: {
        ...VIP,
        labels: {},
        spec: {
          ...VIP.spec,
          ports: [
            { port: 80, protocol: 'tcp', mode: 'tcp' },
            { port: 53, protocol: 'udp', mode: 'tcp' },
            { port: 8080, protocol: 'tcp', mode: 'http' },
          ],
          backends: [
            { ...VIP.spec.backends[0], protocol: 'tcp', weight: 1 },
            { ...VIP.spec.backends[1], protocol: 'tcp', weight: 0 },
            { ...VIP.spec.backends[2], protocol: 'udp', weight: 1 },
          ],
        },
      },
    },
    {
      desc: 'VIP: backends and owners default to empty; releaseAt kept; IPv6 address canonical',
      input: patched(VIP, {
        spec: {
          backends: undefined,
          owners: undefined,
          releaseAt: '2024-05-01T12:05:00Z',
          address: 'FD00:0:0:2::77',
        },
      }),
      expected: {
        ...VIP,
        labels: {},
        spec: {
          name: 'web',
          framework: 'marathon',
          address: 'fd00:0:0:2::77',
          ports: [
            { port: 80, protocol: 'tcp', mode: 'tcp' },
            { port: 53, protocol: 'udp', mode: 'tcp' },
            { port: 8080, protocol: 'tcp', mode: 'http' },
          ],
          backends: [],
          owners: [],
          releaseAt: '2024-05-01T12:05:00Z',
        },
      },
    },
  ])('$desc', ({ input, expected }) => {
    expect(validateInput(input)).toEqual(expected);
  });

  it.each([
    { desc: 'Network', input: NETWORK },
    { desc: 'Node', input: NODE },
    { desc: 'Task', input: TASK },
    { desc: 'Service', input: SERVICE },
    { desc: 'Policy', input: POLICY },
    { desc: 'VIP', input: VIP },
  ])('$desc: never mutates the input, shares nothing with it, and is idempotent', ({ input }) => {
    const frozen = deepFreeze(structuredClone(input));
    const result = validateInput(frozen);
    expect(frozen).toEqual(input);
    const inputObjects = objectsIn(frozen);
    for (const object of objectsIn(result)) expect(inputObjects.has(object)).toBe(false);
    expect(validateInput(result)).toEqual(result);
  });

  it('drops the store-assigned revisions a client echoes back from a get', () => {
    const result = validateInput({ ...NODE, revision: 7, createRevision: 3 });
    expect(result).toEqual(NODE);
    expect(result).not.toHaveProperty('revision');
  });

  it('gives every result its own default arrays', () => {
    const a = validateInput(NETWORK) as { spec: { dns: { upstreams: string[] } } };
    const b = validateInput(NETWORK) as { spec: { dns: { upstreams: string[] } } };
    expect(a.spec.dns.upstreams).not.toBe(b.spec.dns.upstreams);
  });
});

interface BadCase {
  desc: string;
  input: unknown;
  field: string;
  reason: string;
}

const long = (n: number): string => 'a'.repeat(n);

const ENVELOPE_CASES: BadCase[] = [
  { desc: 'not an object', input: 'Network', field: '(root)', reason: 'must be an object' },
  {
    desc: 'unknown kind',
    input: { ...NETWORK, kind: 'Pod' },
    field: 'kind',
    reason: 'must be one of Network, Node',
  },
  {
    desc: 'kind in lower case',
    input: { ...NETWORK, kind: 'task' },
    field: 'kind',
    reason: 'did you mean "Task"?',
  },
  { desc: 'kind missing', input: { ...NETWORK, kind: undefined }, field: 'kind', reason: 'is required' },
  { desc: 'name missing', input: { ...NETWORK, name: undefined }, field: 'name', reason: 'is required' },
  {
    desc: 'name a number',
    input: { ...NETWORK, name: 7 },
    field: 'name',
    reason: 'must be a string, got number',
  },
  { desc: 'name empty', input: { ...NETWORK, name: '' }, field: 'name', reason: 'must not be empty' },
  {
    desc: 'name upper case',
    input: { ...NETWORK, name: 'Default' },
    field: 'name',
    reason: 'must be lowercase',
  },
  {
    desc: 'name with underscore',
    input: { ...TASK, name: 'prod_web.1' },
    field: 'name',
    reason: 'found "_"',
  },
  {
    desc: 'name too long',
    input: { ...TASK, name: `${long(63)}.${long(63)}.${long(63)}.${long(63)}` },
    field: 'name',
    reason: 'at most 253 characters, got 255',
  },
  {
    desc: 'name part too long',
    input: { ...TASK, name: `web.${long(64)}` },
    field: 'name',
    reason: 'part must be at most 63 characters, got 64',
  },
  {
    desc: 'name starting with "-"',
    input: { ...TASK, name: '-web' },
    field: 'name',
    reason: 'must start and end with a letter or digit',
  },
  {
    desc: 'name with an empty part',
    input: { ...TASK, name: 'web..1' },
    field: 'name',
    reason: 'empty dot-separated part',
  },
  {
    desc: 'namespace on a Network',
    input: { ...NETWORK, namespace: 'default' },
    field: 'namespace',
    reason: 'Network is cluster-scoped',
  },
  {
    desc: 'namespace on a Node',
    input: { ...NODE, namespace: 'prod' },
    field: 'namespace',
    reason: 'Node is cluster-scoped',
  },
  {
    desc: 'namespace with a dot',
    input: { ...TASK, namespace: 'prod.eu' },
    field: 'namespace',
    reason: 'found "."',
  },
  {
    desc: 'label key with a space',
    input: { ...TASK, labels: { 'bad key': 'x' } },
    field: 'labels["bad key"]',
    reason: 'label key "bad key" must be',
  },
  {
    desc: 'label key with an empty prefix',
    input: { ...TASK, labels: { '/app': 'x' } },
    field: 'labels["/app"]',
    reason: 'empty prefix',
  },
  {
    desc: 'label key prefix upper case',
    input: { ...TASK, labels: { 'Example.org/app': 'x' } },
    field: 'labels["Example.org/app"]',
    reason: 'prefix "Example.org" must be lowercase',
  },
  {
    desc: 'label value too long',
    input: { ...TASK, labels: { app: long(64) } },
    field: 'labels.app',
    reason: 'at most 63 characters, got 64',
  },
  {
    desc: 'label value with a slash',
    input: { ...TASK, labels: { app: '/web' } },
    field: 'labels.app',
    reason: 'label value "/web" must be',
  },
  {
    desc: 'label value not a string',
    input: { ...TASK, labels: { replicas: 3 } },
    field: 'labels.replicas',
    reason: 'must be a string, got number',
  },
  {
    desc: 'unknown envelope field',
    input: { ...TASK, metadata: {} },
    field: 'metadata',
    reason: 'unknown field',
  },
  { desc: 'spec missing', input: { ...TASK, spec: undefined }, field: 'spec', reason: 'is required' },
  {
    desc: 'spec an array',
    input: { ...TASK, spec: [] },
    field: 'spec',
    reason: 'must be an object, got an array',
  },
];

// JSON.parse makes `__proto__` an own key; copying it naively would set a prototype and drop the entry.
const PROTO_CASES: BadCase[] = [
  {
    desc: '"__proto__" as a label key',
    input: { ...JSON.parse('{"labels":{"__proto__":"x"}}'), kind: 'Node', name: 'a', spec: NODE.spec },
    field: 'labels.__proto__',
    reason: 'is not allowed as a key',
  },
  {
    desc: '"__proto__" as a port label key',
    input: taskPortsFromJson('[{"containerPort":80,"labels":{"__proto__":{"polluted":"yes"}}}]'),
    field: 'spec.ports[0].labels.__proto__',
    reason: 'is not allowed as a key',
  },
  {
    desc: '"__proto__" as an envelope field',
    input: JSON.parse('{"kind":"Node","name":"a","__proto__":{},"spec":{"address":"198.19.0.1"}}'),
    field: '__proto__',
    reason: 'unknown field',
  },
];

function taskPortsFromJson(portsJson: string): Json {
  const input = patched(TASK, {});
  (input.spec as Json).ports = JSON.parse(portsJson);
  return input;
}

const NETWORK_CASES: BadCase[] = [
  {
    desc: 'podCIDR not a CIDR',
    input: patched(NETWORK, { spec: { podCIDR: 'banana' } }),
    field: 'spec.podCIDR',
    reason: 'missing "/prefix"',
  },
  {
    desc: 'podCIDR host bits set',
    input: patched(NETWORK, { spec: { podCIDR: '198.18.0.1/17' } }),
    field: 'spec.podCIDR',
    reason: 'host bits are set; did you mean 198.18.0.0/17?',
  },
  {
    desc: 'serviceCIDR prefix too long',
    input: patched(NETWORK, { spec: { serviceCIDR: '198.18.128.0/33' } }),
    field: 'spec.serviceCIDR',
    reason: 'prefix length must be 0-32',
  },
  {
    desc: 'pod and service CIDRs overlap',
    input: patched(NETWORK, { spec: { serviceCIDR: '198.18.0.0/20' } }),
    field: 'spec.serviceCIDR',
    reason: '198.18.0.0/20 overlaps spec.podCIDR 198.18.0.0/17',
  },
  {
    desc: 'pod and service CIDRs of different families',
    input: patched(NETWORK, { spec: { serviceCIDR: 'fd00::/108' } }),
    field: 'spec.serviceCIDR',
    reason: 'must be the same IP family as spec.podCIDR',
  },
  {
    desc: 'node subnet prefix equal to the pod prefix',
    input: patched(NETWORK, { spec: { nodeSubnetPrefix: 17 } }),
    field: 'spec.nodeSubnetPrefix',
    reason: 'must be longer than the spec.podCIDR prefix /17',
  },
  {
    desc: 'node subnet prefix shorter than the pod prefix',
    input: patched(NETWORK, { spec: { nodeSubnetPrefix: 8 } }),
    field: 'spec.nodeSubnetPrefix',
    reason: 'must be longer than the spec.podCIDR prefix /17 so node subnets fit inside it, got 8',
  },
  {
    desc: 'node subnet prefix /31 on IPv4',
    input: patched(NETWORK, { spec: { nodeSubnetPrefix: 31 } }),
    field: 'spec.nodeSubnetPrefix',
    reason: 'must be at most 30 for IPv4 (room for a gateway and tasks), got 31',
  },
  {
    desc: 'node subnet prefix /127 on IPv6',
    input: patched(NETWORK, {
      spec: { podCIDR: 'fd00:1::/64', serviceCIDR: 'fd00:2::/108', nodeSubnetPrefix: 127 },
    }),
    field: 'spec.nodeSubnetPrefix',
    reason: 'must be at most 126 for IPv6',
  },
  {
    desc: 'node subnet prefix a string',
    input: patched(NETWORK, { spec: { nodeSubnetPrefix: '24' } }),
    field: 'spec.nodeSubnetPrefix',
    reason: 'must be a prefix length 1-128, got "24"',
  },
  {
    desc: 'misspelt field (case)',
    input: patched(NETWORK, { spec: { podCIDR: undefined, podCidr: '198.18.0.0/17' } }),
    field: 'spec.podCidr',
    reason: 'unknown field; did you mean "podCIDR"?',
  },
  {
    desc: 'misspelt field (typo)',
    input: patched(NETWORK, { spec: { nodeSubnetPrefx: 24 } }),
    field: 'spec.nodeSubnetPrefx',
    reason: 'did you mean "nodeSubnetPrefix"?',
  },
  {
    desc: 'unknown field, no near miss',
    input: patched(NETWORK, { spec: { mtu: 1450 } }),
    field: 'spec.mtu',
    reason: 'unknown field',
  },
  {
    desc: 'upstream port out of range',
    input: patched(NETWORK, { spec: { dns: { upstreams: ['198.19.0.53:99999'] } } }),
    field: 'spec.dns.upstreams[0]',
    reason: 'must be "ip" or "ip:port"',
  },
  {
    desc: 'upstream a host name',
    input: patched(NETWORK, { spec: { dns: { upstreams: ['198.19.0.53', 'dns.example.org'] } } }),
    field: 'spec.dns.upstreams[1]',
    reason: 'got "dns.example.org"',
  },
  {
    desc: 'dns domain upper case',
    input: patched(NETWORK, { spec: { dns: { mesosDomain: 'Mesos' } } }),
    field: 'spec.dns.mesosDomain',
    reason: 'must be lowercase',
  },
  {
    desc: 'unknown dns field',
    input: patched(NETWORK, { spec: { dns: { searchDomains: [] } } }),
    field: 'spec.dns.searchDomains',
    reason: 'unknown field',
  },
];

const NODE_CASES: BadCase[] = [
  {
    desc: 'address not an IP',
    input: patched(NODE, { spec: { address: '198.19.0.256' } }),
    field: 'spec.address',
    reason: 'not a valid IPv4 address',
  },
  {
    desc: 'address missing',
    input: patched(NODE, { spec: { address: undefined } }),
    field: 'spec.address',
    reason: 'is required',
  },
  {
    desc: 'podSubnet host bits set',
    input: patched(NODE, { spec: { podSubnet: '198.18.3.1/24' } }),
    field: 'spec.podSubnet',
    reason: 'did you mean 198.18.3.0/24?',
  },
  {
    desc: 'heartbeat not RFC 3339',
    input: patched(NODE, { spec: { heartbeatAt: 'yesterday' } }),
    field: 'spec.heartbeatAt',
    reason: 'must be an RFC 3339 timestamp',
  },
  {
    desc: 'lease expiry without a zone',
    input: patched(NODE, { spec: { leaseExpiresAt: '2024-05-01T12:00:00' } }),
    field: 'spec.leaseExpiresAt',
    reason: 'RFC 3339',
  },
  {
    desc: 'unschedulable a string',
    input: patched(NODE, { spec: { unschedulable: 'yes' } }),
    field: 'spec.unschedulable',
    reason: 'must be a boolean, got string',
  },
];

const taskPorts = (ports: unknown[], spec: Json = {}): Json => patched(TASK, { spec: { ...spec, ports } });

const TASK_CASES: BadCase[] = [
  {
    desc: 'container port 0',
    input: taskPorts([{ containerPort: 0 }]),
    field: 'spec.ports[0].containerPort',
    reason: 'must be an integer 1-65535, got 0',
  },
  {
    desc: 'container port 65536',
    input: taskPorts([{ containerPort: 65536 }]),
    field: 'spec.ports[0].containerPort',
    reason: 'must be an integer 1-65535, got 65536',
  },
  {
    desc: 'host port 70000',
    input: taskPorts([{ containerPort: 80, hostPort: 70000 }]),
    field: 'spec.ports[0].hostPort',
    reason: 'must be an integer 1-65535, got 70000',
  },
  {
    desc: 'port not an integer',
    input: taskPorts([{ containerPort: 80.5 }]),
    field: 'spec.ports[0].containerPort',
    reason: 'got 80.5',
  },
  {
    desc: 'port a string',
    input: taskPorts([{ containerPort: '80' }]),
    field: 'spec.ports[0].containerPort',
    reason: 'got "80"',
  },
  {
    desc: 'port-mapped without hostPort',
    input: taskPorts([{ containerPort: 80, hostPort: 31000 }, { containerPort: 81 }], {
      networkMode: 'port-mapped',
    }),
    field: 'spec.ports[1].hostPort',
    reason: 'is required when spec.networkMode is port-mapped',
  },
  {
    desc: 'duplicate port names',
    input: taskPorts([
      { name: 'http', containerPort: 80 },
      { name: 'http', containerPort: 81 },
    ]),
    field: 'spec.ports[1].name',
    reason: 'duplicates spec.ports[0].name "http"',
  },
  {
    desc: 'port name upper case',
    input: taskPorts([{ name: 'HTTP', containerPort: 80 }]),
    field: 'spec.ports[0].name',
    reason: 'must be lowercase',
  },
  {
    desc: 'protocol sctp',
    input: taskPorts([{ containerPort: 80, protocol: 'sctp' }]),
    field: 'spec.ports[0].protocol',
    reason: 'must be one of "tcp", "udp", got "sctp"',
  },
  {
    desc: 'unknown port field',
    input: taskPorts([{ containerPort: 80, servicePort: 10000 }]),
    field: 'spec.ports[0].servicePort',
    reason: 'unknown field',
  },
  {
    desc: 'state not in the enum',
    input: patched(TASK, { spec: { state: 'TASK_RUNNING' } }),
    field: 'spec.state',
    reason: 'must be one of "staging"',
  },
  {
    desc: 'health not in the enum',
    input: patched(TASK, { spec: { health: 'ok' } }),
    field: 'spec.health',
    reason: 'got "ok"',
  },
  {
    desc: 'network mode not in the enum',
    input: patched(TASK, { spec: { networkMode: 'bridge' } }),
    field: 'spec.networkMode',
    reason: 'must be one of "ip-per-container", "port-mapped", "host"',
  },
  {
    desc: 'bad IP in ips',
    input: patched(TASK, { spec: { ips: ['198.18.3.7', '198.18.3'] } }),
    field: 'spec.ips[1]',
    reason: 'not a valid IPv4 address',
  },
  {
    desc: 'app with a leading slash',
    input: patched(TASK, { spec: { app: '/prod/web' } }),
    field: 'spec.app',
    reason: 'must not start with "/" (app ids are stored without it: "prod/web")',
  },
  {
    desc: 'node not an object name',
    input: patched(TASK, { spec: { node: 'Agent_1' } }),
    field: 'spec.node',
    reason: 'must be lowercase',
  },
  {
    desc: 'framework not a DNS label',
    input: patched(TASK, { spec: { framework: 'my.framework' } }),
    field: 'spec.framework',
    reason: 'found "."',
  },
];

const servicePorts = (ports: unknown[], spec: Json = {}): Json =>
  patched(SERVICE, { spec: { ingress: undefined, ...spec, ports } });

const SERVICE_CASES: BadCase[] = [
  {
    desc: 'empty selector',
    input: patched(SERVICE, { spec: { selector: { app: undefined } } }),
    field: 'spec.selector',
    reason: 'an empty selector would select every task',
  },
  {
    desc: 'selector with empty matchLabels',
    input: patched(SERVICE, { spec: { selector: { app: undefined, matchLabels: {} } } }),
    field: 'spec.selector',
    reason: 'must not be empty',
  },
  {
    desc: 'selector In without values',
    input: patched(SERVICE, {
      spec: { selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: [] }] } },
    }),
    field: 'spec.selector.matchExpressions[0].values',
    reason: 'operator In needs at least one value',
  },
  {
    desc: 'selector Exists with values',
    input: patched(SERVICE, {
      spec: { selector: { matchExpressions: [{ key: 'tier', operator: 'Exists', values: ['x'] }] } },
    }),
    field: 'spec.selector.matchExpressions[0].values',
    reason: 'operator Exists takes no values',
  },
  {
    desc: 'selector unknown operator',
    input: patched(SERVICE, {
      spec: { selector: { matchExpressions: [{ key: 'tier', operator: 'Equals' }] } },
    }),
    field: 'spec.selector.matchExpressions[0].operator',
    reason: 'must be one of "In", "NotIn", "Exists", "DoesNotExist"',
  },
  {
    desc: 'selector bad key',
    input: patched(SERVICE, { spec: { selector: { matchLabels: { 'a b': 'x' } } } }),
    field: 'spec.selector.matchLabels["a b"]',
    reason: 'label key "a b" must be',
  },
  {
    desc: 'port 0',
    input: servicePorts([{ port: 0 }]),
    field: 'spec.ports[0].port',
    reason: 'must be an integer 1-65535, got 0',
  },
  {
    desc: 'port 65536',
    input: servicePorts([{ port: 65536 }]),
    field: 'spec.ports[0].port',
    reason: 'got 65536',
  },
  {
    desc: 'targetPort a boolean',
    input: servicePorts([{ port: 80, targetPort: true }]),
    field: 'spec.ports[0].targetPort',
    reason: 'must be a port number 1-65535 or a port name',
  },
  {
    desc: 'no ports',
    input: servicePorts([]),
    field: 'spec.ports',
    reason: 'at least 1 port unless spec.headless is true',
  },
  {
    desc: 'duplicate port names',
    input: servicePorts([
      { name: 'web', port: 80 },
      { name: 'web', port: 81 },
    ]),
    field: 'spec.ports[1].name',
    reason: 'duplicates spec.ports[0].name "web"',
  },
  {
    desc: 'duplicate port and protocol',
    input: servicePorts([{ port: 80 }, { port: 80, protocol: 'tcp' }]),
    field: 'spec.ports[1].port',
    reason: 'duplicates spec.ports[0] (80/tcp)',
  },
  {
    desc: 'mode not in the enum',
    input: servicePorts([{ port: 80, mode: 'grpc' }]),
    field: 'spec.ports[0].mode',
    reason: 'got "grpc"',
  },
  {
    desc: 'VIP address not an IP',
    input: patched(SERVICE, { spec: { vip: { address: '198.18.128' } } }),
    field: 'spec.vip.address',
    reason: 'not a valid IPv4 address',
  },
  {
    desc: 'VIP name with upper case',
    input: patched(SERVICE, { spec: { vip: { name: '/Prod/web' } } }),
    field: 'spec.vip.name',
    reason: 'must be lowercase letters',
  },
  {
    desc: 'headless with a VIP',
    input: patched(SERVICE, { spec: { headless: true } }),
    field: 'spec.vip',
    reason: 'must not be set when spec.headless is true',
  },
  {
    desc: 'hashOn without consistent-hash',
    input: patched(SERVICE, { spec: { loadBalancing: { algorithm: 'round-robin', hashOn: 'cookie' } } }),
    field: 'spec.loadBalancing.hashOn',
    reason: 'only applies when spec.loadBalancing.algorithm is consistent-hash, got round-robin',
  },
  {
    desc: 'health check path on tcp',
    input: patched(SERVICE, { spec: { loadBalancing: { healthCheck: { type: 'tcp', path: '/healthz' } } } }),
    field: 'spec.loadBalancing.healthCheck.path',
    reason: 'only applies when spec.loadBalancing.healthCheck.type is http',
  },
  {
    desc: 'health check rise 0',
    input: patched(SERVICE, { spec: { loadBalancing: { healthCheck: { type: 'tcp', rise: 0 } } } }),
    field: 'spec.loadBalancing.healthCheck.rise',
    reason: 'must be an integer 1-100, got 0',
  },
  {
    desc: 'ingress path without "/"',
    input: patched(SERVICE, { spec: { ingress: [{ path: 'web', pathType: 'Prefix', port: 80 }] } }),
    field: 'spec.ingress[0].path',
    reason: 'must start with "/", got "web"',
  },
  {
    desc: 'ingress to a missing port',
    input: patched(SERVICE, { spec: { ingress: [{ path: '/', pathType: 'Exact', port: 8080 }] } }),
    field: 'spec.ingress[0].port',
    reason: 'must name a port of this service (80 or "http", 53 or "dns", 53 or "dns-tcp"), got 8080',
  },
  {
    desc: 'ingress to a missing port name',
    input: patched(SERVICE, { spec: { ingress: [{ path: '/', pathType: 'Exact', port: 'admin' }] } }),
    field: 'spec.ingress[0].port',
    reason: 'got "admin"',
  },
  {
    desc: 'ingress to a tcp-mode port',
    input: patched(SERVICE, { spec: { ingress: [{ path: '/', pathType: 'Exact', port: 'dns-tcp' }] } }),
    field: 'spec.ingress[0].port',
    reason: 'ingress rules need mode http',
  },
  {
    desc: 'ingress host upper case',
    input: patched(SERVICE, {
      spec: { ingress: [{ host: 'Web.example.org', path: '/', pathType: 'Exact', port: 80 }] },
    }),
    field: 'spec.ingress[0].host',
    reason: 'must be lowercase',
  },
  {
    desc: 'ingress path type missing',
    input: patched(SERVICE, { spec: { ingress: [{ path: '/', port: 80 }] } }),
    field: 'spec.ingress[0].pathType',
    reason: 'is required (one of "Exact", "Prefix")',
  },
];

const peer = (p: unknown): Json => patched(POLICY, { spec: { ingress: [{ peers: [p] }] } });

const POLICY_CASES: BadCase[] = [
  {
    desc: 'except outside the block',
    input: peer({ ipBlock: { cidr: '198.18.0.0/16', except: ['198.19.0.0/24'] } }),
    field: 'spec.ingress[0].peers[0].ipBlock.except[0]',
    reason: '198.19.0.0/24 must lie strictly inside ipBlock.cidr 198.18.0.0/16',
  },
  {
    desc: 'except equal to the block',
    input: peer({ ipBlock: { cidr: '198.18.0.0/16', except: ['198.18.0.0/16'] } }),
    field: 'spec.ingress[0].peers[0].ipBlock.except[0]',
    reason: 'strictly inside',
  },
  {
    desc: 'except with host bits',
    input: peer({ ipBlock: { cidr: '198.18.0.0/16', except: ['198.18.0.1/24'] } }),
    field: 'spec.ingress[0].peers[0].ipBlock.except[0]',
    reason: 'did you mean 198.18.0.0/24?',
  },
  {
    desc: 'empty peer',
    input: peer({}),
    field: 'spec.ingress[0].peers[0]',
    reason: 'must set taskSelector, namespaceSelector or ipBlock',
  },
  {
    desc: 'ipBlock with a selector',
    input: peer({ ipBlock: { cidr: '198.18.0.0/16' }, taskSelector: {} }),
    field: 'spec.ingress[0].peers[0].ipBlock',
    reason: 'cannot be combined',
  },
  {
    desc: 'endPort below port',
    input: patched(POLICY, { spec: { ingress: [{ ports: [{ port: 8080, endPort: 80 }] }] } }),
    field: 'spec.ingress[0].ports[0].endPort',
    reason: 'must be at least port 8080, got 80',
  },
  {
    desc: 'endPort without port',
    input: patched(POLICY, { spec: { ingress: [{ ports: [{ endPort: 80 }] }] } }),
    field: 'spec.ingress[0].ports[0].endPort',
    reason: 'requires port',
  },
  {
    desc: 'egress rules without Egress in policyTypes',
    input: patched(POLICY, { spec: { policyTypes: ['Ingress'], egress: [{}] } }),
    field: 'spec.egress',
    reason: 'spec.policyTypes does not include "Egress"',
  },
  {
    desc: 'duplicate policy types',
    input: patched(POLICY, { spec: { policyTypes: ['Ingress', 'Ingress'] } }),
    field: 'spec.policyTypes[1]',
    reason: 'duplicates "Ingress"',
  },
  {
    desc: 'empty policy types',
    input: patched(POLICY, { spec: { ingress: undefined, policyTypes: [] } }),
    field: 'spec.policyTypes',
    reason: 'must not be empty',
  },
  {
    desc: 'policy type not in the enum',
    input: patched(POLICY, { spec: { policyTypes: ['ingress'] } }),
    field: 'spec.policyTypes[0]',
    reason: 'must be one of "Ingress", "Egress"',
  },
  {
    desc: 'task selector missing',
    input: patched(POLICY, { spec: { taskSelector: undefined } }),
    field: 'spec.taskSelector',
    reason: 'is required',
  },
  {
    desc: 'selector value too long',
    input: patched(POLICY, {
      spec: { taskSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: [long(64)] }] } },
    }),
    field: 'spec.taskSelector.matchExpressions[0].values[0]',
    reason: 'at most 63 characters',
  },
];

const vipBackends = (backends: unknown[]): Json => patched(VIP, { spec: { backends } });

const VIP_CASES: BadCase[] = [
  {
    desc: 'VIP with a namespace',
    input: { ...VIP, namespace: 'default' },
    field: 'namespace',
    reason: 'VIP is cluster-scoped',
  },
  {
    desc: 'VIP object name not name.framework',
    input: { ...VIP, name: 'web' },
    field: 'name',
    reason: 'must be spec.name "." spec.framework ("web.marathon"), got "web"',
  },
  {
    desc: 'VIP name with a slash (names are stored as DNS names)',
    input: patched(VIP, { name: 'prod-web.marathon', spec: { name: 'prod/web' } }),
    field: 'spec.name',
    reason: 'found "/"',
  },
  {
    desc: 'VIP framework upper case',
    input: patched(VIP, { spec: { framework: 'Marathon' } }),
    field: 'spec.framework',
    reason: 'must be lowercase',
  },
  {
    desc: 'VIP address not an IP',
    input: patched(VIP, { spec: { address: 'web.example.org' } }),
    field: 'spec.address',
    reason: 'not a valid IPv4 address',
  },
  {
    desc: 'VIP address missing',
    input: patched(VIP, { spec: { address: undefined } }),
    field: 'spec.address',
    reason: 'is required',
  },
  {
    desc: 'VIP without ports',
    input: patched(VIP, { spec: { ports: [], backends: [] } }),
    field: 'spec.ports',
    reason: 'must have at least 1 port',
  },
  {
    desc: 'VIP port 0',
    input: patched(VIP, { spec: { ports: [{ port: 0 }] } }),
    field: 'spec.ports[0].port',
    reason: 'must be an integer 1-65535, got 0',
  },
  {
    desc: 'VIP port 65536',
    input: patched(VIP, { spec: { ports: [{ port: 65536 }] } }),
    field: 'spec.ports[0].port',
    reason: 'got 65536',
  },
  {
    desc: 'VIP port twice for one protocol',
    input: patched(VIP, { spec: { ports: [{ port: 80 }, { port: 53, protocol: 'udp' }, { port: 80 }] } }),
    field: 'spec.ports[2].port',
    reason: 'duplicates spec.ports[0] (80/tcp)',
  },
  {
    desc: 'VIP port mode not in the enum',
    input: patched(VIP, { spec: { ports: [{ port: 80, mode: 'grpc' }] } }),
    field: 'spec.ports[0].mode',
    reason: 'got "grpc"',
  },
  {
    desc: 'VIP backend for a port the VIP does not serve',
    input: vipBackends([
      { task: 'Task/default/web.1', vipPort: 80, protocol: 'udp', address: '198.18.3.7', port: 80 },
    ]),
    field: 'spec.backends[0].vipPort',
    reason: 'must be one of spec.ports (80/tcp, 53/udp, 8080/tcp), got 80/udp',
  },
  {
    desc: 'VIP backend twice for one task and port',
    input: vipBackends([
      { task: 'Task/default/web.1', vipPort: 80, address: '198.18.3.7', port: 8080 },
      { task: 'Task/default/web.1', vipPort: 80, address: '198.18.3.7', port: 8081 },
    ]),
    field: 'spec.backends[1]',
    reason: 'duplicates spec.backends[0] (Task/default/web.1 for 80/tcp)',
  },
  {
    desc: 'VIP backend weight above 256',
    input: vipBackends([
      { task: 'Task/default/web.1', vipPort: 80, address: '198.18.3.7', port: 80, weight: 300 },
    ]),
    field: 'spec.backends[0].weight',
    reason: 'must be an integer 0-256, got 300',
  },
  {
    desc: 'VIP backend address not an IP',
    input: vipBackends([{ task: 'Task/default/web.1', vipPort: 80, address: 'agent-1', port: 80 }]),
    field: 'spec.backends[0].address',
    reason: 'not a valid IPv4 address',
  },
  {
    desc: 'VIP backend without a task',
    input: vipBackends([{ task: '', vipPort: 80, address: '198.18.3.7', port: 80 }]),
    field: 'spec.backends[0].task',
    reason: 'must not be empty',
  },
  {
    desc: 'VIP owner of an unknown kind',
    input: patched(VIP, {
      spec: { owners: [{ kind: 'pod', namespace: 'default', name: 'web', source: 'x' }] },
    }),
    field: 'spec.owners[0].kind',
    reason: 'must be one of "app", "service"',
  },
  {
    desc: 'VIP releaseAt while owners remain',
    input: patched(VIP, { spec: { releaseAt: '2024-05-01T12:05:00Z' } }),
    field: 'spec.releaseAt',
    reason: 'must not be set while spec.owners is not empty (1 owner(s))',
  },
  {
    desc: 'VIP releaseAt not RFC 3339',
    input: patched(VIP, { spec: { owners: [], releaseAt: 'in five minutes' } }),
    field: 'spec.releaseAt',
    reason: 'must be an RFC 3339 timestamp',
  },
  {
    desc: 'VIP unknown field',
    input: patched(VIP, { spec: { adress: '198.18.128.7' } }),
    field: 'spec.adress',
    reason: 'did you mean "address"?',
  },
];

describe('validateInput: each rule names the field and the reason', () => {
  it.each([
    ...ENVELOPE_CASES,
    ...PROTO_CASES,
    ...NETWORK_CASES,
    ...NODE_CASES,
    ...TASK_CASES,
    ...SERVICE_CASES,
    ...POLICY_CASES,
    ...VIP_CASES,
  ])('$desc', ({ input, field, reason }) => {
    const err = errorFrom(() => validateInput(input));
    expect(err.code).toBe(StateErrorCode.INVALID);
    expect(err.field).toBe(field);
    expect(err.reason).toContain(reason);
    expect(err.message).toBe(`${field}: ${err.reason}`);
  });
});
