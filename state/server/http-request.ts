import type { IncomingHttpHeaders } from 'node:http';
import type { WriteOptions } from '../api';
import { StateError, StateErrorCode } from '../errors';
import { CLUSTER_SCOPED, DEFAULT_NAMESPACE, type Kind, type ObjectInput, type ObjectRef } from '../model';

/** Pure helpers that turn the pieces of a REST request into StateApi arguments. */

function badField(field: string, message: string, reason: string): StateError {
  return new StateError(StateErrorCode.BAD_REQUEST, message, { field, reason });
}

function parseRevision(text: string, field: string): number {
  if (!/^\d{1,15}$/.test(text))
    throw badField(field, `${field} must be a non-negative integer`, 'not a revision');
  return Number(text);
}

/** `If-Match: "12"` (or `12`, `W/"12"`) and/or `?expectedRevision=12`; they must agree. */
export function parseWriteOptions(headers: IncomingHttpHeaders, query: URLSearchParams): WriteOptions {
  const header = headers['if-match'];
  const fromHeader =
    header === undefined
      ? undefined
      : parseRevision(header.replace(/^W\//, '').replace(/^"(.*)"$/, '$1'), 'If-Match');
  const param = query.get('expectedRevision');
  const fromQuery = param === null ? undefined : parseRevision(param, 'expectedRevision');
  if (fromHeader !== undefined && fromQuery !== undefined && fromHeader !== fromQuery) {
    throw badField('expectedRevision', 'If-Match and expectedRevision disagree', 'conflicting revisions');
  }
  const expectedRevision = fromHeader ?? fromQuery;
  return expectedRevision === undefined ? {} : { expectedRevision };
}

/** `?namespace=` for get/delete: defaulted for namespaced kinds, absent for cluster-scoped ones. */
export function refFromUrl(kind: Kind, name: string, query: URLSearchParams): ObjectRef {
  if (CLUSTER_SCOPED.has(kind)) return { kind, name };
  return { kind, name, namespace: query.get('namespace') ?? DEFAULT_NAMESPACE };
}

export function optionalParam(query: URLSearchParams, key: string): string | undefined {
  const value = query.get(key);
  return value === null || value === '' ? undefined : value;
}

/** `from` for watches; `Last-Event-ID` (EventSource resume) wins over the query. */
export function parseWatchFrom(headers: IncomingHttpHeaders, query: URLSearchParams): number {
  const lastEventId = headers['last-event-id'];
  if (typeof lastEventId === 'string' && lastEventId !== '')
    return parseRevision(lastEventId, 'Last-Event-ID');
  const from = query.get('from');
  return from === null || from === '' ? 0 : parseRevision(from, 'from');
}

export function parseBookmarkMs(query: URLSearchParams, fallback: number, minimum: number): number {
  const text = query.get('bookmarkMs');
  if (text === null || text === '') return fallback;
  const value = parseRevision(text, 'bookmarkMs');
  return value === 0 ? fallback : Math.max(value, minimum);
}

function reconcile(body: Record<string, unknown>, field: string, fromUrl: string | undefined): void {
  if (fromUrl === undefined) return;
  const inBody = body[field];
  if (inBody === undefined) {
    body[field] = fromUrl;
  } else if (inBody !== fromUrl) {
    throw badField(
      field,
      `the body's ${field} ${JSON.stringify(inBody)} does not match the URL's ${JSON.stringify(fromUrl)}`,
      'does not match the URL',
    );
  }
}

/**
 * The object a POST or PUT body describes, checked against the URL: the body's kind (and, for
 * PUT, name; and `?namespace=` when given) must match or be absent, and are filled when absent.
 * Revisions a client echoes back are dropped: the store assigns them (use If-Match for CAS).
 */
export function inputFromBody(
  body: Record<string, unknown>,
  kind: Kind,
  name: string | undefined,
  query: URLSearchParams,
): ObjectInput {
  const copy: Record<string, unknown> = { ...body };
  delete copy.revision;
  delete copy.createRevision;
  reconcile(copy, 'kind', kind);
  reconcile(copy, 'name', name);
  if (!CLUSTER_SCOPED.has(kind)) reconcile(copy, 'namespace', optionalParam(query, 'namespace'));
  // The validator in the store checks the rest of the shape (SY_STATE_INVALID, 422).
  return copy as unknown as ObjectInput;
}
