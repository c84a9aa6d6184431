import { z } from 'zod';

import { invalid } from '../errors';
import {
  CLUSTER_SCOPED,
  DEFAULT_NAMESPACE,
  KINDS,
  isKind,
  kindFromName,
  type Kind,
  type ObjectInput,
} from '../model';
import { fillSpecDefaults } from './defaults';
import {
  closestName,
  describeValue,
  dnsLabel,
  issueToError,
  labels,
  objectName,
  reasonForIssue,
  strictObject,
} from './fields';
import {
  checkNetworkRules,
  checkPolicyRules,
  checkServiceRules,
  checkTaskRules,
  checkVipRules,
} from './rules';
import { SPEC_SCHEMAS } from './specs';

/**
 * validateInput: the door every write goes through. Three steps, each with one job:
 *   1. shape (zod schemas in specs.ts): types, ranges, formats, unknown fields;
 *   2. defaults (defaults.ts), filled in one place;
 *   3. rules across fields (rules.ts), on the normalised object.
 * The first problem found becomes `invalid(field, reason)` (SY_STATE_INVALID). The result is a new
 * object: zod copies what it parses and the defaults build new objects, so the input is never
 * touched and the result shares nothing with it.
 */

function envelopeSchema<K extends Kind>(kind: K) {
  return strictObject({
    kind: z.literal(kind),
    name: objectName,
    namespace: dnsLabel.optional(),
    labels: labels.optional(),
    spec: SPEC_SCHEMAS[kind],
    // Store-assigned: a client may echo them back from a `get` (edit, then apply); they are dropped.
    revision: z.unknown().optional(),
    createRevision: z.unknown().optional(),
  });
}

/** Built on first use, not at import time; one schema per kind. */
let envelopes: { [K in Kind]: ReturnType<typeof envelopeSchema<K>> } | undefined;

function envelopeFor<K extends Kind>(kind: K): ReturnType<typeof envelopeSchema<K>> {
  envelopes ??= {
    Network: envelopeSchema('Network'),
    Node: envelopeSchema('Node'),
    Task: envelopeSchema('Task'),
    Service: envelopeSchema('Service'),
    Policy: envelopeSchema('Policy'),
    VIP: envelopeSchema('VIP'),
  };
  return envelopes[kind];
}

export function validateInput(input: unknown): ObjectInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid('(root)', `must be an object with kind, name and spec, got ${describeValue(input)}`);
  }
  const raw = input as Record<string, unknown>;
  const kind = raw.kind;
  if (!isKind(kind)) throw invalid('kind', kindReason(kind));
  if (CLUSTER_SCOPED.has(kind) && raw.namespace !== undefined) {
    throw invalid('namespace', `must not be set: ${kind} is cluster-scoped`);
  }
  const result = envelopeFor(kind).safeParse(raw, { error: reasonForIssue });
  if (!result.success) {
    // An unknown field is usually a misspelt known one, whose "is required" would only mislead.
    const issues = result.error.issues;
    const first = issues.find((issue) => issue.code === 'unrecognized_keys') ?? issues[0];
    throw first === undefined ? invalid('(root)', 'is not valid') : issueToError(first);
  }
  const parsed = result.data;
  const object: ObjectInput = {
    kind,
    name: parsed.name,
    labels: parsed.labels ?? {},
    spec: fillSpecDefaults(kind, parsed.spec),
  };
  if (!CLUSTER_SCOPED.has(kind)) object.namespace = parsed.namespace ?? DEFAULT_NAMESPACE;
  checkRules(object);
  return object;
}

/** An ObjectInput whose `kind` narrows its `spec`. */
type AnyObjectInput = { [K in Kind]: ObjectInput<K> }[Kind];

function checkRules(object: ObjectInput): void {
  const typed = object as AnyObjectInput;
  switch (typed.kind) {
    case 'Network':
      return checkNetworkRules(typed.spec);
    case 'Task':
      return checkTaskRules(typed.spec);
    case 'Service':
      return checkServiceRules(typed.spec);
    case 'Policy':
      return checkPolicyRules(typed.spec);
    case 'VIP':
      return checkVipRules(typed.spec, typed.name);
    case 'Node':
      return; // every Node rule involves other objects (consistency.ts)
  }
}

function kindReason(kind: unknown): string {
  const expected = `must be one of ${KINDS.join(', ')}`;
  if (kind === undefined) return `is required (${KINDS.join(', ')})`;
  if (typeof kind !== 'string') return `${expected}, got ${describeValue(kind)}`;
  const hint = kindFromName(kind) ?? closestName(kind, KINDS);
  return hint === undefined
    ? `${expected}, got ${JSON.stringify(kind)}`
    : `${expected}; did you mean "${hint}"?`;
}
