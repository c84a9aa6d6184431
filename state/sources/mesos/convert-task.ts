import { formatIp, parseIp } from '../../../lib';
import type { NetworkMode, Protocol, TaskHealth, TaskPort, TaskState } from '../../model';
import { mesosLabel } from './names';
import type { IpSource, MesosLabel, MesosPortMapping, MesosStatus, MesosTask } from './types';

/**
 * The per-task parts of the conversion, each pure: task state, IPs by the configured IP-source
 * order, ports, health and start time (reference/dns.md §1.5–1.6, Mesos-DNS records/state/state.go).
 */

const STATES: Readonly<Record<string, TaskState>> = {
  TASK_STAGING: 'staging',
  TASK_STARTING: 'starting',
  TASK_RUNNING: 'running',
  TASK_KILLING: 'killing',
  TASK_FINISHED: 'finished',
  TASK_FAILED: 'failed',
  TASK_ERROR: 'failed',
  TASK_KILLED: 'killed',
  TASK_LOST: 'lost',
  TASK_DROPPED: 'lost',
  TASK_GONE: 'lost',
  TASK_GONE_BY_OPERATOR: 'lost',
  TASK_UNREACHABLE: 'lost',
  TASK_UNKNOWN: 'lost',
};

/** Mesos task state → model state; undefined for a state this table does not know. */
export function taskState(state: string): TaskState | undefined {
  return STATES[state];
}

export const MESOS_IP_LABEL = 'MesosContainerizer.NetworkSettings.IPAddress';
export const DOCKER_IP_LABEL = 'Docker.NetworkSettings.IPAddress';

/** Canonical text of an IP literal; undefined for anything else (Mesos-DNS `sanitizedIP`). */
export function canonicalIp(text: string): string | undefined {
  try {
    const ip = parseIp(text);
    return formatIp(ip.family, ip.value);
  } catch {
    return undefined;
  }
}

/** The TASK_RUNNING status with the highest timestamp; the first of equals (Mesos-DNS `statusIPs`). */
export function latestRunningStatus(statuses: readonly MesosStatus[]): MesosStatus | undefined {
  let best: MesosStatus | undefined;
  for (const s of statuses) {
    if (s.state === 'TASK_RUNNING' && (best === undefined || s.timestamp > best.timestamp)) best = s;
  }
  return best;
}

function labelIps(labels: readonly MesosLabel[], key: string): string[] {
  return labels.filter((l) => l.key === key).map((l) => l.value);
}

function ipsFromSource(task: MesosTask, source: IpSource, agentAddress: string): string[] {
  if (source === 'host') return [agentAddress];
  const status = latestRunningStatus(task.statuses);
  if (status === undefined) return [];
  if (source === 'netinfo') return status.networkInfos.flatMap((n) => n.ipAddresses);
  return labelIps(status.labels, source === 'mesos' ? MESOS_IP_LABEL : DOCKER_IP_LABEL);
}

export interface TaskIps {
  /** The source that yielded, or undefined when none did. */
  readonly source: IpSource | undefined;
  readonly ips: readonly string[];
}

/** All IPs of the first source that yields at least one parseable IP (Mesos-DNS `Task.IPs`). */
export function taskIps(task: MesosTask, sources: readonly IpSource[], agentAddress: string): TaskIps {
  for (const source of sources) {
    const ips = [
      ...new Set(
        ipsFromSource(task, source, agentAddress)
          .map(canonicalIp)
          .filter((ip): ip is string => ip !== undefined),
      ),
    ];
    if (ips.length > 0) return { source, ips };
  }
  return { source: undefined, ips: [] };
}

/** The health of the latest status (by timestamp) that carries one; `unknown` when none does. */
export function taskHealth(statuses: readonly MesosStatus[]): TaskHealth {
  let best: MesosStatus | undefined;
  for (const s of statuses) {
    if (s.healthy !== undefined && (best === undefined || s.timestamp > best.timestamp)) best = s;
  }
  if (best === undefined) return 'unknown';
  return best.healthy === true ? 'healthy' : 'unhealthy';
}

/** The earliest TASK_RUNNING status time, RFC 3339 (stable across refreshes). */
export function taskStartedAt(statuses: readonly MesosStatus[]): string | undefined {
  let first: number | undefined;
  for (const s of statuses) {
    if (s.state === 'TASK_RUNNING' && s.timestamp > 0 && (first === undefined || s.timestamp < first))
      first = s.timestamp;
  }
  return first === undefined ? undefined : new Date(Math.round(first * 1000)).toISOString();
}

