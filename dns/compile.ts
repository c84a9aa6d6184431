import type { StoredObject } from '../state';
import { objectKey } from '../state';
import { compileNameAnswers, encodeNegativeTail, type NameAnswers } from './answers';
import { LayeredMap } from './layered-map';
import { pickNetwork, resolveZoneOptions, zoneDomains, type ZoneOptions } from './options';
import {
  apexRecords,
  masterRecords,
  nodeRecords,
  serviceRecords,
  soaRecord,
  taskRecords,
  isTaskPublished,
  type Endpoint,
  type Generated,
  type RecordContext,
  type ZoneDomains,
} from './records';
import { serviceSelectsTask } from '../state';
import { recordText, type ResourceRecord } from './wire';
import { CompiledZone, apexOf, sortedApexes, type OwnedRecord, type ZoneState } from './zone';
import { IndexStaging, srvTargets } from './staging';

/** Plain arrays of state objects, as a list call or an informer cache returns them. */
export interface ZoneSnapshot {
  readonly tasks: readonly StoredObject[];
  readonly services: readonly StoredObject[];
  readonly nodes: readonly StoredObject[];
  readonly networks: readonly StoredObject[];
  /** The store revision the snapshot reflects (the SOA serial); default: the highest object revision. */
  readonly revision?: number;
  readonly options?: ZoneOptions;
}

export interface ZoneChange {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: StoredObject;
}

const APEX_OWNER = '#apex';
const MASTERS_OWNER = '#masters';
const OWNED_KINDS = new Set(['Task', 'Service', 'Node']);

function emptyState(
  options: ZoneOptions | undefined,
  networks: ReadonlyMap<string, StoredObject<'Network'>>,
): ZoneState {
  const resolved = resolveZoneOptions(options);
  const network = pickNetwork([...networks.values()]);
  return {
    options: resolved,
    optionsKey: JSON.stringify(resolved),
    networks,
    network,
    domains: zoneDomains(network, resolved),
    objects: LayeredMap.empty(),
    tasksByNode: LayeredMap.empty(),
    headless: new Map(),
    owned: LayeredMap.empty(),
    problems: LayeredMap.empty(),
    byName: LayeredMap.empty(),
    srvRefs: LayeredMap.empty(),
    answers: LayeredMap.empty(),
    ents: LayeredMap.empty(),
    negativeTails: new Map(),
    recordCount: 0,
    revision: 0,
  };
}

function networkMap(networks: Iterable<StoredObject>): Map<string, StoredObject<'Network'>> {
  const out = new Map<string, StoredObject<'Network'>>();
  for (const n of networks) if (n.kind === 'Network') out.set(objectKey(n), n as StoredObject<'Network'>);
  return out;
}

function maxRevision(objects: Iterable<StoredObject>): number {
  let max = 0;
  for (const o of objects) max = Math.max(max, o.revision);
  return max;
}

/**
 * Compile a snapshot into an immutable zone. With `prev` (compiled with the same options and the
 * same DNS settings), only objects whose revision moved are regenerated, and only the names
 * their records touch are re-encoded; otherwise everything is compiled from scratch.
 */
export function compileZone(snapshot: ZoneSnapshot, prev?: CompiledZone): CompiledZone {
  const networks = networkMap(snapshot.networks);
  const fresh = emptyState(snapshot.options, networks);
  const owned = [...snapshot.tasks, ...snapshot.services, ...snapshot.nodes].filter((o) =>
    OWNED_KINDS.has(o.kind),
  );
  const revision = snapshot.revision ?? Math.max(maxRevision(owned), maxRevision(networks.values()));
  if (prev !== undefined && sameConfiguration(prev.state, fresh)) {
    const changes = new Map<string, StoredObject | undefined>();
    const seen = new Set<string>();
    for (const object of owned) {
      const key = objectKey(object);
      seen.add(key);
      if (prev.state.objects.get(key)?.revision !== object.revision) changes.set(key, object);
    }
    for (const key of prev.state.objects.keys()) if (!seen.has(key)) changes.set(key, undefined);
    return new CompiledZone(applyChanges({ ...prev.state, networks }, changes, revision, false));
  }
  const changes = new Map<string, StoredObject | undefined>(owned.map((o) => [objectKey(o), o]));
  return new CompiledZone(applyChanges(fresh, changes, revision, true));
}

