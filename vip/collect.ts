import {
  DEFAULT_NAMESPACE,
  objectKey,
  serviceSelectsTask,
  type StoredObject,
  type TaskPort,
  type TaskState,
  type VipBackend,
  type VipOwner,
  type VipPort,
} from '../state';
import { VIP_ERROR_CODES, VipError } from './errors';
import { taskVipLabels } from './labels';
import {
  IP_VIP_FRAMEWORK,
  ipVipName,
  objectNameProblem,
  serviceVipFramework,
  vipDnsName,
  vipObjectName,
} from './names';

/**
 * What the owners ask for, VIP by VIP, before any address is chosen: the ports, backends and
 * owners gathered from task port labels and from Services with `spec.vip.name`. Pure; problems
 * are collected, never thrown. Cost: O(tasks × labels + services × their candidate tasks).
 */

export interface CollectSnapshot {
  readonly tasks: readonly StoredObject<'Task'>[];
  readonly services: readonly StoredObject<'Service'>[];
  readonly nodes: readonly StoredObject<'Node'>[];
}

export interface VipDraft {
  /** The object name, `<name>.<framework>`. */
  readonly object: string;
  readonly name: string;
  readonly framework: string;
  /** An address asked for by name, and who asked. */
  explicit?: { readonly address: string; readonly owner: string };
  /** `port/protocol` → the port; `strong` when a Service set the mode (labels have no opinion). */
  readonly ports: Map<string, { port: VipPort; strong: boolean; owner: string }>;
  /** `task port/protocol` → backend. */
  readonly backends: Map<string, VipBackend>;
  readonly owners: Map<string, VipOwner>;
}

/** Tasks whose process is gone: they still own their VIP (the app exists) but serve nothing. */
const TERMINAL: ReadonlySet<TaskState> = new Set<TaskState>(['finished', 'failed', 'killed', 'lost']);

export function collectDrafts(snapshot: CollectSnapshot, problems: VipError[]): Map<string, VipDraft> {
  const drafts = new Map<string, VipDraft>();
  const nodeAddress = new Map(snapshot.nodes.map((n) => [n.name, n.spec.address]));
  const tasks = sortByKey(snapshot.tasks);
  for (const task of tasks) addTask(task, drafts, nodeAddress, problems);
  const index = indexTasks(tasks);
  for (const service of sortByKey(snapshot.services))
    addService(service, index, drafts, nodeAddress, problems);
  return drafts;
}

function addTask(
  task: StoredObject<'Task'>,
  drafts: Map<string, VipDraft>,
  nodeAddress: ReadonlyMap<string, string>,
  problems: VipError[],
): void {
  const owner = objectKey(task);
  const found = taskVipLabels(task, owner);
  problems.push(...found.problems);
  for (const { label, taskPort } of found.labels) {
    const named = label.kind === 'named';
    const name = named ? vipDnsName(label.name) : ipVipName(label.address);
    const draft = draftFor(drafts, name, named ? task.spec.framework : IP_VIP_FRAMEWORK, owner, problems);
    if (draft === undefined) continue;
    if (!named) setExplicit(draft, label.address, owner, problems);
    addPort(draft, { port: label.port, protocol: label.protocol, mode: 'tcp' }, false, owner, problems);
    const namespace = task.namespace ?? DEFAULT_NAMESPACE;
    addOwner(draft, { kind: 'app', namespace, name: task.spec.app, source: label.key });
    const endpoint = endpointOf(task, taskPort, undefined, nodeAddress);
    if (endpoint !== undefined) addBackend(draft, task, label.port, label.protocol, endpoint);
  }
}

interface TaskIndex {
  readonly byNamespace: ReadonlyMap<string, StoredObject<'Task'>[]>;
  readonly byApp: ReadonlyMap<string, StoredObject<'Task'>[]>;
}

