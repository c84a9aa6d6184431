import { SOURCE_ERROR_CODES, SourceError } from './errors';
import type {
  HostPort,
  MesosAgent,
  MesosDiscovery,
  MesosDiscoveryPort,
  MesosFramework,
  MesosLabel,
  MesosNetworkInfo,
  MesosPortMapping,
  MesosState,
  MesosStatus,
  MesosTask,
} from './types';

/**
 * Pure decoding of a master's state JSON (reference/dns.md §4) into the internal type: tolerant
 * like Mesos-DNS (unknown fields ignored, a malformed entry skipped and noted), strict only where
 * Mesos-DNS is: a state without a leader is an error.
 */

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function isPort(n: number | undefined): n is number {
  return n !== undefined && Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** `host:port` or `[v6]:port`; undefined when malformed. */
export function parseHostPort(text: string): HostPort | undefined {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (match === null) return undefined;
  const port = Number(match[2]);
  return isPort(port) ? { host: match[1] as string, port } : undefined;
}

export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** A libprocess PID `id@host:port` → host and port (Mesos-DNS upid.Parse). */
export function parsePid(pid: string): HostPort | undefined {
  const at = pid.indexOf('@');
  if (at <= 0) return undefined;
  return parseHostPort(pid.slice(at + 1));
}

/** The Mesos range string `[31000-31001, 31005-31005]` → every port, in order, each once. */
export function parsePortRanges(text: string | undefined): number[] {
  if (text === undefined) return [];
  const inner = /\[([^\]]*)\]/.exec(text)?.[1] ?? '';
  const out = new Set<number>();
  for (const part of inner.split(',')) {
    const [loText, hiText = loText] = part.trim().split('-');
    const lo = Number(loText);
    const hi = Number(hiText);
    if (!isPort(lo) || !isPort(hi) || hi < lo) continue;
    for (let p = lo; p <= hi; p++) out.add(p);
  }
  return [...out];
}

function decodeLabels(value: unknown): MesosLabel[] {
  // v0 JSON has `labels: [{key, value}]`; protobuf-shaped documents nest it: `labels: {labels: […]}`.
  const list = isObject(value) ? arr(value.labels) : arr(value);
  const out: MesosLabel[] = [];
  for (const item of list) {
    if (!isObject(item)) continue;
    const key = str(item.key);
    if (key !== undefined) out.push({ key, value: str(item.value) ?? '' });
  }
  return out;
}

function decodeNetworkInfos(value: unknown): MesosNetworkInfo[] {
  return arr(value)
    .filter(isObject)
    .map((info) => {
      const list = arr(info.ip_addresses)
        .filter(isObject)
        .map((a) => str(a.ip_address))
        .filter((a): a is string => a !== undefined);
      const legacy = str(info.ip_address);
      // Mesos-DNS: the 0.25 single `ip_address` only when `ip_addresses` is empty.
      return { ipAddresses: list.length > 0 ? list : legacy === undefined ? [] : [legacy] };
    });
}

function decodeStatus(value: unknown): MesosStatus | undefined {
  if (!isObject(value)) return undefined;
  const state = str(value.state);
  if (state === undefined) return undefined;
  const containerStatus = isObject(value.container_status) ? value.container_status : {};
  const status: MesosStatus = {
    state,
    timestamp: num(value.timestamp) ?? 0,
    labels: decodeLabels(value.labels),
    networkInfos: decodeNetworkInfos(containerStatus.network_infos),
  };
  return typeof value.healthy === 'boolean' ? { ...status, healthy: value.healthy } : status;
}

function decodeMappings(value: unknown): MesosPortMapping[] {
  const out: MesosPortMapping[] = [];
  for (const m of arr(value)) {
    if (!isObject(m)) continue;
    const hostPort = num(m.host_port);
    const containerPort = num(m.container_port);
    if (!isPort(hostPort) || !isPort(containerPort)) continue;
    const protocol = str(m.protocol);
    out.push(protocol === undefined ? { hostPort, containerPort } : { hostPort, containerPort, protocol });
  }
  return out;
}

function decodeContainerMappings(value: unknown): MesosPortMapping[] {
  if (!isObject(value)) return [];
  const docker = isObject(value.docker) ? decodeMappings(value.docker.port_mappings) : [];
  const mesos = arr(value.network_infos).flatMap((n) => (isObject(n) ? decodeMappings(n.port_mappings) : []));
  return [...docker, ...mesos];
}

