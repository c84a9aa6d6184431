import { objectKey, type ObjectInput, type ObjectRef, type StoredObject } from '../../model';

/**
 * The pure diff of a sync: the desired set (already normalised by validateInput, so defaults and
 * canonical IPs match what the store holds) against what the source owns. Only differences are
 * written: new or changed objects are applied with a compare-and-set revision, vanished ones deleted.
 * Apply order is Nodes before Tasks (a task names its node); delete order is Tasks before Nodes.
 */

export interface PlannedApply {
  readonly input: ObjectInput;
  /** 0 for a create (must not exist), else the owned revision (must be unchanged). */
  readonly expectedRevision: number;
  readonly op: 'create' | 'update';
}

export interface PlannedDelete {
  readonly ref: ObjectRef;
  readonly expectedRevision: number;
}

export interface SyncPlan {
  readonly applies: readonly PlannedApply[];
  readonly deletes: readonly PlannedDelete[];
  readonly unchanged: number;
}

/** Structural equality of JSON-like values; a key whose value is undefined counts as absent. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const key of keys) if (!sameValue(ra[key], rb[key])) return false;
  return true;
}

/**
 * Spec fields other writers own: a Node's pod-subnet lease and heartbeat (agent/), an operator's
 * `unschedulable` or a task's `draining`. The source keeps their stored values instead of erasing them.
 */
const NOT_MANAGED: Readonly<Record<string, readonly string[]>> = {
  Node: ['podSubnet', 'leaseExpiresAt', 'heartbeatAt', 'unschedulable'],
  Task: ['draining'],
};

function withUnmanaged(input: ObjectInput, stored: StoredObject): ObjectInput {
  const fields = NOT_MANAGED[input.kind] ?? [];
  const from = stored.spec as unknown as Record<string, unknown>;
  const extra: Record<string, unknown> = {};
  for (const field of fields) if (from[field] !== undefined) extra[field] = from[field];
  if (Object.keys(extra).length === 0) return input;
  return { ...input, spec: { ...extra, ...(input.spec as object) } } as unknown as ObjectInput;
}

const KIND_ORDER: Readonly<Record<string, number>> = { Node: 0, Task: 1 };

function order(kind: string): number {
  return KIND_ORDER[kind] ?? 2;
}

/**
 * `keep`: keys the source still wants but could not express this time (an invalid object): their
 * owned versions are left alone rather than deleted.
 */
export function planSync(
  desired: readonly ObjectInput[],
  owned: readonly StoredObject[],
  keep: ReadonlySet<string> = new Set(),
): SyncPlan {
  const byKey = new Map(owned.map((o) => [objectKey(o), o]));
  const wanted = new Set<string>();
  const applies: PlannedApply[] = [];
  let unchanged = 0;
  for (const wantedInput of desired) {
    const key = objectKey(wantedInput);
    wanted.add(key);
    const stored = byKey.get(key);
    const input = stored === undefined ? wantedInput : withUnmanaged(wantedInput, stored);
    if (stored === undefined) {
      applies.push({ input, expectedRevision: 0, op: 'create' });
    } else if (sameValue(stored.labels, input.labels ?? {}) && sameValue(stored.spec, input.spec)) {
      unchanged++;
    } else {
      applies.push({ input, expectedRevision: stored.revision, op: 'update' });
    }
  }
  const deletes: PlannedDelete[] = [];
  for (const [key, stored] of byKey) {
    if (wanted.has(key) || keep.has(key)) continue;
    const ref: ObjectRef = { kind: stored.kind, name: stored.name };
    if (stored.namespace !== undefined) ref.namespace = stored.namespace;
    deletes.push({ ref, expectedRevision: stored.revision });
  }
  applies.sort((a, b) => order(a.input.kind) - order(b.input.kind));
  deletes.sort((a, b) => order(b.ref.kind) - order(a.ref.kind));
  return { applies, deletes, unchanged };
}
