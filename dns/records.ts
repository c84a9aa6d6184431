import type { StoredObject } from '../state';
import {
  DEFAULT_NAMESPACE,
  MESOS_LEADER_LABEL,
  MESOS_MASTER_INDEX_LABEL,
  MESOS_PORT_LABEL,
  MESOS_ROLE_LABEL,
} from '../state';
import { appHostname, canonicalLabel, hash5, sanitizeDomain, sanitizeLabel, type LabelSpec } from './labels';
import { addressBytes, ipv4Value, isIpAddress, type RecordData, type ResourceRecord } from './wire';

/**
 * Record generation: pure functions from one state object (plus what it depends on) to the
 * records it owns. Naming follows Mesos-DNS (reference/dns.md §1), the Kubernetes DNS spec (§6)
 * and DC/OS named VIPs (§5.3); deviations are listed in README.md.
 */
export interface ZoneDomains {
  readonly mesos: string;
  readonly cluster: string;
  readonly vip: string;
}

export interface PublishPolicy {
  /** Publish tasks whose health is `unhealthy` (default false). */
  readonly unhealthy: boolean;
  /** Publish tasks marked `draining` (default false). */
  readonly draining: boolean;
  /** Publish tasks in state `killing` (default false). */
  readonly killing: boolean;
}

export interface MastersInput {
  readonly addresses: readonly string[];
  readonly leader?: string;
  /** The masters' HTTP port, for the `_leader._tcp` SRV (default 5050). */
  readonly port?: number;
}

export interface RecordContext {
  readonly domains: ZoneDomains;
  readonly ttl: number;
  readonly labelSpec: LabelSpec;
  readonly publish: PublishPolicy;
  readonly srvWeight: number;
  /** Also publish Marathon's dotted DiscoveryInfo names (`web.group.marathon.mesos`). */
  readonly legacyNames: boolean;
  readonly masters: MastersInput | undefined;
  /** Addresses published for `ns1.<zone>` (the NS target); none by default. */
  readonly nameserverAddresses: readonly string[];
  readonly serial: number;
  /** Per-compile memo of app-level names (one string per name, shared by the app's tasks). */
  readonly memo?: Map<string, readonly AppNames[]>;
}

/** The framework of IP VIPs (`VIP_0: 198.19.0.10:80`): they have no name, so no DNS name. */
export const IP_VIP_FRAMEWORK = 'ip.vip';

export interface Generated {
  readonly records: readonly ResourceRecord[];
  readonly problems: readonly string[];
}

const NOTHING: Generated = { records: [], problems: [] };

function addressData(address: string): RecordData {
  return { type: address.includes(':') ? 'AAAA' : 'A', address };
}

function addressRecord(ctx: RecordContext, name: string, address: string | RecordData): ResourceRecord {
  return rr(ctx, name, typeof address === 'string' ? addressData(address) : address);
}

function rr(ctx: RecordContext, name: string, data: RecordData): ResourceRecord {
  return { name, ttl: ctx.ttl, data };
}

/** `198.18.0.5` → `5.0.18.198.in-addr.arpa`; IPv6 → nibbles under `ip6.arpa`. */
export function reverseName(address: string): string {
  const v4 = ipv4Value(address);
  if (v4 >= 0) return `${v4 & 255}.${(v4 >>> 8) & 255}.${(v4 >>> 16) & 255}.${v4 >>> 24}.in-addr.arpa`;
  const bytes = addressBytes(address);
  if (bytes.length === 4) return `${[...bytes].reverse().join('.')}.in-addr.arpa`;
  const nibbles: string[] = [];
  for (const byte of bytes) nibbles.push((byte >> 4).toString(16), (byte & 15).toString(16));
  return `${nibbles.reverse().join('.')}.ip6.arpa`;
}

export function isTaskPublished(task: StoredObject<'Task'>, publish: PublishPolicy): boolean {
  const spec = task.spec;
  if (spec.state !== 'running' && !(spec.state === 'killing' && publish.killing)) return false;
  if (spec.health === 'unhealthy' && !publish.unhealthy) return false;
  return !(spec.draining === true && !publish.draining);
}

