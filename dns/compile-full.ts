import type { StoredObject } from '../state';
import { AnswerSlab, compileNameAnswers, encodeNegativeTail, type NameAnswers } from './answers';
import {
  APEX_OWNER,
  MASTERS_OWNER,
  MASTER_ROLE_KEY,
  generate,
  recordContext,
  serviceSelectorKeys,
  taskSelectorKeys,
  vipServiceKeys,
  type OwnerView,
} from './owners';
import { PersistentMap, groupByKey, levelOrder, type KeyIndex, type KeySet } from './persistent-map';
import { isMasterNode, soaRecord } from './records';
import { buildIndex, toKeySet } from './staging';
import type { ResourceRecord } from './wire';
import { apexOf, sortedApexes, type ZoneState } from './zone';

/**
 * The from-scratch compile, in linear passes (no per-change bookkeeping): index the objects,
 * generate every owner's records, group them by name (hash + radix sort, not a million-entry
 * hash table), encode each name once into shared answer blocks, count empty non-terminals, and
 * build the persistent maps the incremental updates start from directly from the sorted groups.
 * Pure: reads its inputs, returns a new state.
 */
function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

interface Built {
  readonly tasksByNode: Map<string, string[]>;
  readonly tasksBySelector: Map<string, string[]>;
  readonly headlessBySelector: Map<string, string[]>;
  readonly vipsByService: Map<string, string[]>;
  readonly nodesByRole: Map<string, string[]>;
}

function buildIndexes(objects: ReadonlyMap<string, StoredObject>): Built {
  const built: Built = {
    tasksByNode: new Map(),
    tasksBySelector: new Map(),
    headlessBySelector: new Map(),
    vipsByService: new Map(),
    nodesByRole: new Map(),
  };
  for (const [key, object] of objects) {
    if (object.kind === 'Task') {
      const task = object as StoredObject<'Task'>;
      push(built.tasksByNode, task.spec.node, key);
      for (const selectorKey of taskSelectorKeys(task)) push(built.tasksBySelector, selectorKey, key);
    } else if (object.kind === 'Service' && (object as StoredObject<'Service'>).spec.headless === true) {
      for (const selectorKey of serviceSelectorKeys(object as StoredObject<'Service'>))
        push(built.headlessBySelector, selectorKey, key);
    } else if (object.kind === 'VIP') {
      for (const serviceKey of vipServiceKeys(object as StoredObject<'VIP'>))
        push(built.vipsByService, serviceKey, key);
    } else if (isMasterNode(object)) {
      push(built.nodesByRole, MASTER_ROLE_KEY, key);
    }
  }
  return built;
}

function* tasksOf(objects: ReadonlyMap<string, StoredObject>): IterableIterator<StoredObject> {
  for (const object of objects.values()) if (object.kind === 'Task') yield object;
}

interface Generated {
  readonly owned: Map<string, readonly ResourceRecord[]>;
  readonly problems: Map<string, readonly string[]>;
  /** Every record, with the key of its owner (parallel arrays). */
  readonly records: ResourceRecord[];
  readonly owners: string[];
}

function generateAll(
  objects: ReadonlyMap<string, StoredObject>,
  view: OwnerView,
  ctx: ReturnType<typeof recordContext>,
): Generated {
  const out: Generated = { owned: new Map(), problems: new Map(), records: [], owners: [] };
  const each = (owner: string): void => {
    const generated = generate(owner, view, ctx);
    if (generated.problems.length > 0) out.problems.set(owner, generated.problems);
    if (generated.records.length === 0) return;
    out.owned.set(owner, generated.records.slice());
    for (const record of generated.records) {
      out.records.push(record);
      out.owners.push(owner);
    }
  };
  each(APEX_OWNER);
  each(MASTERS_OWNER);
  for (const key of objects.keys()) each(key);
  return out;
}

/** Every name once (trie order), with its owners and records in owner order. */
interface Names {
  readonly names: readonly string[];
  readonly hashes: readonly number[];
  readonly owners: readonly KeySet[];
  readonly records: readonly ResourceRecord[][];
}

function groupNames(generated: Generated): Names {
  const { records: all, owners: ownerOf } = generated;
  const { keys, hashes, order, starts } = groupByKey(all.map((r) => r.name));
  const owners: KeySet[] = [];
  const records: ResourceRecord[][] = [];
  for (let g = 0; g < keys.length; g++) {
    const start = starts[g] as number;
    const end = starts[g + 1] as number;
    const list = new Array<ResourceRecord>(end - start);
    const names: string[] = [];
    for (let i = start; i < end; i++) {
      const index = order[i] as number;
      list[i - start] = all[index] as ResourceRecord;
      const owner = ownerOf[index] as string;
      if (names[names.length - 1] !== owner) names.push(owner);
    }
    records.push(list);
    owners.push(names.length === 1 ? (names[0] as string) : (toKeySet(names) as KeySet));
  }
  return { names: keys, hashes, owners, records };
}

/** The addresses of each SRV name's targets, found by a join over hash-sorted lists. */
type TargetAddresses = ReadonlyArray<ReadonlyArray<readonly [string, ResourceRecord[]]> | undefined>;

