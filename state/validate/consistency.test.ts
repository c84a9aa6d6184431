import { StateError, StateErrorCode } from '../errors';
import { objectKey, type Kind, type ObjectInput, type ObjectRef, type StoredObject } from '../model';
import { checkConsistency, checkDeletion, type StateView } from './consistency';
import { validateInput } from './schema';

// Addresses come from the benchmarking range 198.18.0.0/15 (DESIGN.md, "Network tests").
function network(name: string, podCIDR: string, serviceCIDR: string, nodeSubnetPrefix = 24): ObjectInput {
  return validateInput({ kind: 'Network', name, spec: { podCIDR, serviceCIDR, nodeSubnetPrefix } });
}
function node(name: string, podSubnet?: string): ObjectInput {
  return validateInput({ kind: 'Node', name, spec: { address: '198.19.255.1', podSubnet } });
}
function service(name: string, address?: string, namespace = 'prod'): ObjectInput {
  const vip = address === undefined ? undefined : { address };
  return validateInput({
    kind: 'Service',
    name,
    namespace,
    spec: { selector: { app: name }, ports: [{ port: 80 }], vip },
  });
}
/** A VIP `<name>.marathon`; `owner` names a Service (`prod/web`) that owns it. */
function vip(name: string, address: string, owner?: string): ObjectInput {
  const [namespace, service] = owner?.split('/') ?? [];
  const owners =
    owner === undefined
      ? [{ kind: 'app', namespace: 'default', name, source: 'VIP_0' }]
      : [{ kind: 'service', namespace, name: service, source: 'spec.vip' }];
  return validateInput({
    kind: 'VIP',
    name: `${name}.marathon`,
    spec: { name, framework: 'marathon', address, ports: [{ port: 80 }], owners },
  });
}
const TASK = validateInput({
  kind: 'Task',
  name: 'web.1',
  spec: { app: 'web', framework: 'marathon', node: 'agent-1', state: 'running', networkMode: 'host' },
});

const MAIN = network('main', '198.18.0.0/17', '198.18.128.0/18');
const SIDE = network('side', '198.19.0.0/17', '198.19.128.0/18');

/** A view over stored copies of `objects`; it records list calls and refuses to list Tasks. */
class FakeView implements StateView {
  readonly listed: Kind[] = [];
  private readonly objects = new Map<string, StoredObject>();

  constructor(objects: ObjectInput[]) {
    objects.forEach((object, i) => {
      const stored = { ...object, labels: object.labels ?? {}, revision: i + 1, createRevision: i + 1 };
      this.objects.set(objectKey(object), stored as StoredObject);
    });
  }

  get(ref: ObjectRef): StoredObject | undefined {
    return this.objects.get(objectKey(ref));
  }