/** DiscoveryInfo protocol → model protocols; empty means both (Mesos-DNS publishes _tcp and _udp). */
function protocolsOf(text: string): Protocol[] | undefined {
  const p = mesosLabel(text);
  if (p === '') return ['tcp', 'udp'];
  return p === 'tcp' || p === 'udp' ? [p] : undefined;
}

function mappingProtocol(text: string | undefined): Protocol {
  const first = (text ?? '').toLowerCase().split(',')[0]?.trim();
  return first === 'udp' ? 'udp' : 'tcp';
}

function portLabels(labels: readonly MesosLabel[]): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const l of labels) if (l.key !== '' && l.value !== '' && !(l.key in out)) out[l.key] = l.value;
  return Object.keys(out).length === 0 ? undefined : out;
}

function port(
  containerPort: number,
  protocol: Protocol,
  extra: { name?: string; hostPort?: number; labels?: Record<string, string> | undefined },
): TaskPort {
  const out: TaskPort = { containerPort, protocol };
  if (extra.name !== undefined && extra.name !== '') out.name = extra.name;
  if (extra.hostPort !== undefined) out.hostPort = extra.hostPort;
  if (extra.labels !== undefined) out.labels = extra.labels;
  return out;
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

function discoveryPorts(
  task: MesosTask,
  byHost: ReadonlyMap<number, MesosPortMapping>,
  covered: Set<number>,
  problems: string[],
): TaskPort[] {
  const resources = new Set(task.resourcePorts);
  const names = new Set<string>();
  const out: TaskPort[] = [];
  for (const dp of task.discovery?.ports ?? []) {
    const protocols = protocolsOf(dp.protocol);
    if (!isPort(dp.number) || protocols === undefined) {
      problems.push(`task ${task.id}: discovery port ${dp.number}/${dp.protocol || '-'} skipped`);
      continue;
    }
    let name = mesosLabel(dp.name);
    if (name !== '' && names.has(name)) {
      problems.push(`task ${task.id}: discovery port name "${name}" repeats; the second is unnamed`);
      name = '';
    }
    names.add(name);
    const hostPort = resources.has(dp.number) ? dp.number : undefined;
    if (hostPort !== undefined) covered.add(hostPort);
    const containerPort = byHost.get(dp.number)?.containerPort ?? dp.number;
    const labels = portLabels(dp.labels);
    // Port names are unique in a task, so with both protocols only the first entry carries it.
    protocols.forEach((protocol, i) =>
      out.push(
        port(containerPort, protocol, { ...(i === 0 ? { name } : {}), ...optionalHost(hostPort), labels }),
      ),
    );
  }
  return out;
}

/**
 * Ports: one per DiscoveryInfo port (name, protocol, labels; host port when the number is one of
 * the task's port resources, container port from a port mapping when there is one), then one per
 * port resource no DiscoveryInfo port described (TCP unless a mapping says UDP).
 */
export function taskPorts(task: MesosTask, problems: string[]): TaskPort[] {
  const byHost = new Map(task.portMappings.map((m) => [m.hostPort, m]));
  const covered = new Set<number>();
  const out = discoveryPorts(task, byHost, covered, problems);
  for (const p of task.resourcePorts) {
    if (covered.has(p)) continue;
    const mapping = byHost.get(p);
    out.push(port(mapping?.containerPort ?? p, mappingProtocol(mapping?.protocol), { hostPort: p }));
  }
  return out;
}

function optionalHost(hostPort: number | undefined): { hostPort?: number } {
  return hostPort === undefined ? {} : { hostPort };
}

/**
 * The network mode that makes consumers use what Mesos-DNS would publish: the container IPs when a
 * container source yielded (or nothing did), else the agent address — port-mapped when the task has
 * port mappings and every port a host port, host otherwise.
 */
export function networkModeFor(task: MesosTask, ips: TaskIps, ports: readonly TaskPort[]): NetworkMode {
  if (ips.source !== 'host') return 'ip-per-container';
  const mapped = task.portMappings.length > 0 && ports.every((p) => p.hostPort !== undefined);
  return mapped ? 'port-mapped' : 'host';
}

/**
 * The app id whose Marathon hostname (`PathId.toHostname`: segments reversed, joined with `.`) is
 * the task's DNS name: `mysql.db.prod` → `prod/db/mysql`. `/` is dropped, as Mesos-DNS drops it.
 */
export function appFromHostname(name: string): string {
  return name
    .split('.')
    .map((segment) => segment.replace(/\//g, ''))
    .filter((segment) => segment.length > 0)
    .reverse()
    .join('/');
}
