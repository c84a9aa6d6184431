import { StateError } from '../errors';
import {
  inputFromBody,
  parseBookmarkMs,
  parseWatchFrom,
  parseWriteOptions,
  refFromUrl,
} from './http-request';

function fieldOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof StateError) return `${error.code} ${error.field ?? ''}`.trim();
    throw error;
  }
  return undefined;
}

describe('inputFromBody', () => {
  it.each([
    {
      desc: 'fills kind from the URL',
      body: { name: 'a', spec: {} },
      name: undefined,
      query: '',
      want: { kind: 'Task', name: 'a' },
    },
    {
      desc: 'fills name on PUT',
      body: { spec: {} },
      name: 'a',
      query: '',
      want: { kind: 'Task', name: 'a' },
    },
    {
      desc: 'fills namespace from the query',
      body: { name: 'a' },
      name: undefined,
      query: 'namespace=prod',
      want: { namespace: 'prod' },
    },
    {
      desc: 'keeps a matching namespace',
      body: { name: 'a', namespace: 'prod' },
      name: 'a',
      query: 'namespace=prod',
      want: { namespace: 'prod' },
    },
    {
      desc: 'drops echoed revisions',
      body: { name: 'a', revision: 7, createRevision: 2 },
      name: 'a',
      query: '',
      want: { name: 'a' },
    },
  ])('$desc', ({ body, name, query, want }) => {
    const input = inputFromBody(body, 'Task', name, new URLSearchParams(query));
    expect(input).toMatchObject(want);
    expect(input).not.toHaveProperty('revision');
    expect(input).not.toHaveProperty('createRevision');
  });

  it.each([
    {
      desc: 'kind differs from the URL',
      body: { kind: 'Node', name: 'a' },
      name: undefined,
      query: '',
      want: 'SY_STATE_BAD_REQUEST kind',
    },
    {
      desc: 'name differs on PUT',
      body: { name: 'b' },
      name: 'a',
      query: '',
      want: 'SY_STATE_BAD_REQUEST name',
    },
    {
      desc: 'namespace differs from the query',
      body: { name: 'a', namespace: 'x' },
      name: 'a',
      query: 'namespace=y',
      want: 'SY_STATE_BAD_REQUEST namespace',
    },
  ])('rejects: $desc', ({ body, name, query, want }) => {
    expect(fieldOf(() => inputFromBody(body, 'Task', name, new URLSearchParams(query)))).toBe(want);
  });

  it('does not mutate the parsed body', () => {
    const body = { name: 'a', revision: 3 };
    inputFromBody(body, 'Task', undefined, new URLSearchParams());
    expect(body).toEqual({ name: 'a', revision: 3 });
  });
});

describe('parseWriteOptions', () => {
  it.each([
    { desc: 'nothing', headers: {}, query: '', want: {} },
    { desc: 'If-Match quoted', headers: { 'if-match': '"12"' }, query: '', want: { expectedRevision: 12 } },
    { desc: 'If-Match weak', headers: { 'if-match': 'W/"12"' }, query: '', want: { expectedRevision: 12 } },
    { desc: 'If-Match bare', headers: { 'if-match': '0' }, query: '', want: { expectedRevision: 0 } },
    { desc: 'query', headers: {}, query: 'expectedRevision=5', want: { expectedRevision: 5 } },
    {
      desc: 'both agreeing',
      headers: { 'if-match': '5' },
      query: 'expectedRevision=5',
      want: { expectedRevision: 5 },
    },
  ])('$desc', ({ headers, query, want }) => {
    expect(parseWriteOptions(headers, new URLSearchParams(query))).toEqual(want);
  });

  it.each([
    {
      desc: 'non-numeric If-Match',
      headers: { 'if-match': '"abc"' },
      query: '',
      want: 'SY_STATE_BAD_REQUEST If-Match',
    },
    {
      desc: 'negative query',
      headers: {},
      query: 'expectedRevision=-1',
      want: 'SY_STATE_BAD_REQUEST expectedRevision',
    },
    {
      desc: 'disagreeing',
      headers: { 'if-match': '4' },
      query: 'expectedRevision=5',
      want: 'SY_STATE_BAD_REQUEST expectedRevision',
    },
  ])('rejects: $desc', ({ headers, query, want }) => {
    expect(fieldOf(() => parseWriteOptions(headers, new URLSearchParams(query)))).toBe(want);
  });
});

describe('watch parameters', () => {
  it.each([
    { desc: 'from the query', headers: {}, query: 'from=9', want: 9 },
    { desc: 'default 0', headers: {}, query: '', want: 0 },
    {
      desc: 'Last-Event-ID wins (EventSource resume)',
      headers: { 'last-event-id': '12' },
      query: 'from=9',
      want: 12,
    },
  ])('from: $desc', ({ headers, query, want }) => {
    expect(parseWatchFrom(headers, new URLSearchParams(query))).toBe(want);
  });

  it.each([
    { desc: 'default', query: '', want: 15000 },
    { desc: 'asked', query: 'bookmarkMs=500', want: 500 },
    { desc: 'clamped to the minimum', query: 'bookmarkMs=1', want: 50 },
  ])('bookmarkMs: $desc', ({ query, want }) => {
    expect(parseBookmarkMs(new URLSearchParams(query), 15000, 50)).toBe(want);
  });

  it('refuses a malformed from', () => {
    expect(fieldOf(() => parseWatchFrom({}, new URLSearchParams('from=x')))).toBe(
      'SY_STATE_BAD_REQUEST from',
    );
  });
});

describe('refFromUrl', () => {
  it.each([
    {
      desc: 'namespaced kind defaults to default',
      kind: 'Task' as const,
      query: '',
      want: { kind: 'Task', name: 'a', namespace: 'default' },
    },
    {
      desc: 'namespaced kind from the query',
      kind: 'Task' as const,
      query: 'namespace=prod',
      want: { kind: 'Task', name: 'a', namespace: 'prod' },
    },
    {
      desc: 'cluster-scoped kind has none',
      kind: 'Node' as const,
      query: 'namespace=prod',
      want: { kind: 'Node', name: 'a' },
    },
  ])('$desc', ({ kind, query, want }) => {
    expect(refFromUrl(kind, 'a', new URLSearchParams(query))).toEqual(want);
  });
});