  list(kind: Kind): Iterable<StoredObject> {
    if (kind === 'Task') throw new Error('consistency checks must never walk the tasks');
    this.listed.push(kind);
    return [...this.objects.values()].filter((o) => o.kind === kind);
  }
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

describe('checkConsistency: writes that fit the state', () => {
  it.each([
    { desc: 'the first Network', existing: [], next: MAIN },
    {
      desc: 'a Network updated in place (not compared with itself)',
      existing: [MAIN, node('a', '198.18.3.0/24')],
      next: MAIN,
    },
    {
      desc: 'a second, disjoint Network while Nodes hold leases from the first',
      existing: [MAIN, node('a', '198.18.3.0/24')],
      next: SIDE,
    },
    {
      desc: 'a pod CIDR grown around the existing leases',
      existing: [network('main', '198.18.0.0/18', '198.18.128.0/18'), node('a', '198.18.3.0/24')],
      next: MAIN,
    },
    {
      desc: "a Network change that leaves another Network's leases alone",
      existing: [MAIN, SIDE, node('a', '198.19.3.0/24')],
      next: network('main', '198.18.64.0/18', '198.18.128.0/18'),
    },
    { desc: 'a Node with no lease and no Network', existing: [], next: node('a') },
    {
      desc: 'a Node leasing a free subnet',
      existing: [MAIN, node('a', '198.18.3.0/24')],
      next: node('b', '198.18.4.0/24'),
    },
    {
      desc: 'a Node leasing from the second Network',
      existing: [MAIN, SIDE],
      next: node('b', '198.19.4.0/24'),
    },
    {
      desc: 'a Node renewing its own lease',
      existing: [MAIN, node('a', '198.18.3.0/24')],
      next: node('a', '198.18.3.0/24'),
    },
    {
      desc: 'a Node moving its own lease',
      existing: [MAIN, node('a', '198.18.3.0/24')],
      next: node('a', '198.18.5.0/24'),
    },
    { desc: 'a Service without a VIP address', existing: [], next: service('web') },
    {
      desc: 'a Service with a free VIP',
      existing: [MAIN, service('api', '198.18.128.1')],
      next: service('web', '198.18.128.2'),
    },
    {
      desc: 'a Service keeping its VIP',
      existing: [MAIN, service('web', '198.18.128.2')],
      next: service('web', '198.18.128.2'),
    },
    { desc: 'a Task (nothing to check, tasks never listed)', existing: [MAIN], next: TASK },
    {
      desc: 'a VIP with a free address',
      existing: [MAIN, vip('api', '198.18.128.1'), service('db', '198.18.128.3')],
      next: vip('web', '198.18.128.2'),
    },
    {
      desc: 'a VIP from the second Network',
      existing: [MAIN, SIDE],
      next: vip('web', '198.19.128.2'),
    },
    {
      desc: 'a VIP on the last address before the broadcast address',
      existing: [MAIN],
      next: vip('web', '198.18.191.254'),
    },
    {
      desc: 'a VIP keeping its address (backends change)',
      existing: [MAIN, vip('web', '198.18.128.2')],
      next: vip('web', '198.18.128.2'),
    },
    {
      desc: 'a VIP taking the explicit address of the Service that owns it',
      existing: [MAIN, service('web', '198.18.128.10')],
      next: vip('web', '198.18.128.10', 'prod/web'),
    },
    {
      desc: 'a Service asking for the address its own VIP holds',
      existing: [MAIN, vip('web', '198.18.128.10', 'prod/web')],
      next: service('web', '198.18.128.10'),
    },
    {
      desc: 'a service CIDR change that keeps every VIP address usable',
      existing: [MAIN, vip('web', '198.18.130.1'), service('api', '198.18.130.2')],
      next: network('main', '198.18.0.0/17', '198.18.128.0/20'),
    },
  ])('$desc', ({ existing, next }) => {
    expect(() => checkConsistency(next, new FakeView(existing))).not.toThrow();
  });

  it('updates a VIP that keeps its address without walking anything (backend churn is O(1))', () => {
    const view = new FakeView([MAIN, vip('web', '198.18.128.2'), service('api', '198.18.128.3')]);
    checkConsistency(vip('web', '198.18.128.2'), view);
    expect(view.listed).toEqual([]);
  });

  it('renews an unchanged lease without walking Networks or Nodes (heartbeats are O(1))', () => {
    const view = new FakeView([MAIN, node('a', '198.18.3.0/24'), node('b', '198.18.4.0/24')]);
    checkConsistency(node('a', '198.18.3.0/24'), view);
    expect(view.listed).toEqual([]);
  });
});

interface BadWrite {
  desc: string;
  existing: ObjectInput[];
  next: ObjectInput;
  code: StateErrorCode;
  field: string;
  reason: string;
  conflictsWith?: string;
}

const BAD_WRITES: BadWrite[] = [
  {
    desc: "pod CIDR overlapping another Network's service CIDR",
    existing: [MAIN],
    next: network('side', '198.18.128.0/17', '198.19.128.0/18'),
    code: StateErrorCode.CONFLICT,
    field: 'spec.podCIDR',
    reason: '198.18.128.0/17 overlaps spec.serviceCIDR 198.18.128.0/18 of Network "main"',
    conflictsWith: 'Network/main',
  },
  {
    desc: "service CIDR overlapping another Network's pod CIDR",
    existing: [MAIN],
    next: network('side', '198.19.0.0/17', '198.18.64.0/18'),
    code: StateErrorCode.CONFLICT,
    field: 'spec.serviceCIDR',
    reason: 'overlaps spec.podCIDR 198.18.0.0/17 of Network "main"',
    conflictsWith: 'Network/main',
  },
  {
    desc: 'pod CIDR change that orphans a lease',
    existing: [MAIN, node('agent-1', '198.18.1.0/24'), node('agent-2', '198.18.3.0/24')],
    next: network('main', '198.19.0.0/17', '198.18.128.0/18'),
    code: StateErrorCode.CONFLICT,
    field: 'spec.podCIDR',
    reason: 'Node "agent-1" holds pod subnet 198.18.1.0/24, which is outside 198.19.0.0/17',
    conflictsWith: 'Node/agent-1',
  },
  {
    desc: 'pod CIDR shrunk past a lease',
    existing: [MAIN, node('agent-1', '198.18.1.0/24'), node('agent-9', '198.18.90.0/24')],
    next: network('main', '198.18.0.0/18', '198.18.128.0/18'),
    code: StateErrorCode.CONFLICT,
    field: 'spec.podCIDR',
    reason: 'Node "agent-9" holds pod subnet 198.18.90.0/24',
    conflictsWith: 'Node/agent-9',
  },
  {
    desc: 'node subnet size change under existing leases',
    existing: [MAIN, node('agent-1', '198.18.1.0/24')],
    next: network('main', '198.18.0.0/17', '198.18.128.0/18', 25),
    code: StateErrorCode.CONFLICT,
    field: 'spec.nodeSubnetPrefix',
    reason:
      'Node "agent-1" holds pod subnet 198.18.1.0/24 (/24); release its lease before changing the node subnet size',
    conflictsWith: 'Node/agent-1',
  },
  {
    desc: 'service CIDR change that orphans a VIP',
    existing: [MAIN, service('web', '198.18.128.10')],
    next: network('main', '198.18.0.0/17', '198.18.192.0/18'),
    code: StateErrorCode.CONFLICT,
    field: 'spec.serviceCIDR',
    reason: 'Service "prod/web" holds VIP 198.18.128.10, which is outside 198.18.192.0/18',
    conflictsWith: 'Service/prod/web',
  },
  {
    desc: 'a lease before any Network exists',
    existing: [],
    next: node('agent-1', '198.18.1.0/24'),
    code: StateErrorCode.INVALID,
    field: 'spec.podSubnet',
    reason: 'no Network exists yet',
  },
  {
    desc: 'a lease outside every pod CIDR',
    existing: [MAIN, SIDE],
    next: node('agent-1', '198.18.200.0/24'),
    code: StateErrorCode.INVALID,
    field: 'spec.podSubnet',
    reason:
      '198.18.200.0/24 is not inside the pod CIDR of any Network: 198.18.0.0/17 (Network "main"), 198.19.0.0/17 (Network "side")',
  },
  {
    desc: 'a lease of the wrong size',
    existing: [MAIN],
    next: node('agent-1', '198.18.1.0/25'),
    code: StateErrorCode.INVALID,
    field: 'spec.podSubnet',
    reason: 'must be a /24 (spec.nodeSubnetPrefix of Network "main"), got 198.18.1.0/25',
  },
  {
    desc: 'overlapping node subnets',
    existing: [MAIN, node('agent-1', '198.18.1.0/24')],
    next: node('agent-2', '198.18.1.0/24'),
    code: StateErrorCode.CONFLICT,
    field: 'spec.podSubnet',
    reason: '198.18.1.0/24 overlaps 198.18.1.0/24, leased to Node "agent-1"',
    conflictsWith: 'Node/agent-1',
  },
  {
    desc: "a Node moving its lease onto another's",
    existing: [MAIN, node('agent-1', '198.18.1.0/24'), node('agent-2', '198.18.2.0/24')],
    next: node('agent-2', '198.18.1.0/24'),
    code: StateErrorCode.CONFLICT,
    field: 'spec.podSubnet',
    reason: 'leased to Node "agent-1"',
    conflictsWith: 'Node/agent-1',
  },
  {
    desc: 'a VIP before any Network exists',
    existing: [],
    next: service('web', '198.18.128.10'),
    code: StateErrorCode.INVALID,
    field: 'spec.vip.address',
    reason: 'no Network exists yet',
  },
  {
    desc: 'a VIP outside every service CIDR',
    existing: [MAIN],
    next: service('web', '198.18.1.10'),
    code: StateErrorCode.INVALID,
    field: 'spec.vip.address',
    reason: '198.18.1.10 is not inside the service CIDR of any Network: 198.18.128.0/18 (Network "main")',
  },
  {
    desc: "another Service's VIP",
    existing: [MAIN, service('api', '198.18.128.10', 'default')],
    next: service('web', '198.18.128.10'),
    code: StateErrorCode.CONFLICT,
    field: 'spec.vip.address',
    reason: '198.18.128.10 is already the VIP of Service "default/api"',
    conflictsWith: 'Service/default/api',
  },
  {
    desc: 'a VIP before any Network exists',
    existing: [],
    next: vip('web', '198.18.128.10'),
    code: StateErrorCode.INVALID,
    field: 'spec.address',
    reason: 'no Network exists yet',
  },
  {
    desc: 'a VIP outside every service CIDR',
    existing: [MAIN, SIDE],
    next: vip('web', '198.18.3.10'),
    code: StateErrorCode.INVALID,
    field: 'spec.address',
    reason:
      '198.18.3.10 is not inside the service CIDR of any Network: 198.18.128.0/18 (Network "main"), 198.19.128.0/18 (Network "side")',
  },
  {
    desc: 'a VIP on the network address of the service CIDR',
    existing: [MAIN],
    next: vip('web', '198.18.128.0'),
    code: StateErrorCode.INVALID,
    field: 'spec.address',
    reason:
      '198.18.128.0 is the network address of spec.serviceCIDR 198.18.128.0/18 of Network "main"; VIPs use the addresses between',
  },
  {
    desc: 'a VIP on the broadcast address of the service CIDR',
    existing: [MAIN],
    next: vip('web', '198.18.191.255'),
    code: StateErrorCode.INVALID,
    field: 'spec.address',
    reason: '198.18.191.255 is the broadcast address of spec.serviceCIDR 198.18.128.0/18',
  },
  {
    desc: "another VIP's address",
    existing: [MAIN, vip('api', '198.18.128.10')],
    next: vip('web', '198.18.128.10'),
    code: StateErrorCode.CONFLICT,
    field: 'spec.address',
    reason: '198.18.128.10 is already the address of VIP "api.marathon"',
    conflictsWith: 'VIP/api.marathon',
  },
  {
    desc: "a VIP moving onto another VIP's address",
    existing: [MAIN, vip('api', '198.18.128.10'), vip('web', '198.18.128.11')],
    next: vip('web', '198.18.128.10'),
    code: StateErrorCode.CONFLICT,
    field: 'spec.address',
    reason: 'already the address of VIP "api.marathon"',
    conflictsWith: 'VIP/api.marathon',
  },
  {
    desc: "a Service's explicit VIP address, Service not an owner",
    existing: [MAIN, service('api', '198.18.128.10')],
    next: vip('web', '198.18.128.10'),
    code: StateErrorCode.CONFLICT,
    field: 'spec.address',
    reason: '198.18.128.10 is the spec.vip.address of Service "prod/api", which does not own this VIP',
    conflictsWith: 'Service/prod/api',
  },
  {
    desc: "a Service's explicit VIP address, owned by another Service",
    existing: [MAIN, service('api', '198.18.128.10')],
    next: vip('web', '198.18.128.10', 'prod/web'),
    code: StateErrorCode.CONFLICT,
    field: 'spec.address',
    reason: 'Service "prod/api", which does not own this VIP',
    conflictsWith: 'Service/prod/api',
  },
  {
    desc: "a Service asking for a VIP object's address",
    existing: [MAIN, vip('web', '198.18.128.10')],
    next: service('api', '198.18.128.10'),
    code: StateErrorCode.CONFLICT,
    field: 'spec.vip.address',
    reason: '198.18.128.10 is already the address of VIP "web.marathon"',
    conflictsWith: 'VIP/web.marathon',
  },
  {
    desc: 'a Service VIP on the broadcast address',
    existing: [MAIN],
    next: service('web', '198.18.191.255'),
    code: StateErrorCode.INVALID,
    field: 'spec.vip.address',
    reason: 'is the broadcast address of spec.serviceCIDR 198.18.128.0/18',
  },
  {
    desc: 'service CIDR change that orphans a VIP object',
    existing: [MAIN, vip('web', '198.18.128.10')],
    next: network('main', '198.18.0.0/17', '198.18.192.0/18'),
    code: StateErrorCode.CONFLICT,
    field: 'spec.serviceCIDR',
    reason: 'VIP "web.marathon" holds VIP 198.18.128.10, which is outside 198.18.192.0/18',
    conflictsWith: 'VIP/web.marathon',
  },
  {
    desc: 'service CIDR shrunk so a VIP becomes the broadcast address',
    existing: [MAIN, vip('web', '198.18.143.255')],
    next: network('main', '198.18.0.0/17', '198.18.128.0/20'),
    code: StateErrorCode.CONFLICT,
    field: 'spec.serviceCIDR',
    reason:
      'VIP "web.marathon" holds VIP 198.18.143.255, which would be the broadcast address of 198.18.128.0/20',
    conflictsWith: 'VIP/web.marathon',
  },
];

describe('checkConsistency: writes that clash with the state', () => {
  it.each(BAD_WRITES)('$desc', ({ existing, next, code, field, reason, conflictsWith }) => {
    const err = errorFrom(() => checkConsistency(next, new FakeView(existing)));
    expect(err.code).toBe(code);
    expect(err.field).toBe(field);
    expect(err.reason).toContain(reason);
    expect(err.details?.conflictsWith).toBe(conflictsWith);
  });
});

describe('checkDeletion', () => {
  const mainRef = { kind: 'Network' as const, name: 'main' };

  it.each([
    { desc: 'a Network no Node leases from', existing: [MAIN, node('agent-1')], ref: mainRef },
    {
      desc: "a Network whose leases are all another Network's",
      existing: [MAIN, SIDE, node('agent-1', '198.19.1.0/24')],
      ref: mainRef,
    },
    { desc: 'a Network that does not exist', existing: [], ref: mainRef },
    {
      desc: "a Network whose VIP addresses are all another Network's",
      existing: [MAIN, SIDE, vip('web', '198.19.128.9')],
      ref: mainRef,
    },
    {
      desc: 'a Node holding a lease',
      existing: [MAIN, node('agent-1', '198.18.1.0/24')],
      ref: { kind: 'Node' as const, name: 'agent-1' },
    },
  ])('allows deleting $desc', ({ existing, ref }) => {
    expect(() => checkDeletion(ref, new FakeView(existing))).not.toThrow();
  });

  it.each([
    {
      desc: 'a Network while a Node holds a pod subnet from it',
      existing: [MAIN, SIDE, node('agent-1', '198.19.1.0/24'), node('agent-2', '198.18.2.0/24')],
      reason: 'Node "agent-2" still holds pod subnet 198.18.2.0/24 from this Network',
      conflictsWith: 'Node/agent-2',
    },
    {
      desc: 'a Network while a Service holds a VIP from it',
      existing: [MAIN, service('web', '198.18.128.10')],
      reason: 'Service "prod/web" still holds VIP 198.18.128.10 from this Network',
      conflictsWith: 'Service/prod/web',
    },
    {
      desc: 'a Network while a VIP holds an address from it',
      existing: [MAIN, SIDE, vip('api', '198.19.128.9'), vip('web', '198.18.128.10')],
      reason: 'VIP "web.marathon" still holds VIP 198.18.128.10 from this Network',
      conflictsWith: 'VIP/web.marathon',
    },
  ])('refuses deleting $desc', ({ existing, reason, conflictsWith }) => {
    const err = errorFrom(() => checkDeletion(mainRef, new FakeView(existing)));
    expect(err.code).toBe(StateErrorCode.CONFLICT);
    expect(err.reason).toContain(reason);
    expect(err.details?.conflictsWith).toBe(conflictsWith);
  });
});
