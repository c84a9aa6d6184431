import { z } from 'zod';

import { NETWORK_MODES, PROTOCOLS, TASK_HEALTH, TASK_STATES, type Kind } from '../model';
import { dnsSubdomainReason, labelKeyReason, labelValueReason } from './names';
import {
  checkedString,
  cidr,
  dnsLabel,
  intInRange,
  ipAddress,
  labels,
  nonEmptyString,
  objectName,
  port,
  strictObject,
  stringMap,
  timestamp,
} from './fields';

/**
 * The shape of each kind's spec: types, ranges, formats and unknown fields — everything one field
 * can decide alone. Defaults are filled afterwards (defaults.ts) and rules that relate fields to
 * each other run last (rules.ts), so every optional field here stays optional.
 */

const protocol = z.enum(PROTOCOLS);
const portName = dnsLabel;
const portOrName = z.union([port, portName], {
  error: (iss) => `must be a port number 1-65535 or a port name, got ${typeof iss.input}`,
});
const httpPath = z.string().refine((value) => value.startsWith('/'), {
  error: (iss) => `must start with "/", got ${JSON.stringify(iss.input)}`,
});

// ---- selectors ---------------------------------------------------------------------------------------

const labelKey = checkedString(labelKeyReason);
const labelValue = checkedString(labelValueReason);

const selectorRequirement = strictObject({
  key: labelKey,
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(labelValue).optional(),
}).superRefine((req, ctx) => {
  const hasValues = req.values !== undefined && req.values.length > 0;
  if ((req.operator === 'In' || req.operator === 'NotIn') && !hasValues) {
    ctx.addIssue({
      code: 'custom',
      path: ['values'],
      message: `operator ${req.operator} needs at least one value`,
    });
  }
  if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && req.values !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${req.operator} takes no values` });
  }
});

const selectorFields = {
  matchLabels: labels.optional(),
  matchExpressions: z.array(selectorRequirement).optional(),
};
export const selectorSpec = strictObject(selectorFields);

// ---- Network -----------------------------------------------------------------------------------------

/** `ip`, `v4:port` or `[v6]:port`, returned canonical. */
const upstream = z.string().transform((value, ctx) => {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:]+):(\d+)$/.exec(value);
  const host = match?.[1] ?? value;
  const portText = match?.[2];
  const ip = ipAddress.safeParse(host);
  const portNumber = portText === undefined ? undefined : Number(portText);
  if (!ip.success || (portNumber !== undefined && !(portNumber >= 1 && portNumber <= 65535))) {
    ctx.addIssue({
      code: 'custom',
      message: `must be "ip" or "ip:port" ("[ipv6]:port"), port 1-65535, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  if (portNumber === undefined) return ip.data;
  return ip.data.includes(':') ? `[${ip.data}]:${portNumber}` : `${ip.data}:${portNumber}`;
});

const networkSpec = strictObject({
  podCIDR: cidr,
  // Whether the length fits the pod CIDR and the family is a rule across fields (rules.ts).
  nodeSubnetPrefix: intInRange(1, 128, 'a prefix length'),
  serviceCIDR: cidr,
  dns: strictObject({
    mesosDomain: objectName.optional(),
    clusterDomain: objectName.optional(),
    vipDomain: objectName.optional(),
    upstreams: z.array(upstream).optional(),
  }).optional(),
});

// ---- Node --------------------------------------------------------------------------------------------

const nodeSpec = strictObject({
  address: ipAddress,
  podSubnet: cidr.optional(),
  leaseExpiresAt: timestamp.optional(),
  heartbeatAt: timestamp.optional(),
  unschedulable: z.boolean().optional(),
});

// ---- Task --------------------------------------------------------------------------------------------

const taskPort = strictObject({
  name: portName.optional(),
  containerPort: port,
  hostPort: port.optional(),
  protocol: protocol.optional(),
  // Port labels are free-form scheduler metadata (`VIP_0: /web:80`), not Kubernetes labels.
  labels: stringMap(nonEmptyString).optional(),
});

const appId = nonEmptyString.refine((value) => !value.startsWith('/'), {
  error: (iss) =>
    `must not start with "/" (app ids are stored without it: ${JSON.stringify(String(iss.input).replace(/^\/+/, ''))})`,
});

