import { cidrContains, cidrOverlaps, parseCidr, type Cidr } from '../../lib';
import { invalid } from '../errors';
import type {
  NetworkSpec,
  PolicyPeer,
  PolicyRule,
  PolicySpec,
  ServiceSpec,
  TaskSpec,
  VipSpec,
} from '../model';

/**
 * Rules that relate fields of one object to each other. They run on the normalised object (every
 * field already well-formed, defaults filled) and throw `invalid(field, reason)` at the first
 * broken rule; contradictory fields are reported naming both.
 */

/** Longest node subnet per family: a node needs at least a gateway and one task address. */
export const MAX_NODE_SUBNET_PREFIX = { 4: 30, 6: 126 } as const;

export function checkNetworkRules(spec: NetworkSpec): void {
  const pod = parseCidr(spec.podCIDR);
  const service = parseCidr(spec.serviceCIDR);
  if (pod.family !== service.family) {
    throw invalid(
      'spec.serviceCIDR',
      `must be the same IP family as spec.podCIDR (${familyName(pod)} ${pod.text}), got ${familyName(service)} ${service.text}`,
    );
  }
  if (cidrOverlaps(pod, service)) {
    throw invalid(
      'spec.serviceCIDR',
      `${service.text} overlaps spec.podCIDR ${pod.text}; pod and service CIDRs must not overlap`,
    );
  }
  if (spec.nodeSubnetPrefix <= pod.prefix) {
    throw invalid(
      'spec.nodeSubnetPrefix',
      `must be longer than the spec.podCIDR prefix /${pod.prefix} so node subnets fit inside it, got ${spec.nodeSubnetPrefix}`,
    );
  }
  const max = MAX_NODE_SUBNET_PREFIX[pod.family];
  if (spec.nodeSubnetPrefix > max) {
    throw invalid(
      'spec.nodeSubnetPrefix',
      `must be at most ${max} for ${familyName(pod)} (room for a gateway and tasks), got ${spec.nodeSubnetPrefix}`,
    );
  }
}

export function checkTaskRules(spec: TaskSpec): void {
  const names = new Map<string, number>();
  spec.ports.forEach((p, i) => {
    if (spec.networkMode === 'port-mapped' && p.hostPort === undefined) {
      throw invalid(`spec.ports[${i}].hostPort`, 'is required when spec.networkMode is port-mapped');
    }
    if (p.name !== undefined) {
      const first = names.get(p.name);
      if (first !== undefined)
        throw invalid(`spec.ports[${i}].name`, `duplicates spec.ports[${first}].name "${p.name}"`);
      names.set(p.name, i);
    }
  });
}

export function checkServiceRules(spec: ServiceSpec): void {
  const { app, matchLabels, matchExpressions } = spec.selector;
  if (app === undefined && isEmpty(matchLabels) && (matchExpressions ?? []).length === 0) {
    throw invalid(
      'spec.selector',
      'must not be empty: an empty selector would select every task; set app, matchLabels or matchExpressions',
    );
  }
  if (spec.headless === true && spec.vip !== undefined) {
    throw invalid('spec.vip', 'must not be set when spec.headless is true (a headless service has no VIP)');
  }
  if (spec.ports.length === 0 && spec.headless !== true) {
    throw invalid('spec.ports', 'must have at least 1 port unless spec.headless is true');
  }
  checkServicePorts(spec);
  checkLoadBalancing(spec);
  checkIngress(spec);
}

function checkServicePorts(spec: ServiceSpec): void {
  const names = new Map<string, number>();
  const ports = new Map<string, number>();
  spec.ports.forEach((p, i) => {
    if (p.name !== undefined) {
      const first = names.get(p.name);
      if (first !== undefined)
        throw invalid(`spec.ports[${i}].name`, `duplicates spec.ports[${first}].name "${p.name}"`);
      names.set(p.name, i);
    }
    const key = `${p.port}/${p.protocol}`;
    const first = ports.get(key);
    if (first !== undefined)
      throw invalid(`spec.ports[${i}].port`, `duplicates spec.ports[${first}] (${key})`);
    ports.set(key, i);
  });
}

function checkLoadBalancing(spec: ServiceSpec): void {
  const lb = spec.loadBalancing;
  if (lb?.hashOn !== undefined && lb.algorithm !== 'consistent-hash') {
    throw invalid(
      'spec.loadBalancing.hashOn',
      `only applies when spec.loadBalancing.algorithm is consistent-hash, got ${lb.algorithm ?? 'none'}`,
    );
  }
  if (lb?.healthCheck?.path !== undefined && lb.healthCheck.type !== 'http') {
    throw invalid(
      'spec.loadBalancing.healthCheck.path',
      'only applies when spec.loadBalancing.healthCheck.type is http',
    );
  }
}

