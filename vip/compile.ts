import type { Cidr } from '../lib';
import {
  objectKey,
  type ObjectInput,
  type StoredObject,
  type VipBackend,
  type VipOwner,
  type VipPort,
  type VipSpec,
} from '../state';
import { allocateAddresses, buildPool, type AllocationRequest } from './allocate';
import { collectDrafts, type VipDraft } from './collect';
import type { VipError } from './errors';

/**
 * compileVips: the VIP objects the state should hold, from the tasks' VIP labels, the Services'
 * named VIPs, the Networks and the VIP objects stored now. Pure — no I/O, no clock of its own
 * (`options.now`), inputs never mutated — and deterministic: the same inputs in any order give the
 * same objects, so every controller agrees on every address.
 *
 * Lifecycle: a VIP with owners is active (no `releaseAt`). When its last owner goes, it keeps its
 * address, ports and a `releaseAt` of now + grace, with no backends; once `now` passes it, it is
 * left out (the controller deletes it) and the address is free again. An owner coming back before
 * then gets the same address; after, the hash usually gives the same one again.
 */

export interface VipSnapshot {
  readonly tasks: readonly StoredObject<'Task'>[];
  readonly services: readonly StoredObject<'Service'>[];
  readonly nodes: readonly StoredObject<'Node'>[];
  readonly networks: readonly StoredObject<'Network'>[];
  /** The VIP objects stored now: their addresses are kept. */
  readonly vips: readonly StoredObject<'VIP'>[];
}

export interface CompileVipsOptions {
  /** The current time, epoch milliseconds (the caller's clock). */
  readonly now: number;
  /** How long a VIP without owners keeps its address. */
  readonly graceMs: number;
  /** The Network whose service CIDR new addresses come from; default the first by name. */
  readonly network?: string;
  /** Ranges of that service CIDR hashing never hands out (explicit addresses may use them). */
  readonly reserved?: readonly Cidr[];
}

export interface CompiledVips {
  /** The desired VIP objects, sorted by name. */
  readonly vips: readonly ObjectInput<'VIP'>[];
  readonly problems: readonly VipError[];
  /** The earliest `releaseAt` among the kept VIPs (epoch ms): when to compile again. */
  readonly nextReleaseAt?: number;
  /** Addresses hashing could still hand out (undefined without a Network). */
  readonly freeAddresses?: bigint;
}

export function compileVips(snapshot: VipSnapshot, options: CompileVipsOptions): CompiledVips {
  const problems: VipError[] = [];
  const drafts = collectDrafts(snapshot, problems);
  const stored = new Map(snapshot.vips.map((v) => [v.name, v]));
  const built = buildPool(snapshot.networks, options);
  if (built.pool === undefined) {
    // Nothing to allocate from: leave every stored VIP as it is (a Network cannot be deleted
    // while VIPs hold its addresses, so this is the empty cluster or a misconfigured `network`).
    if (drafts.size > 0) problems.push(...built.problems);
    return { vips: sortByName(snapshot.vips.map(inputOf)), problems };
  }
  problems.push(...built.problems);
  const releasing = releasingVips(snapshot.vips, drafts, options);
  const requests: AllocationRequest[] = [
    ...[...drafts.values()].map((d) => requestFor(d, stored.get(d.object))),
    ...releasing.map((v) => ({ vip: v.name, current: v.spec.address, keepOnly: true })),
  ];
  const allocation = allocateAddresses(requests, built.pool, heldByServices(snapshot.services, drafts));
  problems.push(...allocation.problems);
  const vips: ObjectInput<'VIP'>[] = [];
  for (const draft of drafts.values()) {
    const address = allocation.addresses.get(draft.object);
    if (address !== undefined) vips.push(activeVip(draft, address));
  }
  let nextReleaseAt: number | undefined;
  for (const vip of releasing) {
    if (allocation.addresses.get(vip.name) !== vip.spec.address) continue;
    vips.push(vip);
    const at = Date.parse(vip.spec.releaseAt ?? '');
    nextReleaseAt = nextReleaseAt === undefined ? at : Math.min(nextReleaseAt, at);
  }
  return {
    vips: sortByName(vips),
    problems,
    ...(nextReleaseAt === undefined ? {} : { nextReleaseAt }),
    freeAddresses: allocation.free,
  };
}

