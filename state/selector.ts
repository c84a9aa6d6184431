import { invalid } from './errors';
import type { Labels, LabelSelectorRequirement, SelectorSpec } from './model';
import { labelKeyReason, labelValueReason } from './validate/names';

/**
 * Label selectors, Kubernetes semantics:
 *   parseLabelSelector(text) — kubectl syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
 *     `a`, `!a`, comma-separated (all must hold). Throws SY_STATE_INVALID, field `selector`.
 *   selectorFromSpec(spec) — matchLabels + matchExpressions (a Service's `app` is not a label and is
 *     ignored here). Throws SY_STATE_INVALID, field `selector.<path>`.
 *   matchesLabelSelector(selector, labels) — the hot path of list and watch: parse once, then match
 *     with no allocation: a loop over requirements, one own-property lookup and one Set lookup each.
 *   formatLabelSelector(selector) — back to kubectl syntax (for ListQuery.selector).
 *   EVERYTHING — the empty selector: matches everything.
 * Requirement semantics: In — key present with a listed value; NotIn — key absent or value not
 * listed (so `a!=b` matches objects without `a`, as in Kubernetes); Exists; DoesNotExist.
 */

export type SelectorOperator = LabelSelectorRequirement['operator'];

export interface SelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** Empty for Exists and DoesNotExist. */
  readonly values: ReadonlySet<string>;
}

export interface LabelSelector {
  /** All must hold; none means "everything". */
  readonly requirements: readonly SelectorRequirement[];
}

const NO_VALUES: ReadonlySet<string> = new Set<string>();

export const EVERYTHING: LabelSelector = Object.freeze({ requirements: Object.freeze([]) });

const hasOwn = Object.prototype.hasOwnProperty;

