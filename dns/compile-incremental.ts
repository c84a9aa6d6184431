import type { StoredObject } from '../state';
import { serviceSelectsTask } from '../state';
import { AnswerSlab, compileNameAnswers, encodeNegativeTail, type NameAnswers } from './answers';
import {
  APEX_OWNER,
  MASTERS_OWNER,
  MASTER_ROLE_KEY,
  SCAN_KEY,
  generate,
  recordContext,
  serviceSelectorKeys,
  taskSelectorKeys,
  vipServiceKeys,
  type OwnerView,
} from './owners';
import type { KeyIndex, KeySet, PersistentMap } from './persistent-map';
import { isMasterNode, soaRecord, type RecordContext } from './records';
import { IndexStaging, members, srvTargets, toKeySet } from './staging';
import { recordText, type ResourceRecord } from './wire';
import { apexOf, recordsAt, sortedApexes, type ZoneState } from './zone';

/**
 * The incremental compile: regenerate only the owners a change can affect (the changed objects,
 * the tasks on a changed node, the headless services whose selector keys a changed task is filed
 * under), re-encode only the names their records touch plus the SRV names pointing at those
 * names, and adjust the empty non-terminal counts. Every map is persistent, so the cost is
 * O(touched · log n) and the previous state is left as it was.
 */
type Changes = ReadonlyMap<string, StoredObject | undefined>;

interface Staged {
  readonly objects: PersistentMap<StoredObject>;
  readonly tasksByNode: IndexStaging;
  readonly tasksBySelector: IndexStaging;
  readonly headlessBySelector: IndexStaging;
  readonly vipsByService: IndexStaging;
  readonly nodesByRole: IndexStaging;
}

function stageIndexes(prev: ZoneState, changes: Changes): Staged {
  const staged: Staged = {
    objects: prev.objects.update(changes),
    tasksByNode: new IndexStaging(prev.tasksByNode),
    tasksBySelector: new IndexStaging(prev.tasksBySelector),
    headlessBySelector: new IndexStaging(prev.headlessBySelector),
    vipsByService: new IndexStaging(prev.vipsByService),
    nodesByRole: new IndexStaging(prev.nodesByRole),
  };
  for (const [key, next] of changes) {
    const before = prev.objects.get(key);
    for (const object of [before, next]) {
      if (object === undefined) continue;
      const file = object === next ? 'add' : 'remove';
      if (object.kind === 'Task') {
        const task = object as StoredObject<'Task'>;
        staged.tasksByNode[file](task.spec.node, key);
        for (const k of taskSelectorKeys(task)) staged.tasksBySelector[file](k, key);
      } else if (object.kind === 'Service' && (object as StoredObject<'Service'>).spec.headless === true) {
        for (const k of serviceSelectorKeys(object as StoredObject<'Service'>))
          staged.headlessBySelector[file](k, key);
      } else if (object.kind === 'VIP') {
        for (const k of vipServiceKeys(object as StoredObject<'VIP'>)) staged.vipsByService[file](k, key);
      } else if (isMasterNode(object)) {
        staged.nodesByRole[file](MASTER_ROLE_KEY, key);
      }
    }
  }
  return staged;
}

function* tasksOf(objects: PersistentMap<StoredObject>): IterableIterator<StoredObject> {
  for (const [, object] of objects.entries()) if (object.kind === 'Task') yield object;
}

type TaskPair = readonly [StoredObject<'Task'> | undefined, StoredObject<'Task'> | undefined];

