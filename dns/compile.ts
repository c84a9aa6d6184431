import type { StoredObject } from '../state';
import { objectKey } from '../state';
import { compileFull } from './compile-full';
import { applyIncremental } from './compile-incremental';
import { pickNetwork, resolveZoneOptions, zoneDomains, type ZoneOptions } from './options';
import { PersistentMap } from './persistent-map';
import { CompiledZone, type ZoneState } from './zone';

/** Plain arrays of state objects, as a list call or an informer cache returns them. */
export interface ZoneSnapshot {
  readonly tasks: readonly StoredObject[];
  readonly services: readonly StoredObject[];
  readonly nodes: readonly StoredObject[];
  readonly networks: readonly StoredObject[];
  /** VIP objects (named VIPs, and the addresses allocated to Services). */
  readonly vips?: readonly StoredObject[];
  /** The store revision the snapshot reflects (the SOA serial); default: the highest object revision. */
  readonly revision?: number;
  readonly options?: ZoneOptions;
}

export interface ZoneChange {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: StoredObject;
}

const OWNED_KINDS = new Set(['Task', 'Service', 'Node', 'VIP']);

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
    objects: PersistentMap.empty(),
    tasksByNode: PersistentMap.empty(),
    tasksBySelector: PersistentMap.empty(),
    headlessBySelector: PersistentMap.empty(),
    vipsByService: PersistentMap.empty(),
    nodesByRole: PersistentMap.empty(),
    owned: PersistentMap.empty(),
    problems: PersistentMap.empty(),
    byName: PersistentMap.empty(),
    srvRefs: PersistentMap.empty(),
    answers: PersistentMap.empty(),
    ents: PersistentMap.empty(),
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

function maxRevision(objects: Iterable<StoredObject>, start = 0): number {
  let max = start;
  for (const o of objects) if (o.revision > max) max = o.revision;
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
  const owned = new Map<string, StoredObject>();
  for (const list of [snapshot.tasks, snapshot.services, snapshot.nodes, snapshot.vips ?? []])
    for (const object of list) if (OWNED_KINDS.has(object.kind)) owned.set(objectKey(object), object);
  const revision = snapshot.revision ?? Math.max(maxRevision(owned.values()), maxRevision(networks.values()));
  if (prev !== undefined && sameConfiguration(prev.state, fresh)) {
    const changes = new Map<string, StoredObject | undefined>();
    for (const [key, object] of owned)
      if (prev.state.objects.get(key)?.revision !== object.revision) changes.set(key, object);
    for (const key of prev.state.objects.keys()) if (!owned.has(key)) changes.set(key, undefined);
    return new CompiledZone(applyIncremental({ ...prev.state, networks }, changes, revision));
  }
  return new CompiledZone(compileFull(fresh, owned, revision));
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
  const nextRevision =
    revision ??
    maxRevision(
      events.map((e) => e.object),
      prev.revision,
    );
  const network = pickNetwork([...networks.values()]);
  if (networksChanged) {
    const retuned: ZoneState = {
      ...emptyState(undefined, networks),
      options: prev.state.options,
      optionsKey: prev.state.optionsKey,
    };
    const withDomains: ZoneState = { ...retuned, domains: zoneDomains(network, prev.state.options) };
    if (!sameConfiguration(prev.state, withDomains)) {
      const all = new Map<string, StoredObject>(prev.state.objects.entries());
      for (const [key, value] of changes) {
        if (value === undefined) all.delete(key);
        else all.set(key, value);
      }
      return new CompiledZone(compileFull(withDomains, all, nextRevision));
    }
  }
  return new CompiledZone(applyIncremental({ ...prev.state, networks, network }, changes, nextRevision));
}

function sameConfiguration(a: ZoneState, b: ZoneState): boolean {
  return a.optionsKey === b.optionsKey && JSON.stringify(a.domains) === JSON.stringify(b.domains);
}
