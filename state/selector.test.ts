import { StateError, StateErrorCode } from './errors';
import type { Labels, SelectorSpec } from './model';
import {
  EVERYTHING,
  formatLabelSelector,
  matchesLabelSelector,
  parseLabelSelector,
  selectorFromSpec,
  type LabelSelector,
} from './selector';

/** Requirements as plain data, values sorted, for comparing. */
function plain(selector: LabelSelector): Array<{ key: string; operator: string; values: string[] }> {
  return selector.requirements.map((r) => ({
    key: r.key,
    operator: r.operator,
    values: [...r.values].sort(),
  }));
}

function errorFrom(fn: () => unknown): StateError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StateError) return err;
    throw err;
  }
  throw new Error('expected a StateError, nothing was thrown');
}

describe('parseLabelSelector', () => {
  it.each([
    { desc: 'empty text', text: '', expected: [] },
    { desc: 'only spaces', text: '   ', expected: [] },
    { desc: 'equality', text: 'app=web', expected: [{ key: 'app', operator: 'In', values: ['web'] }] },
    { desc: 'double equals', text: 'app==web', expected: [{ key: 'app', operator: 'In', values: ['web'] }] },
    {
      desc: 'spaces around =',
      text: ' app = web ',
      expected: [{ key: 'app', operator: 'In', values: ['web'] }],
    },
    { desc: 'inequality', text: 'tier!=db', expected: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] },
    { desc: 'empty value', text: 'tier=', expected: [{ key: 'tier', operator: 'In', values: [''] }] },
    { desc: 'in', text: 'env in (b, a)', expected: [{ key: 'env', operator: 'In', values: ['a', 'b'] }] },
    {
      desc: 'in without a space',
      text: 'env in(a)',
      expected: [{ key: 'env', operator: 'In', values: ['a'] }],
    },
    { desc: 'notin', text: 'env notin (a)', expected: [{ key: 'env', operator: 'NotIn', values: ['a'] }] },
    { desc: 'exists', text: 'legacy', expected: [{ key: 'legacy', operator: 'Exists', values: [] }] },
    {
      desc: 'does not exist',
      text: '! legacy',
      expected: [{ key: 'legacy', operator: 'DoesNotExist', values: [] }],
    },
    {
      desc: 'prefixed key',
      text: 'example.org/tier=front_end',
      expected: [{ key: 'example.org/tier', operator: 'In', values: ['front_end'] }],
    },
    {
      desc: 'all forms together',
      text: 'app=web,tier!=db,env in (a,b),!legacy,canary',
      expected: [
        { key: 'app', operator: 'In', values: ['web'] },
        { key: 'tier', operator: 'NotIn', values: ['db'] },
        { key: 'env', operator: 'In', values: ['a', 'b'] },
        { key: 'legacy', operator: 'DoesNotExist', values: [] },
        { key: 'canary', operator: 'Exists', values: [] },
      ],
    },
  ])('parses $desc', ({ text, expected }) => {
    expect(plain(parseLabelSelector(text))).toEqual(expected);
  });

  it.each([
    { desc: 'a trailing comma', text: 'app=web,', reason: 'expected a label key at the end' },
    { desc: 'a leading comma', text: ',app', reason: 'expected a label key at position 1' },
    { desc: 'an unknown operator', text: 'app is web', reason: 'unknown operator "is" after "app"' },
    { desc: 'a comparison operator', text: 'replicas>1', reason: 'operator ">" is not supported' },
    { desc: 'in without parentheses', text: 'env in a', reason: 'expected "(" at position 8' },
    { desc: 'an unclosed value set', text: 'env in (a,b', reason: 'expected ")" at the end' },
    { desc: 'an empty value set', text: 'env in ()', reason: 'a value set needs at least one value' },
    { desc: 'two values after =', text: 'app=web=x', reason: 'expected "," at position 8' },
    { desc: 'a value after !key', text: '!app=web', reason: 'expected ","' },
    { desc: 'a bad key', text: '-app=web', reason: 'label key "-app" must be' },
    { desc: 'a bad value', text: 'app=/web', reason: 'label value "/web" must be' },
    { desc: 'a bad value in a set', text: 'env in (a,-b)', reason: 'label value "-b" must be' },
    { desc: 'a key name too long', text: `${'k'.repeat(64)}=v`, reason: 'at most 63 characters, got 64' },
  ])('refuses $desc', ({ text, reason }) => {
    const err = errorFrom(() => parseLabelSelector(text));
    expect(err.code).toBe(StateErrorCode.INVALID);
    expect(err.field).toBe('selector');
    expect(err.reason).toContain(reason);
  });
});

