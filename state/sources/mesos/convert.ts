import { DEFAULT_NAMESPACE, type ObjectInput, type TaskSpec } from '../../model';
import {
  appFromHostname,
  canonicalIp,
  networkModeFor,
  taskHealth,
  taskIps,
  taskPorts,
  taskStartedAt,
  taskState,
} from './convert-task';
import { formatHostPort, parseHostPort, parsePid } from './decode';
import {
  DEFAULT_SOURCE_NAME,
  MESOS_FRAMEWORK_ID_LABEL,
  MESOS_FRAMEWORK_LABEL,
  MESOS_ID_LABEL,
  MESOS_LEADER_LABEL,
  MESOS_MASTER_INDEX_LABEL,
  MESOS_PORT_LABEL,
  MESOS_ROLE_LABEL,
  SOURCE_LABEL,
  type MesosRole,
} from './labels';
import { isValidLabel, mesosDomainFrag, mesosLabel, objectNameFor } from './names';
import {
  DEFAULT_IP_SOURCES,
  type IpSource,
  type MesosFramework,
  type MesosState,
  type MesosTask,
} from './types';

/**
 * The pure heart of the Mesos source (STYLE.md item 5): one master state in, the full desired set
 * of objects out — a Node per agent, per master and per framework scheduler, a Task per task.
 * No I/O, no clock, never mutates its input; the same input always gives the same output.
 */

export interface ConvertInput {
  readonly state: MesosState;
  /** The configured masters, `host:port`, in config order (Mesos-DNS `masters`: masterN indices). */
  readonly masters: readonly string[];
  /** Host names seen in PIDs and the master list, resolved by the fetch (IP literals need none). */
  readonly resolved?: Readonly<Record<string, readonly string[]>>;
}

export interface ConvertOptions {
  /** Mesos-DNS `IPSources`; default netinfo, mesos, host. */
  readonly ipSources?: readonly IpSource[];
  /** The value of `switchyard.io/source` (default `mesos`). */
  readonly sourceName?: string;
  /** The namespace of the Tasks (default `default`). */
  readonly namespace?: string;
}

export interface Conversion {
  readonly objects: readonly ObjectInput[];
  /** What was skipped or changed, and why (logged by the sync; not errors). */
  readonly problems: readonly string[];
}

interface Context {
  readonly resolved: Readonly<Record<string, readonly string[]>>;
  readonly ipSources: readonly IpSource[];
  readonly sourceName: string;
  readonly namespace: string;
  readonly problems: string[];
}

/** One address for a host: an IP literal as is, else its first resolved IPv4, else its first IPv6. */
function addressOf(host: string, ctx: Context): string | undefined {
  const literal = canonicalIp(host);
  if (literal !== undefined) return literal;
  const all = (ctx.resolved[host] ?? []).map(canonicalIp).filter((ip): ip is string => ip !== undefined);
  return all.find((ip) => !ip.includes(':')) ?? all[0];
}

function withValid(labels: Record<string, string>, key: string, value: string | undefined): void {
  if (value !== undefined && value !== '' && isValidLabel(key, value)) labels[key] = value;
}

function nodeInput(
  name: string,
  address: string,
  role: MesosRole,
  labels: Record<string, string>,
  ctx: Context,
) {
  return {
    kind: 'Node' as const,
    name,
    labels: { [SOURCE_LABEL]: ctx.sourceName, [MESOS_ROLE_LABEL]: role, ...labels },
    spec: { address },
  };
}

