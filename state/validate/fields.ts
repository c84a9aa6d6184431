import { z } from 'zod';

import { CidrParseError, formatIp, parseCidr, parseIp } from '../../lib';
import { invalid, type StateError } from '../errors';
import { dnsLabelReason, dnsSubdomainReason, labelKeyReason, labelValueReason } from './names';

/**
 * The zod building blocks every kind's schema is made of, and the one place a zod issue becomes a
 * StateError: `field` is a path like `spec.ports[0].containerPort`, `reason` a sentence for people.
 */

/** A string that must pass `reasonOf` (which returns why not, or undefined). */
export function checkedString(reasonOf: (value: string) => string | undefined): z.ZodString {
  return z.string().superRefine((value, ctx) => {
    const reason = reasonOf(value);
    if (reason !== undefined) ctx.addIssue({ code: 'custom', message: reason });
  });
}

export const objectName = checkedString(dnsSubdomainReason);
export const dnsLabel = checkedString(dnsLabelReason);
export const nonEmptyString = z.string().min(1, { error: 'must not be empty' });

/** An integer in [min, max]; the reason always states the range and the value given. */
export function intInRange(min: number, max: number, what = 'an integer'): z.ZodNumber {
  const reason = (iss: { input: unknown }): string =>
    `must be ${what} ${min}-${max}, got ${describeValue(iss.input)}`;
  return z
    .number({ error: reason })
    .int({ error: reason })
    .min(min, { error: reason })
    .max(max, { error: reason });
}

export const port = intInRange(1, 65535);

/** An IP address (strict dotted decimal or IPv6), returned in canonical text. */
export const ipAddress = z.string().transform((value, ctx) => {
  try {
    const ip = parseIp(value);
    return formatIp(ip.family, ip.value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: cidrReason(err, 'is not an IP address') });
    return z.NEVER;
  }
});

/** A CIDR with no host bits set, returned in canonical text. */
export const cidr = z.string().transform((value, ctx) => {
  try {
    return parseCidr(value).text;
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: cidrReason(err, 'is not a CIDR') });
    return z.NEVER;
  }
});

/** RFC 3339 timestamp with a zone (`Z` or an offset). */
export const timestamp = z.iso.datetime({
  offset: true,
  error: (iss) =>
    `must be an RFC 3339 timestamp such as 2024-05-01T12:00:00Z, got ${describeValue(iss.input)}`,
});

/**
 * A string-to-string map. A `__proto__` key (JSON.parse makes it an own key) is refused by name:
 * copied into a new object it would set the prototype, and the entry would vanish silently.
 */
export function stringMap(key: z.ZodString = z.string()) {
  return z.preprocess(
    (input, ctx) => {
      if (
        typeof input === 'object' &&
        input !== null &&
        Object.prototype.hasOwnProperty.call(input, '__proto__')
      ) {
        ctx.addIssue({ code: 'custom', path: ['__proto__'], message: 'is not allowed as a key' });
      }
      return input;
    },
    z.record(key, z.string()),
  );
}

/** Kubernetes labels: every key and value checked, the field path naming the bad key. */
export const labels = stringMap().superRefine((map, ctx) => {
  for (const [key, value] of Object.entries(map)) {
    const reason = labelKeyReason(key) ?? labelValueReason(value);
    if (reason !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: reason });
  }
});

/**
 * A strict object: an unknown field is refused by name, with a hint when it is a near miss of a
 * known one (`podCidr` → `podCIDR`).
 */
export function strictObject<Shape extends z.ZodRawShape>(shape: Shape): z.ZodObject<Shape, z.core.$strict> {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys' ? unknownFieldReason(iss.keys[0] ?? '', known) : undefined,
  });
}

export function unknownFieldReason(field: string, known: readonly string[]): string {
  const hint = closestName(field, known);
  return hint === undefined ? 'unknown field' : `unknown field; did you mean "${hint}"?`;
}

/** The known name a typo most likely meant: same letters ignoring case, or at most 2 edits away. */
export function closestName(typo: string, known: readonly string[]): string | undefined {
  const lower = typo.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.floor(typo.length / 3));
  for (const name of known) {
    if (name.toLowerCase() === lower) return name;
    const distance = editDistance(lower, name.toLowerCase());
    if (distance <= bestDistance) {
      best = name;
      bestDistance = distance - 1;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

// ---- from a zod issue to a StateError -----------------------------------------------------------------

/** Generic reasons for issues no schema worded itself; passed to every parse. */
export const reasonForIssue: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'is required';
      return `must be ${withArticle(iss.expected)}, got ${describeType(iss.input)}`;
    case 'invalid_value':
      if (iss.input === undefined)
        return `is required (one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')})`;
      return `must be one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(iss.input)}`;
    case 'too_small':
      return sizeReason('at least', iss.minimum, iss.origin, iss.input);
    case 'too_big':
      return sizeReason('at most', iss.maximum, iss.origin, iss.input);
    case 'unrecognized_keys':
      return 'unknown field';
    case 'invalid_union':
      return `has an unexpected type: ${describeType(iss.input)}`;
    default:
      return undefined;
  }
};

export function issueToError(issue: z.core.$ZodIssue): StateError {
  const path = [...issue.path];
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  return invalid(formatFieldPath(path), issue.message);
}

/** `['spec', 'ports', 0, 'containerPort']` → `spec.ports[0].containerPort`; odd keys are quoted. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment)) {
      out += out === '' ? segment : `.${segment}`;
    } else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

function sizeReason(bound: string, limit: number | bigint, origin: string, input: unknown): string {
  if (origin === 'array') return `must have ${bound} ${limit} item${limit === 1 ? '' : 's'}`;
  if (origin === 'string') return `must be ${bound} ${limit} characters long`;
  return `must be ${bound} ${limit}, got ${describeValue(input)}`;
}

function cidrReason(err: unknown, fallback: string): string {
  if (err instanceof CidrParseError) return err.message;
  return fallback;
}

function withArticle(expected: string): string {
  if (expected === 'int') return 'an integer';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/** A short rendering of a bad value for a reason: numbers and short strings verbatim. */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  return describeType(value);
}