export function matchesLabelSelector(selector: LabelSelector, labels: Labels): boolean {
  const requirements = selector.requirements;
  for (let i = 0; i < requirements.length; i++) {
    const req = requirements[i] as SelectorRequirement;
    // Own properties only: `constructor` or `__proto__` must not look like labels.
    const present = hasOwn.call(labels, req.key);
    switch (req.operator) {
      case 'In':
        if (!present || !req.values.has(labels[req.key] as string)) return false;
        break;
      case 'NotIn':
        if (present && req.values.has(labels[req.key] as string)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
    }
  }
  return true;
}

export function selectorFromSpec(spec: SelectorSpec): LabelSelector {
  const requirements: SelectorRequirement[] = [];
  for (const [key, value] of Object.entries(spec.matchLabels ?? {})) {
    const field = `selector.matchLabels[${JSON.stringify(key)}]`;
    requirements.push(requirement(field, key, 'In', [value]));
  }
  (spec.matchExpressions ?? []).forEach((expr, i) => {
    requirements.push(
      requirement(`selector.matchExpressions[${i}]`, expr.key, expr.operator, expr.values ?? []),
    );
  });
  return requirements.length === 0 ? EVERYTHING : { requirements };
}

export function formatLabelSelector(selector: LabelSelector): string {
  return selector.requirements
    .map((req) => {
      const values = [...req.values];
      switch (req.operator) {
        case 'In':
          return values.length === 1 ? `${req.key}=${values[0]}` : `${req.key} in (${values.join(',')})`;
        case 'NotIn':
          return values.length === 1 ? `${req.key}!=${values[0]}` : `${req.key} notin (${values.join(',')})`;
        case 'Exists':
          return req.key;
        case 'DoesNotExist':
          return `!${req.key}`;
      }
    })
    .join(',');
}

/** Builds one requirement, checking its key, its values and that they suit the operator. */
function requirement(
  field: string,
  key: string,
  operator: SelectorOperator,
  values: readonly string[],
): SelectorRequirement {
  const keyReason = labelKeyReason(key);
  if (keyReason !== undefined) throw invalid(field, keyReason);
  const takesValues = operator === 'In' || operator === 'NotIn';
  if (takesValues && values.length === 0)
    throw invalid(field, `"${key}": operator ${operator} needs at least one value`);
  if (!takesValues && values.length > 0)
    throw invalid(field, `"${key}": operator ${operator} takes no values`);
  for (const value of values) {
    const valueReason = labelValueReason(value);
    if (valueReason !== undefined) throw invalid(field, valueReason);
  }
  return { key, operator, values: takesValues ? new Set(values) : NO_VALUES };
}

// ---- the kubectl syntax ------------------------------------------------------------------------------

/** Characters that end a key or a bare value. */
const DELIMITERS = new Set([' ', '\t', ',', '=', '!', '(', ')', '<', '>']);

export function parseLabelSelector(text: string): LabelSelector {
  const parser = new SelectorParser(text);
  const requirements: SelectorRequirement[] = [];
  parser.skipSpaces();
  if (parser.atEnd()) return EVERYTHING;
  for (;;) {
    requirements.push(parser.requirement());
    parser.skipSpaces();
    if (parser.atEnd()) break;
    parser.expect(',');
  }
  return { requirements };
}

class SelectorParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  skipSpaces(): void {
    while (this.text[this.pos] === ' ' || this.text[this.pos] === '\t') this.pos++;
  }

  expect(ch: string): void {
    if (this.text[this.pos] !== ch) throw this.error(`expected "${ch}"`);
    this.pos++;
  }

  /** One comma-free requirement: `!k`, `k`, `k=v`, `k==v`, `k!=v`, `k in (…)`, `k notin (…)`. */
  requirement(): SelectorRequirement {
    this.skipSpaces();
    if (this.text[this.pos] === '!') {
      this.pos++;
      this.skipSpaces();
      return this.build(this.word('a label key'), 'DoesNotExist', []);
    }
    const key = this.word('a label key');
    this.skipSpaces();
    if (this.atEnd() || this.text[this.pos] === ',') return this.build(key, 'Exists', []);
    if (this.text.startsWith('!=', this.pos)) {
      this.pos += 2;
      return this.build(key, 'NotIn', [this.bareValue()]);
    }
    if (this.text[this.pos] === '=') {
      this.pos += this.text.startsWith('==', this.pos) ? 2 : 1;
      return this.build(key, 'In', [this.bareValue()]);
    }
    const next = this.text[this.pos];
    if (next === '<' || next === '>')
      throw this.error(`operator "${next}" is not supported (use =, ==, !=, in, notin)`);
    const start = this.pos;
    const word = this.word('an operator');
    if (word === 'in' || word === 'notin')
      return this.build(key, word === 'in' ? 'In' : 'NotIn', this.valueSet());
    this.pos = start;
    throw this.error(`unknown operator "${word}" after "${key}" (use =, ==, !=, in, notin)`);
  }

  private build(key: string, operator: SelectorOperator, values: string[]): SelectorRequirement {
    return requirement('selector', key, operator, values);
  }

  /** The value after `=`, `==` or `!=`; may be empty (`tier=` selects an empty value). */
  private bareValue(): string {
    this.skipSpaces();
    const start = this.pos;
    while (!this.atEnd() && !DELIMITERS.has(this.text[this.pos] as string)) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** `( v1, v2 )` after in / notin. */
  private valueSet(): string[] {
    this.skipSpaces();
    this.expect('(');
    const values: string[] = [];
    for (;;) {
      this.skipSpaces();
      values.push(this.bareValue());
      this.skipSpaces();
      if (this.text[this.pos] === ')') break;
      if (this.atEnd()) throw this.error('expected ")"');
      this.expect(',');
    }
    this.pos++;
    if (values.length === 1 && values[0] === '') throw this.error('a value set needs at least one value');
    return values;
  }

  private word(what: string): string {
    const start = this.pos;
    while (!this.atEnd() && !DELIMITERS.has(this.text[this.pos] as string)) this.pos++;
    if (this.pos === start) throw this.error(`expected ${what}`);
    return this.text.slice(start, this.pos);
  }

  private error(problem: string): Error {
    const where = this.atEnd() ? 'at the end' : `at position ${this.pos + 1}`;
    return invalid('selector', `${problem} ${where} of ${JSON.stringify(this.text)}`);
  }
}

/** Parsed service selectors, keyed by the (immutable, shared) selector object of a stored spec. */
const serviceSelectors = new WeakMap<object, LabelSelector>();

/**
 * Which tasks back a service — the one rule DNS, the proxy, VIPs and the CLI share: the same
 * namespace, the same app (when the selector names one; a leading `/` of a Marathon id is
 * ignored) and every label requirement. A selector with neither an app nor a label term selects
 * nothing (validation refuses it anyway), as a Kubernetes Service without a selector has no
 * endpoints. Parses each service's selector once.
 */
export function serviceSelectsTask(
  service: {
    readonly namespace?: string;
    readonly spec: { readonly selector: Readonly<{ app?: string } & SelectorSpec> };
  },
  task: { readonly namespace?: string; readonly labels: Labels; readonly spec: { readonly app: string } },
): boolean {
  if ((service.namespace ?? 'default') !== (task.namespace ?? 'default')) return false;
  const spec = service.spec.selector;
  if (spec.app !== undefined && stripSlashes(spec.app) !== stripSlashes(task.spec.app)) return false;
  let selector = serviceSelectors.get(spec);
  if (selector === undefined) {
    selector = selectorFromSpec(spec);
    serviceSelectors.set(spec, selector);
  }
  if (spec.app === undefined && selector.requirements.length === 0) return false;
  return matchesLabelSelector(selector, task.labels);
}

function stripSlashes(app: string): string {
  return app.charCodeAt(0) === 47 /* '/' */ ? app.replace(/^\/+/, '') : app;
}