/** Masters in Mesos-DNS `masterRecord` order: listed ones first (duplicates skipped), an unlisted leader last. */
function masterNodes(input: ConvertInput, ctx: Context): ObjectInput<'Node'>[] {
  const leaderHp = parsePid(input.state.leader);
  if (leaderHp === undefined) return [];
  const leaderKey = formatHostPort(leaderHp);
  const leaderAddress = addressOf(leaderHp.host, ctx);
  const seen = new Set(leaderAddress === undefined ? [] : [leaderAddress]);
  const out: ObjectInput<'Node'>[] = [];
  const add = (host: string, port: number, leader: boolean): void => {
    const address = addressOf(host, ctx);
    if (address === undefined) {
      ctx.problems.push(`master ${formatHostPort({ host, port })}: no address for "${host}"`);
      return;
    }
    const labels: Record<string, string> = {
      [MESOS_PORT_LABEL]: String(port),
      [MESOS_MASTER_INDEX_LABEL]: String(out.length),
    };
    if (leader) labels[MESOS_LEADER_LABEL] = 'true';
    out.push(nodeInput(objectNameFor(`mesos-master-${host}-${port}`), address, 'master', labels, ctx));
  };
  let leaderListed = false;
  for (const entry of input.masters) {
    const hp = parseHostPort(entry);
    if (hp === undefined) continue;
    const isLeader = formatHostPort(hp) === leaderKey;
    if (isLeader ? leaderListed : seen.has(addressOf(hp.host, ctx) ?? '')) continue;
    if (!isLeader) seen.add(addressOf(hp.host, ctx) ?? '');
    leaderListed ||= isLeader;
    add(hp.host, hp.port, isLeader);
  }
  if (!leaderListed) add(leaderHp.host, leaderHp.port, true);
  return out;
}

interface AgentInfo {
  readonly name: string;
  readonly address: string;
}

function agentNodes(state: MesosState, ctx: Context, agents: Map<string, AgentInfo>): ObjectInput<'Node'>[] {
  const out: ObjectInput<'Node'>[] = [];
  for (const agent of state.agents) {
    const hp = parsePid(agent.pid);
    const address = hp === undefined ? undefined : addressOf(hp.host, ctx);
    if (hp === undefined || address === undefined) {
      ctx.problems.push(
        `agent ${agent.id}: no address in pid ${JSON.stringify(agent.pid)}; its tasks are skipped`,
      );
      continue;
    }
    const name = objectNameFor(agent.id, { keepTail: true });
    const labels: Record<string, string> = { [MESOS_PORT_LABEL]: String(hp.port) };
    withValid(labels, MESOS_ID_LABEL, agent.id);
    agents.set(agent.id, { name, address });
    out.push(nodeInput(name, address, 'agent', labels, ctx));
  }
  return out;
}

/** A Node per framework whose scheduler has an address (Mesos-DNS `<fw>.<domain>`, `_framework._tcp`). */
function frameworkNodes(state: MesosState, ctx: Context): ObjectInput<'Node'>[] {
  const out: ObjectInput<'Node'>[] = [];
  for (const f of state.frameworks) {
    const fragment = mesosDomainFrag(f.name);
    const hp = f.pid === undefined ? undefined : parsePid(f.pid);
    const host = hp?.host ?? f.hostname;
    const address = host === undefined ? undefined : addressOf(host, ctx);
    if (fragment === '' || address === undefined) continue;
    const labels: Record<string, string> = {};
    withValid(labels, MESOS_FRAMEWORK_LABEL, fragment);
    withValid(labels, MESOS_ID_LABEL, f.id);
    if (hp !== undefined) labels[MESOS_PORT_LABEL] = String(hp.port);
    out.push(nodeInput(objectNameFor(`mesos-framework-${f.id}`), address, 'framework', labels, ctx));
  }
  return out;
}

function taskLabels(task: MesosTask, f: MesosFramework, ctx: Context): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const l of task.labels) {
    if (l.key.startsWith('switchyard.io/') || l.key in labels) continue;
    withValid(labels, l.key, l.value);
  }
  withValid(labels, MESOS_FRAMEWORK_LABEL, mesosDomainFrag(f.name));
  withValid(labels, MESOS_FRAMEWORK_ID_LABEL, f.id);
  labels[SOURCE_LABEL] = ctx.sourceName;
  return labels;
}