describe('matchesLabelSelector', () => {
  it.each<{ desc: string; text: string; labels: Labels; matches: boolean }>([
    { desc: 'empty selector, no labels', text: '', labels: {}, matches: true },
    { desc: 'empty selector, some labels', text: '', labels: { app: 'web' }, matches: true },
    { desc: '= with the value', text: 'app=web', labels: { app: 'web', tier: 'x' }, matches: true },
    { desc: '= with another value', text: 'app=web', labels: { app: 'api' }, matches: false },
    { desc: '= without the key', text: 'app=web', labels: {}, matches: false },
    { desc: '= empty value, key empty', text: 'tier=', labels: { tier: '' }, matches: true },
    { desc: '= empty value, key absent', text: 'tier=', labels: {}, matches: false },
    { desc: '!= without the key (Kubernetes: matches)', text: 'tier!=db', labels: {}, matches: true },
    { desc: '!= with the value', text: 'tier!=db', labels: { tier: 'db' }, matches: false },
    { desc: '!= with another value', text: 'tier!=db', labels: { tier: 'web' }, matches: true },
    { desc: 'in, listed value', text: 'env in (a,b)', labels: { env: 'b' }, matches: true },
    { desc: 'in, other value', text: 'env in (a,b)', labels: { env: 'c' }, matches: false },
    { desc: 'notin, key absent', text: 'env notin (a,b)', labels: {}, matches: true },
    { desc: 'notin, listed value', text: 'env notin (a,b)', labels: { env: 'a' }, matches: false },
    { desc: 'exists, empty value', text: 'legacy', labels: { legacy: '' }, matches: true },
    { desc: 'exists, key absent', text: 'legacy', labels: {}, matches: false },
    { desc: 'does not exist, key absent', text: '!legacy', labels: {}, matches: true },
    { desc: 'does not exist, key present', text: '!legacy', labels: { legacy: 'x' }, matches: false },
    { desc: 'inherited names are not labels (exists)', text: 'constructor', labels: {}, matches: false },
    { desc: 'inherited names are not labels (!=)', text: 'toString!=x', labels: {}, matches: true },
    {
      desc: 'all must hold: one fails',
      text: 'app=web,!legacy',
      labels: { app: 'web', legacy: '1' },
      matches: false,
    },
    { desc: 'all must hold: all do', text: 'app=web,!legacy', labels: { app: 'web' }, matches: true },
  ])('$desc', ({ text, labels, matches }) => {
    expect(matchesLabelSelector(parseLabelSelector(text), labels)).toBe(matches);
  });
});

describe('selectorFromSpec', () => {
  it.each<{ desc: string; spec: SelectorSpec; text: string }>([
    { desc: 'an empty spec', spec: {}, text: '' },
    { desc: 'empty lists', spec: { matchLabels: {}, matchExpressions: [] }, text: '' },
    { desc: 'matchLabels', spec: { matchLabels: { app: 'web', tier: 'front' } }, text: 'app=web,tier=front' },
    {
      desc: 'matchExpressions',
      spec: {
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['a', 'b'] },
          { key: 'zone', operator: 'NotIn', values: ['c'] },
          { key: 'canary', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      },
      text: 'env in (a,b),zone notin (c),canary,!legacy',
    },
    {
      desc: 'both, matchLabels first',
      spec: { matchExpressions: [{ key: 'legacy', operator: 'DoesNotExist' }], matchLabels: { app: 'web' } },
      text: 'app=web,!legacy',
    },
  ])('builds the same selector as kubectl syntax from $desc', ({ spec, text }) => {
    expect(plain(selectorFromSpec(spec))).toEqual(plain(parseLabelSelector(text)));
  });

  it('returns EVERYTHING for an empty spec, which matches any labels', () => {
    expect(selectorFromSpec({})).toBe(EVERYTHING);
    expect(matchesLabelSelector(EVERYTHING, { anything: 'at-all' })).toBe(true);
  });

  it.each<{ desc: string; spec: SelectorSpec; field: string; reason: string }>([
    {
      desc: 'In without values',
      spec: { matchExpressions: [{ key: 'env', operator: 'In' }] },
      field: 'selector.matchExpressions[0]',
      reason: 'operator In needs at least one value',
    },
    {
      desc: 'Exists with values',
      spec: { matchExpressions: [{ key: 'env', operator: 'Exists', values: ['a'] }] },
      field: 'selector.matchExpressions[0]',
      reason: 'operator Exists takes no values',
    },
    {
      desc: 'a bad matchLabels key',
      spec: { matchLabels: { 'a b': 'x' } },
      field: 'selector.matchLabels["a b"]',
      reason: 'label key "a b" must be',
    },
    {
      desc: 'a bad matchLabels value',
      spec: { matchLabels: { app: 'a b' } },
      field: 'selector.matchLabels["app"]',
      reason: 'label value "a b" must be',
    },
  ])('refuses $desc', ({ spec, field, reason }) => {
    const err = errorFrom(() => selectorFromSpec(spec));
    expect(err.code).toBe(StateErrorCode.INVALID);
    expect(err.field).toBe(field);
    expect(err.reason).toContain(reason);
  });
});

describe('formatLabelSelector', () => {
  it.each([
    { desc: 'empty', text: '', formatted: '' },
    { desc: 'single values use = and !=', text: 'app==web, tier notin (db)', formatted: 'app=web,tier!=db' },
    {
      desc: 'sets use in and notin',
      text: 'env in (a, b),zone notin (c,d)',
      formatted: 'env in (a,b),zone notin (c,d)',
    },
    { desc: 'exists and does not exist', text: 'canary, ! legacy', formatted: 'canary,!legacy' },
    { desc: 'empty value', text: 'tier=', formatted: 'tier=' },
  ])('$desc, and round-trips', ({ text, formatted }) => {
    const selector = parseLabelSelector(text);
    expect(formatLabelSelector(selector)).toBe(formatted);
    expect(plain(parseLabelSelector(formatted))).toEqual(plain(selector));
  });
});