/**
 * Apply watch events to a zone: the incremental path the feeder uses. A change to the Network
 * object that moves the DNS settings recompiles everything; any other change touches only the
 * names of the objects involved (and of the objects that depend on them).
 */
export function updateZone(
  prev: CompiledZone,
  events: readonly ZoneChange[],
  revision?: number,
): CompiledZone {
  const changes = new Map<string, StoredObject | undefined>();
  const networks = new Map(prev.state.networks);
  let networksChanged = false;
  for (const { type, object } of events) {
    const key = objectKey(object);
    if (object.kind === 'Network') {
      networksChanged = true;
      if (type === 'DELETED') networks.delete(key);
      else networks.set(key, object as StoredObject<'Network'>);
    } else if (OWNED_KINDS.has(object.kind)) {
      changes.set(key, type === 'DELETED' ? undefined : object);
    }
  }
  const nextRevision = revision ?? Math.max(prev.revision, ...events.map((e) => e.object.revision));
  const network = pickNetwork([...networks.values()]);
  if (networksChanged) {
    const retuned: ZoneState = {
      ...emptyState(undefined, networks),
      options: prev.state.options,
      optionsKey: prev.state.optionsKey,
    };
    const withDomains: ZoneState = { ...retuned, domains: zoneDomains(network, prev.state.options) };
    if (!sameConfiguration(prev.state, withDomains)) {
      const all = new Map<string, StoredObject | undefined>(prev.state.objects.entries());
      for (const [key, value] of changes) all.set(key, value);
      for (const [key, value] of all) if (value === undefined) all.delete(key);
      return new CompiledZone(applyChanges(withDomains, all, nextRevision, true));
    }
  }
  return new CompiledZone(applyChanges({ ...prev.state, networks, network }, changes, nextRevision, false));
}

function sameConfiguration(a: ZoneState, b: ZoneState): boolean {
  return a.optionsKey === b.optionsKey && JSON.stringify(a.domains) === JSON.stringify(b.domains);
}

function recordContext(state: ZoneState, domains: ZoneDomains, serial: number): RecordContext {
  const o = state.options;
  return {
    domains,
    ttl: o.ttl,
    labelSpec: o.labelSpec,
    publish: o.publish,
    srvWeight: o.srvWeight,
    legacyNames: o.legacyNames,
    defaultVipFramework: o.defaultVipFramework,
    masters: o.masters,
    nameserverAddresses: o.nameserverAddresses,
    serial,
  };
}

interface Indexes {
  readonly objects: LayeredMap<string, StoredObject>;
  readonly tasksByNode: IndexStaging;
  readonly headless: ReadonlyMap<string, StoredObject<'Service'>>;
}

function nodeOf(
  objects: LayeredMap<string, StoredObject>,
  task: StoredObject<'Task'>,
): StoredObject<'Node'> | undefined {
  return objects.get(objectKey({ kind: 'Node', name: task.spec.node })) as StoredObject<'Node'> | undefined;
}

function endpointsOf(service: StoredObject<'Service'>, indexes: Indexes, ctx: RecordContext): Endpoint[] {
  const out: Endpoint[] = [];
  // Scans the tasks: only headless services need endpoints, and they are rare (see README Limitations).
  for (const [, object] of indexes.objects.entries()) {
    if (object.kind !== 'Task') continue;
    const task = object as StoredObject<'Task'>;
    if (serviceSelectsTask(service, task) && isTaskPublished(task, ctx.publish))
      out.push({ task, node: nodeOf(indexes.objects, task) });
  }
  return out.sort((a, b) => a.task.name.localeCompare(b.task.name));
}

function generate(owner: string, indexes: Indexes, ctx: RecordContext): Generated {
  if (owner === APEX_OWNER) return apexRecords(ctx);
  if (owner === MASTERS_OWNER) return masterRecords(ctx);
  const object = indexes.objects.get(owner);
  if (object === undefined) return { records: [], problems: [] };
  if (object.kind === 'Task')
    return taskRecords(
      object as StoredObject<'Task'>,
      nodeOf(indexes.objects, object as StoredObject<'Task'>),
      ctx,
    );
  if (object.kind === 'Node') return nodeRecords(object as StoredObject<'Node'>, ctx);
  const service = object as StoredObject<'Service'>;
  return serviceRecords(
    service,
    service.spec.headless === true ? endpointsOf(service, indexes, ctx) : [],
    ctx,
  );
}

