import type { StoredObject } from '../state';
import { DEFAULT_NAMESPACE, objectKey, serviceSelectsTask } from '../state';
import type { ResolvedZoneOptions } from './options';
import {
  apexRecords,
  isTaskPublished,
  isVipPublished,
  masterRecords,
  mastersFromNodes,
  nodeRecords,
  serviceRecords,
  taskRecords,
  vipRecords,
  type Endpoint,
  type Generated,
  type RecordContext,
  type ZoneDomains,
} from './records';

/**
 * Records per owner: an owner is a state object (by its key) or one of the synthetic owners
 * (the apex records, the masters). Shared by the full and the incremental compile, which hand in
 * their own view of the objects and indexes.
 */
export const APEX_OWNER = '#apex';
export const MASTERS_OWNER = '#masters';
/** The selector key of headless services no index can narrow: their endpoints come from a scan. */
export const SCAN_KEY = '*';

export interface OwnerView {
  object(key: string): StoredObject | undefined;
  /** Task keys filed under a selector key (see `taskSelectorKeys`). */
  tasksWithKey(key: string): Iterable<string>;
  /** Every task: only for headless services filed under `SCAN_KEY`. */
  allTasks(): Iterable<StoredObject>;
  /** Keys of the VIP objects that list this Service (by key) among their owners. */
  vipsOfService(serviceKey: string): Iterable<string>;
  /** Keys of the Nodes labelled `switchyard.io/mesos-role=master`. */
  masterNodes(): Iterable<string>;
}

/** The key under which `nodesByRole` files master Nodes. */
export const MASTER_ROLE_KEY = 'master';

/** The keys of the Services among a VIP object's owners (the services whose name answers its address). */
export function vipServiceKeys(vip: StoredObject<'VIP'>): string[] {
  return vip.spec.owners
    .filter((o) => o.kind === 'service')
    .map((o) => objectKey({ kind: 'Service', namespace: o.namespace, name: o.name }));
}

/** The address a Service without an explicit `spec.vip.address` answers: its VIP object's (lowest key first). */
function allocatedAddress(serviceKey: string, view: OwnerView): string | undefined {
  const keys = [...view.vipsOfService(serviceKey)].sort();
  for (const key of keys) {
    const vip = view.object(key);
    if (vip?.kind === 'VIP' && isVipPublished(vip as StoredObject<'VIP'>))
      return (vip as StoredObject<'VIP'>).spec.address;
  }
  return undefined;
}

export function recordContext(o: ResolvedZoneOptions, domains: ZoneDomains, serial: number): RecordContext {
  return {
    domains,
    ttl: o.ttl,
    labelSpec: o.labelSpec,
    publish: o.publish,
    srvWeight: o.srvWeight,
    legacyNames: o.legacyNames,
    masters: o.masters,
    nameserverAddresses: o.nameserverAddresses,
    serial,
    memo: new Map(),
  };
}

function appKey(namespace: string | undefined, app: string): string {
  const stripped = app.charCodeAt(0) === 47 /* '/' */ ? app.replace(/^\/+/, '') : app;
  return `${namespace ?? DEFAULT_NAMESPACE}\0app\0${stripped}`;
}

function labelKey(namespace: string | undefined, key: string, value: string): string {
  return `${namespace ?? DEFAULT_NAMESPACE}\0label\0${key}=${value}`;
}

/** The keys a task is filed under: its app, and each of its labels. */
export function taskSelectorKeys(task: StoredObject<'Task'>): string[] {
  const keys = [appKey(task.namespace, task.spec.app)];
  for (const [key, value] of Object.entries(task.labels)) keys.push(labelKey(task.namespace, key, value));
  return keys;
}

/**
 * The keys a headless service is filed under, narrowest first: its app; else one matchLabels
 * pair; else the values of one `In` expression; else `SCAN_KEY`. Every task it selects is filed
 * under at least one of them, so its endpoints are found without scanning every task.
 */
export function serviceSelectorKeys(service: StoredObject<'Service'>): string[] {
  const ns = service.namespace;
  const selector = service.spec.selector;
  if (selector.app !== undefined) return [appKey(ns, selector.app)];
  const pairs = Object.entries(selector.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const first = pairs[0];
  if (first !== undefined) return [labelKey(ns, first[0], first[1])];
  const expression = (selector.matchExpressions ?? []).find(
    (e) => e.operator === 'In' && (e.values?.length ?? 0) > 0,
  );
  if (expression !== undefined) return (expression.values ?? []).map((v) => labelKey(ns, expression.key, v));
  return [SCAN_KEY];
}

function nodeOf(view: OwnerView, task: StoredObject<'Task'>): StoredObject<'Node'> | undefined {
  return view.object(objectKey({ kind: 'Node', name: task.spec.node })) as StoredObject<'Node'> | undefined;
}

function candidateTasks(service: StoredObject<'Service'>, view: OwnerView): Iterable<StoredObject> {
  const keys = serviceSelectorKeys(service);
  if (keys[0] === SCAN_KEY) return view.allTasks();
  const out = new Map<string, StoredObject>();
  for (const key of keys) {
    for (const taskKey of view.tasksWithKey(key)) {
      const task = view.object(taskKey);
      if (task !== undefined) out.set(taskKey, task);
    }
  }
  return out.values();
}

/** The ready endpoints of a headless service, sorted by task name. Cost: O(candidates). */
export function endpointsOf(
  service: StoredObject<'Service'>,
  view: OwnerView,
  ctx: RecordContext,
): Endpoint[] {
  const out: Endpoint[] = [];
  for (const object of candidateTasks(service, view)) {
    if (object.kind !== 'Task') continue;
    const task = object as StoredObject<'Task'>;
    if (serviceSelectsTask(service, task) && isTaskPublished(task, ctx.publish))
      out.push({ task, node: nodeOf(view, task) });
  }
  return out.sort((a, b) => (a.task.name < b.task.name ? -1 : a.task.name > b.task.name ? 1 : 0));
}

export function generate(owner: string, view: OwnerView, ctx: RecordContext): Generated {
  if (owner === APEX_OWNER) return apexRecords(ctx);
  if (owner === MASTERS_OWNER) {
    const nodes: StoredObject<'Node'>[] = [];
    for (const key of view.masterNodes()) {
      const node = view.object(key);
      if (node?.kind === 'Node') nodes.push(node as StoredObject<'Node'>);
    }
    return masterRecords(ctx, mastersFromNodes(nodes));
  }
  const object = view.object(owner);
  if (object === undefined) return { records: [], problems: [] };
  if (object.kind === 'Task') {
    const task = object as StoredObject<'Task'>;
    return taskRecords(task, nodeOf(view, task), ctx);
  }
  if (object.kind === 'Node') return nodeRecords(object as StoredObject<'Node'>, ctx);
  if (object.kind === 'VIP') return vipRecords(object as StoredObject<'VIP'>, ctx);
  const service = object as StoredObject<'Service'>;
  if (service.spec.headless === true) return serviceRecords(service, endpointsOf(service, view, ctx), ctx);
  return serviceRecords(service, [], ctx, allocatedAddress(owner, view));
}