/**
 * Service addresses no VIP asks for (a Service with spec.vip.address and no VIP name, or whose VIP
 * could not be made): the state refuses a VIP on them, so allocation must step around them.
 */
function heldByServices(
  services: readonly StoredObject<'Service'>[],
  drafts: ReadonlyMap<string, VipDraft>,
): Map<string, string> {
  const own = new Set<string>();
  for (const { explicit } of drafts.values())
    if (explicit !== undefined) own.add(`${explicit.owner} ${explicit.address}`);
  const held = new Map<string, string>();
  for (const service of services) {
    const address = service.spec.vip?.address;
    const key = objectKey(service);
    if (address !== undefined && !own.has(`${key} ${address}`))
      held.set(address, `${key} (spec.vip.address)`);
  }
  return held;
}

function requestFor(draft: VipDraft, stored: StoredObject<'VIP'> | undefined): AllocationRequest {
  return {
    vip: draft.object,
    ...(draft.explicit === undefined ? {} : { explicit: draft.explicit.address }),
    ...(stored === undefined ? {} : { current: stored.spec.address }),
  };
}

/**
 * Stored VIPs no owner asks for any more, as they should now be stored: with a `releaseAt` (kept,
 * or now + grace), no owners and no backends. Left out: those past their `releaseAt`, and those
 * whose address an active VIP now asks for by name (a Service that renamed its VIP takes its
 * address along at once).
 */
function releasingVips(
  vips: readonly StoredObject<'VIP'>[],
  drafts: ReadonlyMap<string, VipDraft>,
  options: CompileVipsOptions,
): ObjectInput<'VIP'>[] {
  const asked = new Set<string>();
  for (const draft of drafts.values()) if (draft.explicit !== undefined) asked.add(draft.explicit.address);
  const out: ObjectInput<'VIP'>[] = [];
  for (const vip of vips) {
    if (drafts.has(vip.name) || asked.has(vip.spec.address)) continue;
    const stored = vip.spec.releaseAt === undefined ? NaN : Date.parse(vip.spec.releaseAt);
    const releaseAt = Number.isNaN(stored) ? options.now + options.graceMs : stored;
    if (releaseAt <= options.now) continue;
    const spec: VipSpec = {
      name: vip.spec.name,
      framework: vip.spec.framework,
      address: vip.spec.address,
      ports: vip.spec.ports.map((p) => ({ ...p })),
      backends: [],
      owners: [],
      releaseAt: Number.isNaN(stored) ? new Date(releaseAt).toISOString() : (vip.spec.releaseAt ?? ''),
    };
    out.push({ kind: 'VIP', name: vip.name, labels: { ...vip.labels }, spec });
  }
  return out;
}

function activeVip(draft: VipDraft, address: string): ObjectInput<'VIP'> {
  const ports: VipPort[] = [...draft.ports.values()].map((p) => ({ ...p.port })).sort(comparePorts);
  const backends: VipBackend[] = [...draft.backends.values()].map((b) => ({ ...b })).sort(compareBackends);
  const owners: VipOwner[] = [...draft.owners.values()].map((o) => ({ ...o })).sort(compareOwners);
  return {
    kind: 'VIP',
    name: draft.object,
    labels: {},
    spec: { name: draft.name, framework: draft.framework, address, ports, backends, owners },
  };
}

/** A stored VIP as an input again (a deep copy: the result shares nothing with the store). */
function inputOf(vip: StoredObject<'VIP'>): ObjectInput<'VIP'> {
  return {
    kind: 'VIP',
    name: vip.name,
    labels: { ...vip.labels },
    spec: structuredClone(vip.spec) as VipSpec,
  };
}

function comparePorts(a: VipPort, b: VipPort): number {
  return a.port - b.port || compare(a.protocol, b.protocol);
}

function compareBackends(a: VipBackend, b: VipBackend): number {
  return a.vipPort - b.vipPort || compare(a.protocol, b.protocol) || compare(a.task, b.task);
}

function compareOwners(a: VipOwner, b: VipOwner): number {
  return (
    compare(a.kind, b.kind) ||
    compare(a.namespace, b.namespace) ||
    compare(a.name, b.name) ||
    compare(a.source, b.source)
  );
}

function sortByName<T extends { name: string }>(items: T[]): T[] {
  return items.sort((a, b) => compare(a.name, b.name));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