/** Owners whose records may change: the changed objects, tasks on changed nodes, headless services selecting changed tasks. */
function affectedOwners(
  prev: ZoneState,
  changes: ReadonlyMap<string, StoredObject | undefined>,
  indexes: Indexes,
): Set<string> {
  const owners = new Set<string>([APEX_OWNER]);
  const tasks: Array<[StoredObject<'Task'> | undefined, StoredObject<'Task'> | undefined]> = [];
  for (const [key, next] of changes) {
    owners.add(key);
    const before = prev.objects.get(key);
    const kind = (next ?? before)?.kind;
    if (kind === 'Task')
      tasks.push([before as StoredObject<'Task'> | undefined, next as StoredObject<'Task'> | undefined]);
    if (kind !== 'Node') continue;
    const name = (next ?? before)?.name as string;
    for (const taskKey of [...(prev.tasksByNode.get(name) ?? []), ...indexes.tasksByNode.current(name)]) {
      if (owners.has(taskKey)) continue;
      owners.add(taskKey);
      const task = indexes.objects.get(taskKey) as StoredObject<'Task'> | undefined;
      tasks.push([task, task]);
    }
  }
  for (const service of new Set([...prev.headless.values(), ...indexes.headless.values()])) {
    const key = objectKey(service);
    if (owners.has(key)) continue;
    if (
      tasks.some(
        ([a, b]) =>
          (a !== undefined && serviceSelectsTask(service, a)) ||
          (b !== undefined && serviceSelectsTask(service, b)),
      )
    )
      owners.add(key);
  }
  return owners;
}

function updateIndexes(prev: ZoneState, changes: ReadonlyMap<string, StoredObject | undefined>): Indexes {
  const objects = prev.objects.update(changes);
  const tasksByNode = new IndexStaging(prev.tasksByNode);
  let headless = prev.headless;
  for (const [key, next] of changes) {
    const before = prev.objects.get(key);
    if (before?.kind === 'Task') tasksByNode.remove((before as StoredObject<'Task'>).spec.node, key);
    if (next?.kind === 'Task') tasksByNode.add((next as StoredObject<'Task'>).spec.node, key);
    if (before?.kind === 'Service' || next?.kind === 'Service') {
      const copy = new Map(headless);
      if (next !== undefined && (next as StoredObject<'Service'>).spec.headless === true)
        copy.set(key, next as StoredObject<'Service'>);
      else copy.delete(key);
      headless = copy;
    }
  }
  return { objects, tasksByNode, headless };
}