function checkIngress(spec: ServiceSpec): void {
  (spec.ingress ?? []).forEach((rule, i) => {
    const target = spec.ports.find((p) =>
      typeof rule.port === 'number' ? p.port === rule.port : p.name === rule.port,
    );
    if (target === undefined) {
      const known = spec.ports.map((p) =>
        p.name === undefined ? String(p.port) : `${p.port} or "${p.name}"`,
      );
      throw invalid(
        `spec.ingress[${i}].port`,
        `must name a port of this service (${known.join(', ') || 'none'}), got ${JSON.stringify(rule.port)}`,
      );
    }
    if (target.mode !== 'http') {
      throw invalid(
        `spec.ingress[${i}].port`,
        `names port ${target.port}, whose mode is ${target.mode ?? 'tcp'}; ingress rules need mode http`,
      );
    }
  });
}

export function checkPolicyRules(spec: PolicySpec): void {
  const seen = new Set<string>();
  spec.policyTypes.forEach((type, i) => {
    if (seen.has(type)) throw invalid(`spec.policyTypes[${i}]`, `duplicates "${type}"`);
    seen.add(type);
  });
  if (seen.size === 0) throw invalid('spec.policyTypes', 'must not be empty: give Ingress, Egress or both');
  for (const [field, type] of [
    ['ingress', 'Ingress'],
    ['egress', 'Egress'],
  ] as const) {
    if (spec[field] !== undefined && !seen.has(type)) {
      throw invalid(
        `spec.${field}`,
        `is given but spec.policyTypes does not include "${type}", so it would be ignored`,
      );
    }
    (spec[field] ?? []).forEach((rule, i) => checkPolicyRule(rule, `spec.${field}[${i}]`));
  }
}

function checkPolicyRule(rule: PolicyRule, at: string): void {
  (rule.peers ?? []).forEach((peer, i) => checkPeer(peer, `${at}.peers[${i}]`));
  (rule.ports ?? []).forEach((p, i) => {
    if (p.endPort === undefined) return;
    if (p.port === undefined)
      throw invalid(`${at}.ports[${i}].endPort`, 'requires port (the start of the range)');
    if (p.endPort < p.port) {
      throw invalid(`${at}.ports[${i}].endPort`, `must be at least port ${p.port}, got ${p.endPort}`);
    }
  });
}

function checkPeer(peer: PolicyPeer, at: string): void {
  const hasSelector = peer.taskSelector !== undefined || peer.namespaceSelector !== undefined;
  if (!hasSelector && peer.ipBlock === undefined) {
    throw invalid(at, 'must set taskSelector, namespaceSelector or ipBlock');
  }
  if (peer.ipBlock === undefined) return;
  if (hasSelector)
    throw invalid(`${at}.ipBlock`, 'cannot be combined with taskSelector or namespaceSelector in one peer');
  const block = parseCidr(peer.ipBlock.cidr);
  (peer.ipBlock.except ?? []).forEach((text, i) => {
    const except = parseCidr(text);
    if (!cidrContains(block, except) || except.prefix === block.prefix) {
      throw invalid(
        `${at}.ipBlock.except[${i}]`,
        `${except.text} must lie strictly inside ipBlock.cidr ${block.text}`,
      );
    }
  });
}

/**
 * A VIP: its object name is `<spec.name>.<spec.framework>` (one object, one address per pair);
 * at least one port, each port unique per protocol; every backend serves one of those ports, once
 * per task; `releaseAt` only once no owner is left.
 */
export function checkVipRules(spec: VipSpec, objectName: string): void {
  const expected = `${spec.name}.${spec.framework}`;
  if (objectName !== expected) {
    throw invalid(
      'name',
      `must be spec.name "." spec.framework (${JSON.stringify(expected)}), got ${JSON.stringify(objectName)}`,
    );
  }
  if (spec.ports.length === 0) throw invalid('spec.ports', 'must have at least 1 port');
  const ports = new Map<string, number>();
  spec.ports.forEach((p, i) => {
    const key = `${p.port}/${p.protocol}`;
    const first = ports.get(key);
    if (first !== undefined)
      throw invalid(`spec.ports[${i}].port`, `duplicates spec.ports[${first}] (${key})`);
    ports.set(key, i);
  });
  const backends = new Map<string, number>();
  spec.backends.forEach((b, i) => {
    const key = `${b.vipPort}/${b.protocol}`;
    if (!ports.has(key)) {
      throw invalid(
        `spec.backends[${i}].vipPort`,
        `must be one of spec.ports (${[...ports.keys()].join(', ')}), got ${key}`,
      );
    }
    const id = `${b.task} ${key}`;
    const first = backends.get(id);
    if (first !== undefined) {
      throw invalid(`spec.backends[${i}]`, `duplicates spec.backends[${first}] (${b.task} for ${key})`);
    }
    backends.set(id, i);
  });
  if (spec.releaseAt !== undefined && spec.owners.length > 0) {
    throw invalid(
      'spec.releaseAt',
      `must not be set while spec.owners is not empty (${spec.owners.length} owner(s)); a VIP is released only once its last owner is gone`,
    );
  }
}

function familyName(c: Cidr): string {
  return c.family === 4 ? 'IPv4' : 'IPv6';
}

function isEmpty(map: Readonly<Record<string, string>> | undefined): boolean {
  return map === undefined || Object.keys(map).length === 0;
}