function encodeAll(names: Names, targets: TargetAddresses, recursionAvailable: boolean): NameAnswers[] {
  const slab = new AnswerSlab();
  const answers = names.names.map((name, i) => {
    const known = targets[i];
    const addressesOf = (target: string): ResourceRecord[] => known?.find(([t]) => t === target)?.[1] ?? [];
    return compileNameAnswers(
      name,
      names.records[i] as ResourceRecord[],
      addressesOf,
      recursionAvailable,
      slab,
    );
  });
  slab.seal();
  return answers;
}

/**
 * SRV targets, joined to the names they point at without a lookup per record: the targets are
 * grouped (hash + radix sort, trie order, like the names), then both sorted lists are merged.
 * Gives `target → SRV names pointing at it` (for incremental updates) and, per SRV name, each
 * target's address records (for the additional section).
 */
function joinSrvTargets(names: Names): { refs: KeyIndex; targets: TargetAddresses } {
  const targetKeys: string[] = [];
  const from: number[] = [];
  names.records.forEach((records, g) => {
    for (const record of records) {
      if (record.data.type !== 'SRV') continue;
      targetKeys.push(record.data.target);
      from.push(g);
    }
  });
  const grouped = groupByKey(targetKeys);
  const addresses: (readonly [string, ResourceRecord[]][] | undefined)[] = new Array(names.names.length);
  const refSets: KeySet[] = [];
  let j = 0;
  for (let t = 0; t < grouped.keys.length; t++) {
    const key = grouped.keys[t] as string;
    const order = levelOrder(grouped.hashes[t] as number);
    while (j < names.names.length && levelOrder(names.hashes[j] as number) < order) j++;
    let m = j;
    while (m < names.names.length && names.hashes[m] === grouped.hashes[t] && names.names[m] !== key) m++;
    const found = m < names.names.length && names.names[m] === key;
    const records = found
      ? (names.records[m] as ResourceRecord[]).filter((r) => r.data.type === 'A' || r.data.type === 'AAAA')
      : [];
    const referrers: string[] = [];
    for (let i = grouped.starts[t] as number; i < (grouped.starts[t + 1] as number); i++) {
      const g = from[grouped.order[i] as number] as number;
      const list = (addresses[g] ??= []) as [string, ResourceRecord[]][];
      if (!list.some(([k]) => k === key)) list.push([key, records]);
      const name = names.names[g] as string;
      if (!referrers.includes(name)) referrers.push(name);
    }
    refSets.push(toKeySet(referrers) as KeySet);
  }
  return { refs: PersistentMap.fromGrouped(grouped.keys, grouped.hashes, refSets), targets: addresses };
}

/** For every ancestor inside a zone, how many names lie below it (RFC 8020: such names are NODATA). */
export function countEmptyNonTerminals(
  names: Iterable<string>,
  apexes: readonly string[],
): PersistentMap<number> {
  // A Map, not a sort: ancestors repeat heavily (every name under `marathon.mesos` counts there),
  // so the table stays small and hot.
  const counts = new Map<string, number>();
  for (const name of names) {
    const apex = apexOf(name, apexes);
    if (apex === undefined) continue;
    for (let at = name.indexOf('.'); at >= 0; at = name.indexOf('.', at + 1)) {
      const ancestor = name.slice(at + 1);
      if (ancestor.length <= apex.length) break;
      counts.set(ancestor, (counts.get(ancestor) ?? 0) + 1);
    }
  }
  return PersistentMap.from(counts);
}

/** Compile `objects` (key → Task, Service, Node or VIP) from nothing, with the options and domains of `fresh`. */
export function compileFull(
  fresh: ZoneState,
  objects: ReadonlyMap<string, StoredObject>,
  revision: number,
): ZoneState {
  const built = buildIndexes(objects);
  const view: OwnerView = {
    object: (key) => objects.get(key),
    tasksWithKey: (key) => built.tasksBySelector.get(key) ?? [],
    allTasks: () => tasksOf(objects),
    vipsOfService: (key) => built.vipsByService.get(key) ?? [],
    masterNodes: () => built.nodesByRole.get(MASTER_ROLE_KEY) ?? [],
  };
  const ctx = recordContext(fresh.options, fresh.domains, revision);
  const generated = generateAll(objects, view, ctx);
  const names = groupNames(generated);
  const apexes = sortedApexes(fresh.domains);
  const srv = joinSrvTargets(names);
  const answers = encodeAll(names, srv.targets, fresh.options.recursionAvailable);
  const ents = countEmptyNonTerminals(names.names, apexes);
  return {
    ...fresh,
    objects: PersistentMap.from(objects),
    tasksByNode: buildIndex(built.tasksByNode),
    tasksBySelector: buildIndex(built.tasksBySelector),
    headlessBySelector: buildIndex(built.headlessBySelector),
    vipsByService: buildIndex(built.vipsByService),
    nodesByRole: buildIndex(built.nodesByRole),
    owned: PersistentMap.from(generated.owned),
    problems: PersistentMap.from(generated.problems),
    byName: PersistentMap.fromGrouped(names.names, names.hashes, names.owners),
    srvRefs: srv.refs,
    answers: PersistentMap.fromGrouped(names.names, names.hashes, answers),
    ents,
    negativeTails: new Map(apexes.map((apex) => [apex, encodeNegativeTail(soaRecord(apex, ctx))])),
    recordCount: generated.records.length,
    revision,
  };
}