/** The task's reachable addresses: its own IPs per container, else its node's address. */
export function taskAddresses(task: StoredObject<'Task'>, node: StoredObject<'Node'> | undefined): string[] {
  if (task.spec.networkMode === 'ip-per-container') return task.spec.ips.filter(isIpAddress);
  return node !== undefined && isIpAddress(node.spec.address) ? [node.spec.address] : [];
}

/** Names that depend only on the app and framework: shared by every task of the app. */
interface AppNames {
  readonly label: string;
  readonly base: string;
  readonly slave: string;
  readonly labelBase: string;
  readonly labelSlave: string;
  /** SRV owner names by `<proto>`, `<portName>.<proto>`, `slave.<proto>`: built on first use. */
  readonly srv: Map<string, string>;
}

function appNames(task: StoredObject<'Task'>, ctx: RecordContext): readonly AppNames[] {
  const key = `${task.spec.app}\0${task.spec.framework}`;
  const known = ctx.memo?.get(key);
  if (known !== undefined) return known;
  const framework = sanitizeDomain(task.spec.framework, ctx.labelSpec);
  const hostname = appHostname(task.spec.app);
  const label = sanitizeLabel(hostname, ctx.labelSpec);
  let out: AppNames[] = [];
  if (framework !== '' && label !== '') {
    const labels = [label];
    const legacy = sanitizeDomain(hostname, ctx.labelSpec);
    if (ctx.legacyNames && legacy.includes('.') && legacy !== label) labels.push(legacy);
    const base = `${framework}.${ctx.domains.mesos}`;
    const slave = `${framework}.slave.${ctx.domains.mesos}`;
    out = labels.map((l) => ({
      label: l,
      base,
      slave,
      labelBase: `${l}.${base}`,
      labelSlave: `${l}.${slave}`,
      srv: new Map(),
    }));
  }
  ctx.memo?.set(key, out);
  return out;
}

/** `_<label>._<proto>.<base>` (or `.<slave>`), `_<port>._<label>._<proto>.<base>`: one string per app. */
function srvName(names: AppNames, proto: string, portName: string | undefined, slave: boolean): string {
  const key = `${slave ? '#' : ''}${portName ?? ''}/${proto}`;
  let name = names.srv.get(key);
  if (name === undefined) {
    const tail = `_${names.label}._${proto}.${slave ? names.slave : names.base}`;
    name = portName === undefined ? tail : `_${portName}.${tail}`;
    names.srv.set(key, name);
  }
  return name;
}

interface TaskNames {
  readonly app: AppNames;
  readonly canonicalBase: string;
  readonly canonicalSlave: string;
}

function taskNameSets(task: StoredObject<'Task'>, ctx: RecordContext): TaskNames[] {
  const apps = appNames(task, ctx);
  if (apps.length === 0) return [];
  const taskId = task.spec.id ?? task.name;
  const hash = hash5(taskId);
  return apps.map((app) => {
    const canonical = canonicalLabel(app.label, taskId, task.spec.node, ctx.labelSpec, hash);
    return { app, canonicalBase: `${canonical}.${app.base}`, canonicalSlave: `${canonical}.${app.slave}` };
  });
}

function taskSrvRecords(
  task: StoredObject<'Task'>,
  names: TaskNames,
  ips: string[],
  nodeAddress: string | undefined,
  ctx: RecordContext,
): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  const { app, canonicalBase, canonicalSlave } = names;
  for (const port of task.spec.ports) {
    const hostPort = port.hostPort ?? (task.spec.networkMode === 'host' ? port.containerPort : undefined);
    const srv = (target: string, number: number): RecordData => ({
      type: 'SRV',
      priority: 0,
      weight: ctx.srvWeight,
      port: number,
      target,
    });
    // Non-slave SRV: the host port via the agent if mapped, else the container port on the task IP.
    let data: RecordData | undefined;
    if (hostPort !== undefined && nodeAddress !== undefined) {
      data = srv(canonicalSlave, hostPort);
      out.push(rr(ctx, srvName(app, port.protocol, undefined, true), data));
    } else if (ips.length > 0) data = srv(canonicalBase, port.containerPort);
    if (data === undefined) continue;
    out.push(rr(ctx, srvName(app, port.protocol, undefined, false), data));
    const portName = port.name === undefined ? '' : sanitizeLabel(port.name, ctx.labelSpec);
    if (portName !== '') out.push(rr(ctx, srvName(app, port.protocol, portName, false), data));
  }
  return out;
}