const taskSpec = strictObject({
  id: nonEmptyString.optional(),
  app: appId,
  framework: dnsLabel,
  node: objectName,
  state: z.enum(TASK_STATES),
  health: z.enum(TASK_HEALTH).optional(),
  draining: z.boolean().optional(),
  networkMode: z.enum(NETWORK_MODES),
  ips: z.array(ipAddress).optional(),
  ports: z.array(taskPort).optional(),
  startedAt: timestamp.optional(),
});

// ---- Service -----------------------------------------------------------------------------------------

const servicePort = strictObject({
  name: portName.optional(),
  port,
  targetPort: portOrName.optional(),
  protocol: protocol.optional(),
  mode: z.enum(['http', 'tcp']).optional(),
});

/** A DC/OS named VIP: `web` or `/prod/web` — DNS-safe segments separated by `/`. */
const vipName = checkedString((value) => {
  const segments = value.replace(/^\//, '').split('/');
  const ok = segments.every((segment) => /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(segment));
  return ok && value.length <= 253
    ? undefined
    : `must be lowercase letters, digits, "-" and "." in "/"-separated parts, got ${JSON.stringify(value)}`;
});

/** An ingress host: a DNS name, optionally with a leading `*.` wildcard. */
const ingressHost = checkedString((value) => dnsSubdomainReason(value.replace(/^\*\./, '')));

const healthCheck = strictObject({
  type: z.enum(['http', 'tcp']),
  path: httpPath.optional(),
  intervalMs: intInRange(1, 3_600_000).optional(),
  timeoutMs: intInRange(1, 3_600_000).optional(),
  rise: intInRange(1, 100).optional(),
  fall: intInRange(1, 100).optional(),
});

const serviceSpec = strictObject({
  selector: strictObject({ app: appId.optional(), ...selectorFields }),
  ports: z.array(servicePort),
  headless: z.boolean().optional(),
  vip: strictObject({ name: vipName.optional(), address: ipAddress.optional() }).optional(),
  loadBalancing: strictObject({
    algorithm: z.enum(['round-robin', 'least-connections', 'consistent-hash']).optional(),
    hashOn: z.enum(['cookie', 'client-ip']).optional(),
    healthCheck: healthCheck.optional(),
  }).optional(),
  ingress: z
    .array(
      strictObject({
        host: ingressHost.optional(),
        path: httpPath,
        pathType: z.enum(['Exact', 'Prefix']),
        port: portOrName,
      }),
    )
    .optional(),
});

// ---- VIP --------------------------------------------------------------------------------------------

const vipSpec = strictObject({
  name: objectName,
  framework: objectName,
  address: ipAddress,
  ports: z.array(
    strictObject({ port, protocol: protocol.optional(), mode: z.enum(['tcp', 'http']).optional() }),
  ),
  backends: z
    .array(
      strictObject({
        task: nonEmptyString,
        vipPort: port,
        protocol: protocol.optional(),
        address: ipAddress,
        port,
        // HAProxy's weight range; 0 takes no new connections while open ones finish.
        weight: intInRange(0, 256).optional(),
      }),
    )
    .optional(),
  owners: z
    .array(
      strictObject({
        kind: z.enum(['app', 'service']),
        namespace: dnsLabel,
        name: nonEmptyString,
        source: nonEmptyString,
      }),
    )
    .optional(),
  releaseAt: timestamp.optional(),
});

// ---- Policy ------------------------------------------------------------------------------------------

const policyRule = strictObject({
  peers: z
    .array(
      strictObject({
        taskSelector: selectorSpec.optional(),
        namespaceSelector: selectorSpec.optional(),
        ipBlock: strictObject({ cidr, except: z.array(cidr).optional() }).optional(),
      }),
    )
    .optional(),
  ports: z
    .array(strictObject({ protocol: protocol.optional(), port: port.optional(), endPort: port.optional() }))
    .optional(),
});

const policySpec = strictObject({
  taskSelector: selectorSpec,
  policyTypes: z.array(z.enum(['Ingress', 'Egress'])).optional(),
  ingress: z.array(policyRule).optional(),
  egress: z.array(policyRule).optional(),
});

export const SPEC_SCHEMAS = {
  Network: networkSpec,
  Node: nodeSpec,
  Task: taskSpec,
  Service: serviceSpec,
  Policy: policySpec,
  VIP: vipSpec,
} as const satisfies Record<Kind, z.ZodType>;

/** A spec as the schema returns it: valid field by field, defaults not yet filled. */
export type ParsedSpec<K extends Kind> = z.output<(typeof SPEC_SCHEMAS)[K]>;
export type ParsedPolicyRule = z.output<typeof policyRule>;
