import type {
  Kind,
  NetworkSpec,
  NodeSpec,
  PolicyRule,
  PolicySpec,
  ServiceSpec,
  SpecOf,
  TaskSpec,
  VipSpec,
} from '../model';
import type { ParsedPolicyRule, ParsedSpec } from './specs';

/**
 * Every default of the state model, filled in this one place (after the schema, before the rules),
 * like CNI's `Range.Canonicalize`. Each filler builds new objects; it never writes to its input.
 */
export const DEFAULTS = {
  dns: { mesosDomain: 'mesos', clusterDomain: 'cluster.local', vipDomain: 'l4lb.thisdcos.directory' },
  taskHealth: 'unknown',
  protocol: 'tcp',
  serviceMode: 'tcp',
  vipBackendWeight: 1,
} as const;

function fillNetwork(spec: ParsedSpec<'Network'>): NetworkSpec {
  const dns = spec.dns ?? {};
  return {
    ...spec,
    dns: {
      mesosDomain: dns.mesosDomain ?? DEFAULTS.dns.mesosDomain,
      clusterDomain: dns.clusterDomain ?? DEFAULTS.dns.clusterDomain,
      vipDomain: dns.vipDomain ?? DEFAULTS.dns.vipDomain,
      upstreams: dns.upstreams ?? [],
    },
  };
}

function fillNode(spec: ParsedSpec<'Node'>): NodeSpec {
  return { ...spec };
}

function fillTask(spec: ParsedSpec<'Task'>): TaskSpec {
  return {
    ...spec,
    health: spec.health ?? DEFAULTS.taskHealth,
    ips: spec.ips ?? [],
    ports: (spec.ports ?? []).map((p) => ({ ...p, protocol: p.protocol ?? DEFAULTS.protocol })),
  };
}

function fillService(spec: ParsedSpec<'Service'>): ServiceSpec {
  return {
    ...spec,
    ports: spec.ports.map((p) => ({
      ...p,
      targetPort: p.targetPort ?? p.port,
      protocol: p.protocol ?? DEFAULTS.protocol,
      mode: p.mode ?? DEFAULTS.serviceMode,
    })),
  };
}

/** Kubernetes rules: Ingress always, Egress too when egress rules are given. */
function fillPolicy(spec: ParsedSpec<'Policy'>): PolicySpec {
  const { ingress, egress, ...rest } = spec;
  const filled: PolicySpec = {
    ...rest,
    policyTypes: spec.policyTypes ?? (egress === undefined ? ['Ingress'] : ['Ingress', 'Egress']),
  };
  if (ingress !== undefined) filled.ingress = ingress.map(fillPolicyRule);
  if (egress !== undefined) filled.egress = egress.map(fillPolicyRule);
  return filled;
}

function fillPolicyRule(rule: ParsedPolicyRule): PolicyRule {
  const { ports, ...rest } = rule;
  if (ports === undefined) return rest;
  return { ...rest, ports: ports.map((p) => ({ ...p, protocol: p.protocol ?? DEFAULTS.protocol })) };
}

function fillVip(spec: ParsedSpec<'VIP'>): VipSpec {
  return {
    ...spec,
    ports: spec.ports.map((p) => ({
      port: p.port,
      protocol: p.protocol ?? DEFAULTS.protocol,
      mode: p.mode ?? DEFAULTS.serviceMode,
    })),
    backends: (spec.backends ?? []).map((b) => ({
      ...b,
      protocol: b.protocol ?? DEFAULTS.protocol,
      weight: b.weight ?? DEFAULTS.vipBackendWeight,
    })),
    owners: (spec.owners ?? []).map((o) => ({ ...o })),
  };
}

const FILLERS: { [K in Kind]: (spec: ParsedSpec<K>) => SpecOf[K] } = {
  Network: fillNetwork,
  Node: fillNode,
  Task: fillTask,
  Service: fillService,
  Policy: fillPolicy,
  VIP: fillVip,
};

export function fillSpecDefaults<K extends Kind>(kind: K, spec: ParsedSpec<K>): SpecOf[K] {
  // TypeScript cannot correlate FILLERS[kind] with spec's K; the table above is checked per kind.
  const fill = FILLERS[kind] as (spec: ParsedSpec<K>) => SpecOf[K];
  return fill(spec);
}