function addService(
  service: StoredObject<'Service'>,
  index: TaskIndex,
  drafts: Map<string, VipDraft>,
  nodeAddress: ReadonlyMap<string, string>,
  problems: VipError[],
): void {
  const vip = service.spec.vip;
  if (vip?.name === undefined || service.spec.headless === true) return;
  const owner = objectKey(service);
  const chosen = serviceVipFramework(service);
  if (chosen.problem !== undefined) problems.push(badName(`${owner}: ${chosen.problem}`, owner));
  const draft = draftFor(drafts, vipDnsName(vip.name), chosen.framework, owner, problems);
  if (draft === undefined) return;
  if (vip.address !== undefined) setExplicit(draft, vip.address, owner, problems);
  const namespace = service.namespace ?? DEFAULT_NAMESPACE;
  addOwner(draft, { kind: 'service', namespace, name: service.name, source: 'spec.vip' });
  const candidates = candidatesFor(service, index).filter((task) => serviceSelectsTask(service, task));
  for (const sp of service.spec.ports) {
    addPort(draft, { port: sp.port, protocol: sp.protocol, mode: sp.mode ?? 'tcp' }, true, owner, problems);
    const target = sp.targetPort ?? sp.port;
    for (const task of candidates) {
      const taskPort = task.spec.ports.find((p) =>
        typeof target === 'string'
          ? p.name === target
          : p.containerPort === target && p.protocol === sp.protocol,
      );
      const fallback = typeof target === 'number' ? target : undefined;
      const endpoint = endpointOf(task, taskPort, fallback, nodeAddress);
      if (endpoint !== undefined) addBackend(draft, task, sp.port, sp.protocol, endpoint);
    }
  }
}

/** The draft for (name, framework), created on first use; undefined (with a problem) if unusable. */
function draftFor(
  drafts: Map<string, VipDraft>,
  name: string,
  framework: string,
  owner: string,
  problems: VipError[],
): VipDraft | undefined {
  const nameProblem = objectNameProblem(name, framework);
  if (nameProblem !== undefined) {
    problems.push(badName(`${owner}: the VIP name ${JSON.stringify(name)} ${nameProblem}`, owner));
    return undefined;
  }
  const object = vipObjectName(name, framework);
  const draft = drafts.get(object);
  if (draft === undefined) {
    const created: VipDraft = {
      object,
      name,
      framework,
      ports: new Map(),
      backends: new Map(),
      owners: new Map(),
    };
    drafts.set(object, created);
    return created;
  }
  if (draft.name === name && draft.framework === framework) return draft;
  const reason = `VIP ${JSON.stringify(name)} of framework ${JSON.stringify(framework)} and VIP ${JSON.stringify(draft.name)} of framework ${JSON.stringify(draft.framework)} both make the object name ${object}; rename one`;
  problems.push(badName(`${owner}: ${reason}`, owner, object));
  return undefined;
}

function setExplicit(draft: VipDraft, address: string, owner: string, problems: VipError[]): void {
  if (draft.explicit === undefined) {
    draft.explicit = { address, owner };
  } else if (draft.explicit.address !== address) {
    const reason = `asks for address ${address}, but ${draft.explicit.owner} already asked for ${draft.explicit.address}; keeping ${draft.explicit.address}`;
    problems.push(
      new VipError(VIP_ERROR_CODES.ADDRESS_CONFLICT, `VIP ${draft.object}: ${owner} ${reason}`, {
        reason,
        details: { owner, vip: draft.object, conflictsWith: draft.explicit.owner },
      }),
    );
  }
}

function addPort(draft: VipDraft, port: VipPort, strong: boolean, owner: string, problems: VipError[]): void {
  const key = `${port.port}/${port.protocol}`;
  const existing = draft.ports.get(key);
  if (existing === undefined || (strong && !existing.strong)) {
    draft.ports.set(key, { port, strong, owner });
  } else if (strong && existing.port.mode !== port.mode) {
    const reason = `gives port ${key} mode ${port.mode}, but ${existing.owner} gives it mode ${existing.port.mode}; keeping ${existing.port.mode}`;
    problems.push(
      new VipError(VIP_ERROR_CODES.PORT_CONFLICT, `VIP ${draft.object}: ${owner} ${reason}`, {
        reason,
        details: { owner, vip: draft.object, conflictsWith: existing.owner },
      }),
    );
  }
}

