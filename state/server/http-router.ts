import { StateError, StateErrorCode } from '../errors';
import { kindFromName, type Kind } from '../model';

/** What a REST request asks for; `template` is the metrics label (bounded cardinality). */
export type Operation =
  'healthz' | 'readyz' | 'metrics' | 'list' | 'watch' | 'create' | 'get' | 'replace' | 'delete';

export interface RouteMatch {
  template: string;
  operation: Operation;
  /** Absent only for `/v1/watch` (all kinds) and the health routes. */
  kind?: Kind;
  /** The object name from `/v1/<plural>/<name>`. */
  name?: string;
}

/** Route templates for metrics when nothing matched. */
export const UNMATCHED = 'unmatched';

const FIXED: Readonly<Record<string, Operation>> = {
  '/healthz': 'healthz',
  '/readyz': 'readyz',
  '/metrics': 'metrics',
};

function notFound(pathname: string): StateError {
  return new StateError(StateErrorCode.NOT_FOUND, `no route for ${pathname}`, { reason: 'unknown route' });
}

function methodNotAllowed(method: string, allow: readonly string[]): StateError {
  return new StateError(StateErrorCode.BAD_REQUEST, `method ${method} not allowed here`, {
    reason: 'method not allowed',
    details: { status: 405, allow: allow.join(', ') },
  });
}

function isWatch(query: URLSearchParams): boolean {
  const value = query.get('watch');
  return value === '1' || value === 'true';
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new StateError(StateErrorCode.BAD_REQUEST, 'malformed percent-encoding in the path', {
      field: 'name',
      reason: 'malformed percent-encoding',
    });
  }
}

function pick(method: string, table: Readonly<Record<string, Operation>>): Operation {
  const operation = table[method];
  if (operation === undefined) throw methodNotAllowed(method, Object.keys(table));
  return operation;
}

/**
 * Matches a request to an operation. Pure. Throws SY_STATE_NOT_FOUND (404) for an unknown path
 * or kind, and SY_STATE_BAD_REQUEST with details.status 405 and details.allow for a wrong method.
 */
export function matchRoute(method: string, pathname: string, query: URLSearchParams): RouteMatch {
  const fixed = FIXED[pathname];
  if (fixed !== undefined) {
    pick(method, { GET: fixed });
    return { template: pathname, operation: fixed };
  }
  const segments = pathname.split('/');
  // ['', 'v1', plural] or ['', 'v1', plural, name]
  if (segments[0] !== '' || segments[1] !== 'v1' || segments.length < 3 || segments.length > 4) {
    throw notFound(pathname);
  }
  const plural = segments[2] ?? '';
  const rawName = segments[3];
  if (plural === 'watch' && rawName === undefined) {
    pick(method, { GET: 'watch' });
    return { template: '/v1/watch', operation: 'watch' };
  }
  const kind = kindFromName(plural);
  if (kind === undefined || rawName === '') throw notFound(pathname);
  if (rawName === undefined) {
    const operation = pick(method, { GET: isWatch(query) ? 'watch' : 'list', POST: 'create' });
    return { template: '/v1/:plural', operation, kind };
  }
  const operation = pick(method, { GET: 'get', PUT: 'replace', DELETE: 'delete' });
  return { template: '/v1/:plural/:name', operation, kind, name: decodeSegment(rawName) };
}
