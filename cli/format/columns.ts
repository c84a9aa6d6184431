import type { Kind, StoredObject, SelectorSpec, VipPort, VipSpec } from '../../state';

/** The columns `get` shows for each kind; `-o wide` would add more, `-o json|yaml` shows all. */
interface Columns<K extends Kind> {
  headers: string[];
  cells(o: StoredObject<K>, ctx: TableContext): string[];
}

const none = '<none>';
const orNone = (s: string | undefined): string => (s === undefined || s === '' ? none : s);

export function formatSelector(sel: ({ app?: string } & SelectorSpec) | undefined): string {
  if (sel === undefined) return none;
  const parts: string[] = [];
  if (sel.app !== undefined) parts.push(`app=${sel.app}`);
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${(e.values ?? []).join(',')})`);
  }
  return parts.length === 0 ? none : parts.join(',');
}

const network: Columns<'Network'> = {
  headers: ['NAME', 'POD CIDR', 'NODE PREFIX', 'SERVICE CIDR', 'DOMAINS', 'REVISION'],
  cells: (o) => [
    o.name,
    o.spec.podCIDR,
    `/${o.spec.nodeSubnetPrefix}`,
    o.spec.serviceCIDR,
    [o.spec.dns?.mesosDomain, o.spec.dns?.clusterDomain, o.spec.dns?.vipDomain].filter(Boolean).join(','),
    String(o.revision),
  ],
};

/** `12s ago`, `in 3m` — for a person; `<none>` when unset. */
export function relativeTime(iso: string | undefined, now: number): string {
  if (iso === undefined) return none;
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const seconds = Math.round((at - now) / 1000);
  const span = Math.abs(seconds);
  const text =
    span < 120 ? `${span}s` : span < 7200 ? `${Math.round(span / 60)}m` : `${Math.round(span / 3600)}h`;
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}

/** Addresses a node's subnet holds for tasks, out of those it can give (network, gateway, broadcast excluded). */
export function subnetUsage(subnet: string | undefined, used: number): string {
  const prefix = subnet === undefined ? NaN : Number(subnet.split('/')[1]);
  if (Number.isNaN(prefix)) return used === 0 ? none : String(used);
  const bits = subnet?.includes(':') ? 128 : 32;
  const usable = bits - prefix >= 31 ? 2 ** (bits - prefix) : 2 ** (bits - prefix) - 3;
  return `${used}/${usable}`;
}

/** Extra facts a table may show that are not in the objects themselves. */
export interface TableContext {
  now: number;
  /** Task addresses in use per node name. */
  addressesByNode?: ReadonlyMap<string, number>;
}

const node: Columns<'Node'> = {
  headers: ['NAME', 'ADDRESS', 'POD SUBNET', 'LEASE', 'HEARTBEAT', 'ADDRESSES', 'REVISION'],
  cells: (o, ctx) => [
    o.name,
    o.spec.address,
    orNone(o.spec.podSubnet),
    o.spec.leaseExpiresAt === undefined ? none : `expires ${relativeTime(o.spec.leaseExpiresAt, ctx.now)}`,
    relativeTime(o.spec.heartbeatAt, ctx.now),
    subnetUsage(o.spec.podSubnet, ctx.addressesByNode?.get(o.name) ?? 0),
    String(o.revision),
  ],
};

const task: Columns<'Task'> = {
  headers: ['NAMESPACE', 'NAME', 'APP', 'FRAMEWORK', 'NODE', 'STATE', 'HEALTH', 'IPS', 'PORTS'],
  cells: (o) => [
    o.namespace ?? '',
    o.name,
    o.spec.app,
    o.spec.framework,
    o.spec.node,
    o.spec.draining ? `${o.spec.state} (draining)` : o.spec.state,
    o.spec.health,
    orNone(o.spec.ips.join(',')),
    orNone(
      o.spec.ports
        .map((p) => `${p.hostPort !== undefined ? `${p.hostPort}:` : ''}${p.containerPort}/${p.protocol}`)
        .join(','),
    ),
  ],
};

const service: Columns<'Service'> = {
  headers: ['NAMESPACE', 'NAME', 'SELECTOR', 'PORTS', 'VIP'],
  cells: (o) => [
    o.namespace ?? '',
    o.name,
    formatSelector(o.spec.selector),
    o.spec.ports.map((p) => `${p.port}/${p.protocol}${p.mode === 'http' ? ' (http)' : ''}`).join(','),
    o.spec.headless
      ? 'None (headless)'
      : orNone([o.spec.vip?.name, o.spec.vip?.address].filter((x) => x !== undefined).join(' ')),
  ],
};

const policy: Columns<'Policy'> = {
  headers: ['NAMESPACE', 'NAME', 'TASK SELECTOR', 'TYPES'],
  cells: (o) => [
    o.namespace ?? '',
    o.name,
    formatSelector(o.spec.taskSelector),
    o.spec.policyTypes.join(','),
  ],
};

/** `80/tcp,8080/tcp (http)`: the ports a VIP serves. */
export function formatVipPorts(ports: readonly VipPort[]): string {
  return orNone(ports.map((p) => `${p.port}/${p.protocol}${p.mode === 'http' ? ' (http)' : ''}`).join(','));
}

/**
 * `2/3`: tasks taking new connections (weight > 0 on at least one port) out of all backend tasks;
 * `0/0 (released in 4m)` while a VIP without owners waits out its grace period.
 */
export function formatVipBackends(spec: Readonly<VipSpec>, now: number): string {
  const all = new Set<string>();
  const healthy = new Set<string>();
  for (const b of spec.backends) {
    all.add(b.task);
    if (b.weight > 0) healthy.add(b.task);
  }
  const counts = `${healthy.size}/${all.size}`;
  return spec.releaseAt === undefined ? counts : `${counts} (released ${relativeTime(spec.releaseAt, now)})`;
}

const vip: Columns<'VIP'> = {
  headers: ['NAME', 'ADDRESS', 'PORTS', 'BACKENDS'],
  cells: (o, ctx) => [
    o.name,
    o.spec.address,
    formatVipPorts(o.spec.ports),
    formatVipBackends(o.spec, ctx.now),
  ],
};

const COLUMNS: { [K in Kind]: Columns<K> } = {
  Network: network,
  Node: node,
  Task: task,
  Service: service,
  Policy: policy,
  VIP: vip,
};

export function columnsFor<K extends Kind>(kind: K): Columns<K> {
  return COLUMNS[kind];
}