/** Records owned by one task: Mesos-DNS task, canonical, `.slave.` and SRV names, and PTRs. */
export function taskRecords(
  task: StoredObject<'Task'>,
  node: StoredObject<'Node'> | undefined,
  ctx: RecordContext,
): Generated {
  if (!isTaskPublished(task, ctx.publish)) return NOTHING;
  if (node === undefined)
    return { records: [], problems: [`task ${task.name}: node ${task.spec.node} is unknown`] };
  if (!isAgentNode(node))
    return {
      records: [],
      problems: [`task ${task.name}: node ${task.spec.node} is a Mesos ${mesosRole(node)}, not an agent`],
    };
  const nodeAddress = isIpAddress(node.spec.address) ? node.spec.address : undefined;
  const ips = taskAddresses(task, node);
  // One data object per address, shared by every name that publishes it.
  const ipData = ips.map(addressData);
  const nodeData = nodeAddress === undefined ? undefined : addressData(nodeAddress);
  const out: ResourceRecord[] = [];
  const nameSets = taskNameSets(task, ctx);
  for (const names of nameSets) {
    for (const data of ipData) {
      out.push(addressRecord(ctx, names.app.labelBase, data));
      out.push(addressRecord(ctx, names.canonicalBase, data));
    }
    if (nodeData !== undefined) {
      out.push(addressRecord(ctx, names.app.labelSlave, nodeData));
      out.push(addressRecord(ctx, names.canonicalSlave, nodeData));
    }
    out.push(...taskSrvRecords(task, names, ips, nodeAddress, ctx));
  }
  const first = nameSets[0];
  if (first !== undefined && task.spec.networkMode === 'ip-per-container') {
    for (const ip of ips) out.push(rr(ctx, reverseName(ip), { type: 'PTR', target: first.canonicalBase }));
  }
  return { records: out, problems: [] };
}

function mesosRole(node: StoredObject<'Node'>): string | undefined {
  return node.labels[MESOS_ROLE_LABEL];
}

/** Mesos agents and Nodes of other sources (no role label); not Mesos masters or frameworks. */
export function isAgentNode(node: StoredObject<'Node'>): boolean {
  const role = mesosRole(node);
  return role !== 'master' && role !== 'framework';
}

export function isMasterNode(node: StoredObject): boolean {
  return node.kind === 'Node' && node.labels[MESOS_ROLE_LABEL] === 'master';
}

/** `slave.<domain>`: every agent node's address (not Mesos masters or frameworks). */
export function nodeRecords(node: StoredObject<'Node'>, ctx: RecordContext): Generated {
  if (!isAgentNode(node)) return NOTHING;
  if (!isIpAddress(node.spec.address))
    return { records: [], problems: [`node ${node.name}: address is not an IP`] };
  return { records: [addressRecord(ctx, `slave.${ctx.domains.mesos}`, node.spec.address)], problems: [] };
}

function dashedAddress(address: string): string {
  return address.replace(/[.:]/g, '-');
}

export interface Endpoint {
  readonly task: StoredObject<'Task'>;
  readonly node: StoredObject<'Node'> | undefined;
}

function endpointPort(endpoint: Endpoint, target: number | string): number | undefined {
  const spec = endpoint.task.spec;
  const port = spec.ports.find((p) =>
    typeof target === 'string' ? p.name === target : p.containerPort === target,
  );
  if (port === undefined)
    return typeof target === 'number' && spec.networkMode === 'ip-per-container' ? target : undefined;
  return spec.networkMode === 'ip-per-container' ? port.containerPort : (port.hostPort ?? port.containerPort);
}