/** Headless services that may select one of `tasks` (before or after the change): by selector key, not by scan. */
function headlessFor(prev: ZoneState, staged: Staged, tasks: readonly TaskPair[], owners: Set<string>): void {
  for (const pair of tasks) {
    const keys = new Set([SCAN_KEY]);
    for (const task of pair) if (task !== undefined) for (const k of taskSelectorKeys(task)) keys.add(k);
    const candidates = new Set<string>();
    for (const key of keys) {
      for (const serviceKey of members(prev.headlessBySelector.get(key))) candidates.add(serviceKey);
      for (const serviceKey of staged.headlessBySelector.current(key)) candidates.add(serviceKey);
    }
    for (const serviceKey of candidates) {
      if (owners.has(serviceKey)) continue;
      const service = (staged.objects.get(serviceKey) ??
        prev.objects.get(serviceKey)) as StoredObject<'Service'>;
      if (pair.some((task) => task !== undefined && serviceSelectsTask(service, task)))
        owners.add(serviceKey);
    }
  }
}

/** Owners that read a changed VIP object or master Node: the VIP's Services, the masters. */
function readersOf(pair: readonly [StoredObject | undefined, StoredObject | undefined]): string[] {
  const out: string[] = [];
  for (const object of pair) {
    if (object === undefined) continue;
    if (object.kind === 'VIP') out.push(...vipServiceKeys(object as StoredObject<'VIP'>));
    else if (isMasterNode(object)) out.push(MASTERS_OWNER);
  }
  return out;
}

/**
 * Owners whose records may change: the changed objects, tasks on changed nodes, headless services
 * selecting changed tasks, the Services a changed VIP object names as owners (before or after),
 * and the masters when a master Node changed.
 */
function affectedOwners(prev: ZoneState, changes: Changes, staged: Staged): Set<string> {
  const owners = new Set<string>([APEX_OWNER]);
  const tasks: TaskPair[] = [];
  for (const [key, next] of changes) {
    owners.add(key);
    const before = prev.objects.get(key);
    for (const reader of readersOf([before, next])) owners.add(reader);
    const kind = (next ?? before)?.kind;
    if (kind === 'Task') tasks.push([before, next] as TaskPair);
    if (kind !== 'Node') continue;
    const name = (next ?? before)?.name as string;
    const onNode = [...members(prev.tasksByNode.get(name)), ...staged.tasksByNode.current(name)];
    for (const taskKey of onNode) {
      if (owners.has(taskKey)) continue;
      owners.add(taskKey);
      const task = staged.objects.get(taskKey) as StoredObject<'Task'> | undefined;
      tasks.push([task, task]);
    }
  }
  headlessFor(prev, staged, tasks, owners);
  return owners;
}