function sameRecords(a: readonly ResourceRecord[], b: readonly ResourceRecord[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((r, i) => recordText(r) === recordText(b[i] as ResourceRecord));
}

function applyChanges(
  prev: ZoneState,
  changes: ReadonlyMap<string, StoredObject | undefined>,
  revision: number,
  full: boolean,
): ZoneState {
  const indexes = updateIndexes(prev, changes);
  const owners = full
    ? new Set([APEX_OWNER, MASTERS_OWNER, ...changes.keys()])
    : affectedOwners(prev, changes, indexes);
  const ctx = recordContext(prev, prev.domains, revision);
  const ownedChanges = new Map<string, readonly ResourceRecord[] | undefined>();
  const problemChanges = new Map<string, readonly string[] | undefined>();
  const names = new Map<string, OwnedRecord[]>();
  let recordCount = prev.recordCount;
  for (const owner of owners) {
    const generated = generate(owner, indexes, ctx);
    const before = prev.owned.get(owner) ?? [];
    if ((prev.problems.get(owner) ?? []).join() !== generated.problems.join()) {
      problemChanges.set(owner, generated.problems.length > 0 ? generated.problems : undefined);
    }
    if (sameRecords(before, generated.records)) continue;
    ownedChanges.set(owner, generated.records.length > 0 ? generated.records : undefined);
    recordCount += generated.records.length - before.length;
    const touched = new Set([...before.map((r) => r.name), ...generated.records.map((r) => r.name)]);
    for (const name of touched) {
      const list = (names.get(name) ?? prev.byName.get(name) ?? []).filter((o) => o.owner !== owner);
      for (const record of generated.records) if (record.name === name) list.push({ owner, record });
      names.set(name, list);
    }
  }
  return finishState(prev, indexes, { ownedChanges, problemChanges, names, recordCount, revision, ctx });
}

interface Pending {
  readonly ownedChanges: ReadonlyMap<string, readonly ResourceRecord[] | undefined>;
  readonly problemChanges: ReadonlyMap<string, readonly string[] | undefined>;
  readonly names: ReadonlyMap<string, OwnedRecord[]>;
  readonly recordCount: number;
  readonly revision: number;
  readonly ctx: RecordContext;
}

function finishState(prev: ZoneState, indexes: Indexes, pending: Pending): ZoneState {
  const byNameChanges = new Map<string, readonly OwnedRecord[] | undefined>();
  for (const [name, list] of pending.names) byNameChanges.set(name, list.length > 0 ? list : undefined);
  const byName = prev.byName.update(byNameChanges);
  const refs = new IndexStaging(prev.srvRefs);
  for (const [name, list] of pending.names) {
    const before = srvTargets(prev.byName.get(name));
    const after = srvTargets(list);
    for (const target of before) if (!after.has(target)) refs.remove(target, name);
    for (const target of after) if (!before.has(target)) refs.add(target, name);
  }
  const srvRefs = refs.commit();
  const rebuild = new Set(pending.names.keys());
  for (const name of pending.names.keys()) for (const ref of srvRefs.get(name) ?? []) rebuild.add(ref);
  const addressesOf = (target: string): ResourceRecord[] =>
    (byName.get(target) ?? [])
      .map((o) => o.record)
      .filter((r) => r.data.type === 'A' || r.data.type === 'AAAA');
  const answerChanges = new Map<string, NameAnswers | undefined>();
  for (const name of rebuild) {
    const list = byName.get(name);
    answerChanges.set(
      name,
      list === undefined
        ? undefined
        : compileNameAnswers(
            name,
            list.map((o) => o.record),
            addressesOf,
            prev.options.recursionAvailable,
          ),
    );
  }
  const apexes = sortedApexes(prev.domains);
  const negativeTails = new Map(
    apexes.map((apex) => [apex, encodeNegativeTail(soaRecord(apex, pending.ctx))]),
  );
  return {
    ...prev,
    objects: indexes.objects,
    tasksByNode: indexes.tasksByNode.commit(),
    headless: indexes.headless,
    owned: prev.owned.update(pending.ownedChanges),
    problems: prev.problems.update(pending.problemChanges),
    byName,
    srvRefs,
    answers: prev.answers.update(answerChanges),
    ents: updateEmptyNonTerminals(prev, byName, pending.names.keys(), apexes),
    negativeTails,
    recordCount: pending.recordCount,
    revision: pending.revision,
  };
}

/** Count, for every ancestor inside a zone, how many existing names lie below it (RFC 8020: such names are NODATA, not NXDOMAIN). */
function updateEmptyNonTerminals(
  prev: ZoneState,
  byName: LayeredMap<string, readonly OwnedRecord[]>,
  touched: Iterable<string>,
  apexes: readonly string[],
): LayeredMap<string, number> {
  const delta = new Map<string, number>();
  for (const name of touched) {
    const change = (byName.has(name) ? 1 : 0) - (prev.byName.has(name) ? 1 : 0);
    const apex = apexOf(name, apexes);
    if (change === 0 || apex === undefined) continue;
    for (let at = name.indexOf('.'); at >= 0; at = name.indexOf('.', at + 1)) {
      const ancestor = name.slice(at + 1);
      if (ancestor.length <= apex.length) break;
      delta.set(ancestor, (delta.get(ancestor) ?? 0) + change);
    }
  }
  const changes = new Map<string, number | undefined>();
  for (const [ancestor, d] of delta) {
    const count = (prev.ents.get(ancestor) ?? 0) + d;
    changes.set(ancestor, count > 0 ? count : undefined);
  }
  return prev.ents.update(changes);
}
