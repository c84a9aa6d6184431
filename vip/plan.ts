import { validateInput, type ObjectInput, type StoredObject } from '../state';

/**
 * planVipWrites: the writes that turn the stored VIP objects into the desired ones, each carrying
 * the revision it was computed against (compare-and-set: a concurrent change makes it fail rather
 * than be overwritten). Pure. Desired objects are normalised as the store would (validateInput),
 * so an unchanged VIP compares equal and costs no write.
 */
export interface VipWritePlan {
  /** Run first: frees addresses the others may take. */
  readonly deletes: readonly { readonly name: string; readonly expectedRevision: number }[];
  readonly updates: readonly { readonly input: ObjectInput<'VIP'>; readonly expectedRevision: number }[];
  /** expectedRevision 0: must not exist yet. */
  readonly creates: readonly ObjectInput<'VIP'>[];
  /** Desired objects the validator refused (a bug, or an input the validator rejects), by name. */
  readonly invalid: readonly { readonly name: string; readonly error: unknown }[];
}

export function planVipWrites(
  desired: readonly ObjectInput<'VIP'>[],
  stored: readonly StoredObject<'VIP'>[],
): VipWritePlan {
  const current = new Map(stored.map((v) => [v.name, v]));
  const wanted = new Set<string>();
  const updates: { input: ObjectInput<'VIP'>; expectedRevision: number }[] = [];
  const creates: ObjectInput<'VIP'>[] = [];
  const invalid: { name: string; error: unknown }[] = [];
  for (const input of desired) {
    wanted.add(input.name);
    let normal: ObjectInput;
    try {
      normal = validateInput(input);
    } catch (error) {
      invalid.push({ name: input.name, error });
      continue;
    }
    const existing = current.get(input.name);
    if (existing === undefined) creates.push(input);
    else if (!sameContent(normal, existing)) updates.push({ input, expectedRevision: existing.revision });
  }
  const deletes = stored
    .filter((v) => !wanted.has(v.name))
    .map((v) => ({ name: v.name, expectedRevision: v.revision }));
  return { deletes, updates, creates, invalid };
}

function sameContent(a: ObjectInput, b: StoredObject): boolean {
  return canonical(a.labels ?? {}) === canonical(b.labels) && canonical(a.spec) === canonical(b.spec);
}

/** JSON with object keys sorted: equal values give equal text whatever their key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