function headlessRecords(
  service: StoredObject<'Service'>,
  base: string,
  endpoints: readonly Endpoint[],
  ctx: RecordContext,
): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  const ready = endpoints.flatMap((e) => taskAddresses(e.task, e.node).map((ip) => ({ endpoint: e, ip })));
  for (const { ip } of ready) {
    out.push(addressRecord(ctx, base, ip));
    out.push(addressRecord(ctx, `${dashedAddress(ip)}.${base}`, ip));
  }
  for (const port of service.spec.ports) {
    const portName = port.name === undefined ? '' : sanitizeLabel(port.name);
    if (portName === '') continue;
    const targets = ready.flatMap(({ endpoint, ip }) => {
      const number = endpointPort(endpoint, port.targetPort ?? port.port);
      return number === undefined ? [] : [{ ip, number }];
    });
    const weight = Math.max(1, Math.floor(100 / Math.max(targets.length, 1)));
    for (const { ip, number } of targets) {
      const data: RecordData = {
        type: 'SRV',
        priority: 0,
        weight,
        port: number,
        target: `${dashedAddress(ip)}.${base}`,
      };
      out.push(rr(ctx, `_${portName}._${port.protocol}.${base}`, data));
    }
  }
  return out;
}

function vipServiceRecords(
  service: StoredObject<'Service'>,
  base: string,
  address: string,
  ctx: RecordContext,
): ResourceRecord[] {
  const out: ResourceRecord[] = [
    addressRecord(ctx, base, address),
    rr(ctx, reverseName(address), { type: 'PTR', target: base }),
  ];
  for (const port of service.spec.ports) {
    const portName = port.name === undefined ? '' : sanitizeLabel(port.name);
    if (portName === '') continue;
    out.push(
      rr(ctx, `_${portName}._${port.protocol}.${base}`, {
        type: 'SRV',
        priority: 0,
        weight: 100,
        port: port.port,
        target: base,
      }),
    );
  }
  return out;
}

/**
 * Records owned by one service: `<svc>.<ns>.svc.<zone>`, its SRVs and PTR. The address is the
 * explicit `spec.vip.address`, else `allocated` (the address of the VIP object it owns). Its named
 * VIP (`<vip>.<fw>.<vipDomain>`) belongs to that VIP object (`vipRecords`).
 */
export function serviceRecords(
  service: StoredObject<'Service'>,
  endpoints: readonly Endpoint[],
  ctx: RecordContext,
  allocated?: string,
): Generated {
  const svc = sanitizeLabel(service.name);
  const ns = sanitizeLabel(service.namespace ?? DEFAULT_NAMESPACE);
  if (svc === '' || ns === '')
    return { records: [], problems: [`service ${service.name}: name sanitises to nothing`] };
  const base = `${svc}.${ns}.svc.${ctx.domains.cluster}`;
  if (service.spec.headless === true)
    return { records: headlessRecords(service, base, endpoints, ctx), problems: [] };
  const address = service.spec.vip?.address ?? allocated;
  if (address === undefined || !isIpAddress(address)) {
    return {
      records: [],
      problems: [
        `service ${service.namespace ?? DEFAULT_NAMESPACE}/${service.name}: no VIP address yet, nothing published`,
      ],
    };
  }
  return { records: vipServiceRecords(service, base, address, ctx), problems: [] };
}

/** True when the VIP object is answered in DNS: named (not `ip.vip`) and not being released. */
export function isVipPublished(vip: StoredObject<'VIP'>): boolean {
  return vip.spec.framework !== IP_VIP_FRAMEWORK && vip.spec.releaseAt === undefined;
}

/**
 * Records owned by one VIP object: `<name>.<framework>.<vipDomain>` A/AAAA → its address, and
 * `_<port>._<proto>.<name>.<framework>.<vipDomain>` SRV → that name and the VIP port (VIP ports
 * have no names). IP VIPs (`ip.vip`) and VIPs being released (`releaseAt` set) publish nothing.
 */
export function vipRecords(vip: StoredObject<'VIP'>, ctx: RecordContext): Generated {
  if (!isVipPublished(vip)) return NOTHING;
  const spec = vip.spec;
  const label = sanitizeDomain(spec.name, 'rfc1123');
  const framework = sanitizeDomain(spec.framework, 'rfc1123');
  if (label === '' || framework === '')
    return { records: [], problems: [`vip ${vip.name}: name sanitises to nothing`] };
  if (!isIpAddress(spec.address))
    return { records: [], problems: [`vip ${vip.name}: address ${spec.address} is not an IP`] };
  const name = `${label}.${framework}.${ctx.domains.vip}`;
  const out: ResourceRecord[] = [addressRecord(ctx, name, spec.address)];
  const seen = new Set<string>();
  for (const port of spec.ports) {
    const owner = `_${port.port}._${port.protocol}.${name}`;
    if (seen.has(owner)) continue;
    seen.add(owner);
    out.push(
      rr(ctx, owner, { type: 'SRV', priority: 0, weight: ctx.srvWeight, port: port.port, target: name }),
    );
  }
  return { records: out, problems: [] };
}