function taskInput(
  task: MesosTask,
  f: MesosFramework,
  agent: AgentInfo,
  ctx: Context,
): ObjectInput<'Task'> | undefined {
  const app = appFromHostname(task.discovery?.name ?? task.name) || appFromHostname(task.id);
  const framework = mesosLabel(f.name);
  if (app === '' || framework === '') {
    ctx.problems.push(`task ${task.id}: no usable ${app === '' ? 'name' : 'framework name'}; skipped`);
    return undefined;
  }
  let state = taskState(task.state);
  if (state === undefined) {
    ctx.problems.push(`task ${task.id}: unknown state ${task.state}, written as lost`);
    state = 'lost';
  }
  const ips = taskIps(task, ctx.ipSources, agent.address);
  const ports = taskPorts(task, ctx.problems);
  const networkMode = networkModeFor(task, ips, ports);
  const spec: TaskSpec = {
    id: task.id,
    app,
    framework,
    node: agent.name,
    state,
    health: taskHealth(task.statuses),
    networkMode,
    ips: networkMode === 'ip-per-container' ? [...ips.ips] : [],
    ports,
  };
  const startedAt = taskStartedAt(task.statuses);
  if (startedAt !== undefined) spec.startedAt = startedAt;
  return {
    kind: 'Task',
    name: objectNameFor(task.id),
    namespace: ctx.namespace,
    labels: taskLabels(task, f, ctx),
    spec,
  };
}

function taskInputs(state: MesosState, agents: Map<string, AgentInfo>, ctx: Context): ObjectInput<'Task'>[] {
  const out: { task: ObjectInput<'Task'>; frameworkId: string }[] = [];
  for (const f of state.frameworks) {
    for (const task of f.tasks) {
      const agent = agents.get(task.agentId);
      if (agent === undefined) {
        ctx.problems.push(`task ${task.id}: agent ${task.agentId} is not in the state; skipped`);
        continue;
      }
      const input = taskInput(task, f, agent, ctx);
      if (input !== undefined) out.push({ task: input, frameworkId: f.id });
    }
  }
  // Task ids are unique per framework only: tasks sharing a name are named `<framework id>.<task id>`.
  const count = new Map<string, number>();
  for (const { task } of out) count.set(task.name, (count.get(task.name) ?? 0) + 1);
  return out.map(({ task, frameworkId }) =>
    (count.get(task.name) ?? 0) > 1
      ? { ...task, name: objectNameFor(`${frameworkId}.${task.spec.id ?? task.name}`) }
      : task,
  );
}

function dropDuplicateNames<T extends ObjectInput>(objects: T[], ctx: Context): T[] {
  const seen = new Set<string>();
  return objects.filter((o) => {
    const key = `${o.kind}/${o.namespace ?? ''}/${o.name}`;
    if (!seen.has(key)) return seen.add(key);
    ctx.problems.push(`${o.kind} ${o.name}: a second object with this name was dropped`);
    return false;
  });
}

/** The full desired set for one Mesos state. Pure; see the file comment. */
export function convertMesosState(input: ConvertInput, options: ConvertOptions = {}): Conversion {
  const ctx: Context = {
    resolved: input.resolved ?? {},
    ipSources: options.ipSources ?? DEFAULT_IP_SOURCES,
    sourceName: options.sourceName ?? DEFAULT_SOURCE_NAME,
    namespace: options.namespace ?? DEFAULT_NAMESPACE,
    problems: [...input.state.skipped],
  };
  const agents = new Map<string, AgentInfo>();
  const nodes = dropDuplicateNames(
    [
      ...masterNodes(input, ctx),
      ...agentNodes(input.state, ctx, agents),
      ...frameworkNodes(input.state, ctx),
    ],
    ctx,
  );
  const tasks = dropDuplicateNames(taskInputs(input.state, agents, ctx), ctx);
  return { objects: [...nodes, ...tasks], problems: ctx.problems };
}