function addOwner(draft: VipDraft, owner: VipOwner): void {
  draft.owners.set(`${owner.kind}\0${owner.namespace}\0${owner.name}\0${owner.source}`, owner);
}

function addBackend(
  draft: VipDraft,
  task: StoredObject<'Task'>,
  vipPort: number,
  protocol: VipPort['protocol'],
  endpoint: { address: string; port: number },
): void {
  if (TERMINAL.has(task.spec.state)) return;
  const taskKey = objectKey(task);
  // Two labels (or a label and a Service) naming one VIP port on one task: the first one wins.
  const id = `${taskKey} ${vipPort}/${protocol}`;
  if (draft.backends.has(id)) return;
  draft.backends.set(id, { task: taskKey, vipPort, protocol, ...endpoint, weight: weightOf(task) });
}

/** DC/OS l4lb: 1 for running tasks; 0 (no new connections, open ones finish) for the rest. */
function weightOf(task: StoredObject<'Task'>): number {
  const { state, health, draining } = task.spec;
  return state === 'running' && health !== 'unhealthy' && draining !== true ? 1 : 0;
}

/**
 * Where a task port is reached: ip-per-container → the task's first IP and the container port;
 * port-mapped → the node's address and the host port; host → the node's address and the host
 * port (or the container port, which is the host's). Undefined while the address is unknown.
 */
function endpointOf(
  task: StoredObject<'Task'>,
  taskPort: TaskPort | undefined,
  fallbackPort: number | undefined,
  nodeAddress: ReadonlyMap<string, string>,
): { address: string; port: number } | undefined {
  const mode = task.spec.networkMode;
  const port =
    mode === 'ip-per-container'
      ? (taskPort?.containerPort ?? fallbackPort)
      : mode === 'port-mapped'
        ? taskPort?.hostPort
        : (taskPort?.hostPort ?? taskPort?.containerPort ?? fallbackPort);
  const address = mode === 'ip-per-container' ? task.spec.ips[0] : nodeAddress.get(task.spec.node);
  return address === undefined || port === undefined ? undefined : { address, port };
}

function indexTasks(tasks: readonly StoredObject<'Task'>[]): TaskIndex {
  const byNamespace = new Map<string, StoredObject<'Task'>[]>();
  const byApp = new Map<string, StoredObject<'Task'>[]>();
  for (const task of tasks) {
    const namespace = task.namespace ?? DEFAULT_NAMESPACE;
    push(byNamespace, namespace, task);
    push(byApp, `${namespace}\0${stripSlashes(task.spec.app)}`, task);
  }
  return { byNamespace, byApp };
}

/** The tasks a service could select: its namespace's, narrowed to its app when it names one. */
function candidatesFor(service: StoredObject<'Service'>, index: TaskIndex): StoredObject<'Task'>[] {
  const namespace = service.namespace ?? DEFAULT_NAMESPACE;
  const app = service.spec.selector.app;
  if (app !== undefined) return index.byApp.get(`${namespace}\0${stripSlashes(app)}`) ?? [];
  return index.byNamespace.get(namespace) ?? [];
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function stripSlashes(app: string): string {
  return app.replace(/^\/+/, '');
}

function badName(message: string, owner: string, vip?: string): VipError {
  return new VipError(VIP_ERROR_CODES.BAD_NAME, message, {
    details: vip === undefined ? { owner } : { owner, vip },
  });
}

function sortByKey<T extends StoredObject>(objects: readonly T[]): T[] {
  return objects
    .map((o) => [objectKey(o), o] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, o]) => o);
}