function decodeDiscovery(value: unknown): MesosDiscovery | undefined {
  if (!isObject(value)) return undefined;
  const name = str(value.name) ?? '';
  if (name === '') return undefined; // Mesos-DNS HasDiscoveryInfo: a DiscoveryInfo without a name is ignored
  const ports: MesosDiscoveryPort[] = [];
  const portList = isObject(value.ports) ? arr(value.ports.ports) : [];
  for (const p of portList) {
    if (!isObject(p)) continue;
    const number = num(p.number);
    if (number === undefined || !Number.isInteger(number)) continue;
    ports.push({
      number,
      name: str(p.name) ?? '',
      protocol: str(p.protocol) ?? '',
      labels: decodeLabels(p.labels),
    });
  }
  return { name, ports };
}

function decodeTask(value: unknown, frameworkId: string): MesosTask | undefined {
  if (!isObject(value)) return undefined;
  const id = str(value.id);
  const agentId = str(value.slave_id) ?? str(value.agent_id);
  const state = str(value.state);
  if (id === undefined || id === '' || agentId === undefined || state === undefined) return undefined;
  const resources = isObject(value.resources) ? value.resources : {};
  const discovery = decodeDiscovery(value.discovery);
  const task: MesosTask = {
    id,
    name: str(value.name) ?? '',
    frameworkId: str(value.framework_id) ?? frameworkId,
    agentId,
    state,
    statuses: arr(value.statuses)
      .map(decodeStatus)
      .filter((s): s is MesosStatus => s !== undefined),
    resourcePorts: parsePortRanges(str(resources.ports)),
    labels: decodeLabels(value.labels),
    portMappings: decodeContainerMappings(value.container),
  };
  return discovery === undefined ? task : { ...task, discovery };
}

function decodeFramework(value: unknown, skipped: string[]): MesosFramework | undefined {
  if (!isObject(value)) return undefined;
  const id = str(value.id);
  if (id === undefined || id === '') return undefined;
  const tasks: MesosTask[] = [];
  arr(value.tasks).forEach((t, i) => {
    const task = decodeTask(t, id);
    if (task === undefined) skipped.push(`frameworks[${id}].tasks[${i}]: no id, slave_id or state`);
    else tasks.push(task);
  });
  const framework: MesosFramework = { id, name: str(value.name) ?? '', tasks };
  const pid = str(value.pid);
  const hostname = str(value.hostname);
  return {
    ...framework,
    ...(pid === undefined || pid === '' ? {} : { pid }),
    ...(hostname === undefined || hostname === '' ? {} : { hostname }),
  };
}

function decodeAgent(value: unknown): MesosAgent | undefined {
  if (!isObject(value)) return undefined;
  const id = str(value.id);
  const pid = str(value.pid);
  if (id === undefined || id === '' || pid === undefined) return undefined;
  const hostname = str(value.hostname);
  return hostname === undefined ? { id, pid } : { id, pid, hostname };
}

function leaderOf(doc: Json): string | undefined {
  const leader = str(doc.leader);
  if (leader !== undefined && leader !== '') return leader;
  const info = isObject(doc.leader_info) ? doc.leader_info : undefined;
  const pid = str(info?.pid);
  return pid === undefined || pid === '' ? undefined : pid;
}

function badResponse(message: string): SourceError {
  return new SourceError(SOURCE_ERROR_CODES.BAD_RESPONSE, message, { reason: message });
}

/** Decode a parsed state document. Throws SY_SOURCE_BAD_RESPONSE if it is not one or names no leader. */
export function decodeMesosState(doc: unknown): MesosState {
  if (!isObject(doc)) throw badResponse('the state is not a JSON object');
  const leader = leaderOf(doc);
  if (leader === undefined) throw badResponse('the state names no leader (no "leader" or "leader_info.pid")');
  if (parsePid(leader) === undefined)
    throw badResponse(`the leader PID ${JSON.stringify(leader)} is malformed`);
  const skipped: string[] = [];
  const agents: MesosAgent[] = [];
  arr(doc.slaves).forEach((a, i) => {
    const agent = decodeAgent(a);
    if (agent === undefined) skipped.push(`slaves[${i}]: no id or pid`);
    else agents.push(agent);
  });
  const frameworks: MesosFramework[] = [];
  arr(doc.frameworks).forEach((f, i) => {
    const framework = decodeFramework(f, skipped);
    if (framework === undefined) skipped.push(`frameworks[${i}]: no id`);
    else frameworks.push(framework);
  });
  return { leader, agents, frameworks, skipped };
}

/** Parse the body text of a state response. Throws SY_SOURCE_BAD_RESPONSE on anything but a state. */
export function parseMesosState(text: string): MesosState {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new SourceError(SOURCE_ERROR_CODES.BAD_RESPONSE, 'the state is not valid JSON', {
      reason: 'not JSON',
      cause: err,
    });
  }
  return decodeMesosState(doc);
}