/**
 * The masters input from the Mesos source's master Nodes: addresses ordered by the master-index
 * label (then by name), the leader the Node labelled leader, its port label for `_leader._tcp`.
 * Undefined when there are none (the `zone.masters` option applies then).
 */
export function mastersFromNodes(nodes: readonly StoredObject<'Node'>[]): MastersInput | undefined {
  const masters = nodes.filter((n) => isMasterNode(n) && isIpAddress(n.spec.address));
  if (masters.length === 0) return undefined;
  const index = (n: StoredObject<'Node'>): number => {
    const value = Number.parseInt(n.labels[MESOS_MASTER_INDEX_LABEL] ?? '', 10);
    return Number.isInteger(value) && value >= 0 ? value : Number.MAX_SAFE_INTEGER;
  };
  masters.sort((a, b) => index(a) - index(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const leader = masters.find((n) => n.labels[MESOS_LEADER_LABEL] === 'true');
  const port = Number.parseInt(leader?.labels[MESOS_PORT_LABEL] ?? '', 10);
  return {
    addresses: masters.map((n) => n.spec.address),
    ...(leader === undefined ? {} : { leader: leader.spec.address }),
    ...(Number.isInteger(port) && port > 0 && port < 65536 ? { port } : {}),
  };
}

/**
 * `leader`, `master`, `masterN` and the `_leader._tcp/_udp` SRVs: from the master Nodes when
 * there are any (`fromNodes`), else from the masters option.
 */
export function masterRecords(ctx: RecordContext, fromNodes?: MastersInput): Generated {
  const masters = fromNodes ?? ctx.masters;
  if (masters === undefined) return NOTHING;
  const d = ctx.domains.mesos;
  const out: ResourceRecord[] = [];
  const list = masters.addresses.filter(isIpAddress);
  if (masters.leader !== undefined && isIpAddress(masters.leader) && !list.includes(masters.leader))
    list.push(masters.leader);
  list.forEach((address, i) => {
    out.push(addressRecord(ctx, `master.${d}`, address), addressRecord(ctx, `master${i}.${d}`, address));
  });
  if (masters.leader !== undefined && isIpAddress(masters.leader)) {
    out.push(addressRecord(ctx, `leader.${d}`, masters.leader));
    for (const proto of ['tcp', 'udp']) {
      const data: RecordData = {
        type: 'SRV',
        priority: 0,
        weight: ctx.srvWeight,
        port: masters.port ?? 5050,
        target: `leader.${d}`,
      };
      out.push(rr(ctx, `_leader._${proto}.${d}`, data));
    }
  }
  return { records: out, problems: [] };
}

/** The SOA record of one zone apex (also used, as a tail, for negative answers). */
export function soaRecord(apex: string, ctx: RecordContext): ResourceRecord {
  return rr(ctx, apex, {
    type: 'SOA',
    mname: `ns1.${apex}`,
    rname: `hostmaster.${apex}`,
    serial: ctx.serial >>> 0,
    refresh: 60,
    retry: 600,
    expire: 86400,
    minimum: ctx.ttl,
  });
}

/** SOA and NS at each apex, `ns1.<zone>` addresses if configured, and `dns-version.<cluster>`. */
export function apexRecords(ctx: RecordContext): Generated {
  const out: ResourceRecord[] = [];
  for (const apex of [ctx.domains.mesos, ctx.domains.cluster, ctx.domains.vip]) {
    out.push(soaRecord(apex, ctx), rr(ctx, apex, { type: 'NS', target: `ns1.${apex}` }));
    for (const address of ctx.nameserverAddresses) out.push(addressRecord(ctx, `ns1.${apex}`, address));
  }
  out.push(rr(ctx, `dns-version.${ctx.domains.cluster}`, { type: 'TXT', text: '1.1.0' }));
  return { records: out, problems: [] };
}