function sameRecords(a: readonly ResourceRecord[], b: readonly ResourceRecord[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((r, i) => recordText(r) === recordText(b[i] as ResourceRecord));
}

interface Pending {
  readonly ownedChanges: Map<string, readonly ResourceRecord[] | undefined>;
  readonly problemChanges: Map<string, readonly string[] | undefined>;
  /** Touched name → its owners after the change. */
  readonly names: Map<string, string[]>;
  recordCount: number;
}

function regenerate(
  prev: ZoneState,
  owner: string,
  view: OwnerView,
  ctx: RecordContext,
  pending: Pending,
): void {
  const generated = generate(owner, view, ctx);
  const before = prev.owned.get(owner) ?? [];
  if ((prev.problems.get(owner) ?? []).join() !== generated.problems.join())
    pending.problemChanges.set(owner, generated.problems.length > 0 ? generated.problems : undefined);
  if (sameRecords(before, generated.records)) return;
  pending.ownedChanges.set(owner, generated.records.length > 0 ? generated.records : undefined);
  pending.recordCount += generated.records.length - before.length;
  const after = new Set(generated.records.map((r) => r.name));
  for (const name of new Set([...before.map((r) => r.name), ...after])) {
    const owners = [...(pending.names.get(name) ?? members(prev.byName.get(name)))].filter(
      (o) => o !== owner,
    );
    if (after.has(name)) owners.push(owner);
    pending.names.set(name, owners);
  }
}

export function applyIncremental(prev: ZoneState, changes: Changes, revision: number): ZoneState {
  const staged = stageIndexes(prev, changes);
  const view: OwnerView = {
    object: (key) => staged.objects.get(key),
    tasksWithKey: (key) => staged.tasksBySelector.current(key),
    allTasks: () => tasksOf(staged.objects),
    vipsOfService: (key) => staged.vipsByService.current(key),
    masterNodes: () => staged.nodesByRole.current(MASTER_ROLE_KEY),
  };
  const ctx = recordContext(prev.options, prev.domains, revision);
  const pending: Pending = {
    ownedChanges: new Map(),
    problemChanges: new Map(),
    names: new Map(),
    recordCount: prev.recordCount,
  };
  for (const owner of affectedOwners(prev, changes, staged)) regenerate(prev, owner, view, ctx, pending);
  const byNameChanges = new Map<string, KeySet | undefined>();
  for (const [name, owners] of pending.names) byNameChanges.set(name, toKeySet(owners));
  const next = { owned: prev.owned.update(pending.ownedChanges), byName: prev.byName.update(byNameChanges) };
  const srvRefs = updateSrvRefs(prev, next, pending.names.keys());
  const apexes = sortedApexes(prev.domains);
  return {
    ...prev,
    objects: staged.objects,
    tasksByNode: staged.tasksByNode.commit(),
    tasksBySelector: staged.tasksBySelector.commit(),
    headlessBySelector: staged.headlessBySelector.commit(),
    vipsByService: staged.vipsByService.commit(),
    nodesByRole: staged.nodesByRole.commit(),
    owned: next.owned,
    problems: prev.problems.update(pending.problemChanges),
    byName: next.byName,
    srvRefs,
    answers: prev.answers.update(reencode(prev, next, srvRefs, pending.names.keys())),
    ents: updateEmptyNonTerminals(prev, next.byName, pending.names.keys(), apexes),
    negativeTails: new Map(apexes.map((apex) => [apex, encodeNegativeTail(soaRecord(apex, ctx))])),
    recordCount: pending.recordCount,
    revision,
  };
}

interface Published {
  readonly owned: PersistentMap<readonly ResourceRecord[]>;
  readonly byName: KeyIndex;
}

function updateSrvRefs(prev: ZoneState, next: Published, names: Iterable<string>): KeyIndex {
  const refs = new IndexStaging(prev.srvRefs);
  for (const name of names) {
    const before = srvTargets(recordsAt(prev.owned, prev.byName.get(name), name));
    const after = srvTargets(recordsAt(next.owned, next.byName.get(name), name));
    for (const target of before) if (!after.has(target)) refs.remove(target, name);
    for (const target of after) if (!before.has(target)) refs.add(target, name);
  }
  return refs.commit();
}

/** Answers for the touched names and for the SRV names whose targets are among them. */
function reencode(
  prev: ZoneState,
  next: Published,
  srvRefs: KeyIndex,
  touched: Iterable<string>,
): Map<string, NameAnswers | undefined> {
  const rebuild = new Set<string>();
  for (const name of touched) {
    rebuild.add(name);
    for (const ref of members(srvRefs.get(name))) rebuild.add(ref);
  }
  const addressesOf = (target: string): ResourceRecord[] =>
    recordsAt(next.owned, next.byName.get(target), target).filter(
      (r) => r.data.type === 'A' || r.data.type === 'AAAA',
    );
  const changes = new Map<string, NameAnswers | undefined>();
  const slab = new AnswerSlab(4096);
  for (const name of rebuild) {
    const owners = next.byName.get(name);
    changes.set(
      name,
      owners === undefined
        ? undefined
        : compileNameAnswers(
            name,
            recordsAt(next.owned, owners, name),
            addressesOf,
            prev.options.recursionAvailable,
            slab,
          ),
    );
  }
  slab.seal();
  return changes;
}

/** Adjust, for every ancestor inside a zone, how many names lie below it (RFC 8020). */
function updateEmptyNonTerminals(
  prev: ZoneState,
  byName: KeyIndex,
  touched: Iterable<string>,
  apexes: readonly string[],
): PersistentMap<number> {
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
