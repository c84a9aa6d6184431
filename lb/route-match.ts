import type { HostRoutes, HttpRouter } from './route-table';

/**
 * HTTP host/path matching. Rules are compiled into maps so a lookup costs one host map lookup plus
 * one map lookup per path segment (longest prefix first), independent of the number of rules.
 */

export interface IngressRuleInput {
  readonly host?: string;
  readonly path: string;
  readonly pathType: 'Exact' | 'Prefix';
  readonly pool: string;
}

interface MutableHostRoutes {
  exact: Map<string, string>;
  prefix: Map<string, string>;
}

/** `/foo/` and `/foo` are the same prefix; the root is `/`. */
export function normalisePrefix(path: string): string {
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === 47 /* / */) end--;
  return path.slice(0, end) || '/';
}

function routesFor(map: Map<string, MutableHostRoutes>, key: string): MutableHostRoutes {
  let routes = map.get(key);
  if (!routes) {
    routes = { exact: new Map(), prefix: new Map() };
    map.set(key, routes);
  }
  return routes;
}

/**
 * Build a router. When two rules claim the same host, path and type, the first one wins (callers
 * pass rules in a stable order) and the loser is reported through `onConflict`.
 */
export function buildHttpRouter(
  rules: readonly IngressRuleInput[],
  defaultPool: string | undefined,
  onConflict: (rule: IngressRuleInput, winner: string) => void = () => undefined,
): HttpRouter {
  const hosts = new Map<string, MutableHostRoutes>();
  const wildcards = new Map<string, MutableHostRoutes>();
  const anyHost: MutableHostRoutes = { exact: new Map(), prefix: new Map() };
  for (const rule of rules) {
    const host = (rule.host ?? '').toLowerCase();
    let routes = anyHost;
    if (host.startsWith('*.')) routes = routesFor(wildcards, host.slice(2));
    else if (host !== '') routes = routesFor(hosts, host);
    const table = rule.pathType === 'Exact' ? routes.exact : routes.prefix;
    const key = rule.pathType === 'Exact' ? rule.path : normalisePrefix(rule.path);
    const existing = table.get(key);
    if (existing !== undefined) onConflict(rule, existing);
    else table.set(key, rule.pool);
  }
  return defaultPool === undefined
    ? { hosts, wildcards, anyHost }
    : { hosts, wildcards, anyHost, defaultPool };
}

function matchPath(routes: HostRoutes, path: string): string | undefined {
  const exact = routes.exact.get(path);
  if (exact !== undefined) return exact;
  if (routes.prefix.size === 0) return undefined;
  // Walk from the whole path down to `/`, one segment at a time: the first hit is the longest match.
  let candidate = normalisePrefix(path);
  for (;;) {
    const hit = routes.prefix.get(candidate);
    if (hit !== undefined) return hit;
    if (candidate === '/') return undefined;
    const slash = candidate.lastIndexOf('/');
    candidate = slash <= 0 ? '/' : candidate.slice(0, slash);
  }
}

/** The host part of a Host header, lower-cased, without the port (IPv6 literals keep their brackets). */
export function hostOnly(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  const lower = hostHeader.toLowerCase();
  if (lower.startsWith('[')) {
    const close = lower.indexOf(']');
    return close < 0 ? lower : lower.slice(0, close + 1);
  }
  const colon = lower.indexOf(':');
  return colon < 0 ? lower : lower.slice(0, colon);
}

/**
 * The pool for a request: the host's own rules, then a one-label wildcard, then host-less rules,
 * then the frontend's default pool. `url` may carry a query string; it is ignored.
 */
export function matchRoute(
  router: HttpRouter,
  hostHeader: string | undefined,
  url: string,
): string | undefined {
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  const host = hostOnly(hostHeader);
  if (host !== '') {
    const own = router.hosts.get(host);
    const byHost = own && matchPath(own, path);
    if (byHost !== undefined) return byHost;
    const dot = host.indexOf('.');
    const wild = dot > 0 ? router.wildcards.get(host.slice(dot + 1)) : undefined;
    const byWildcard = wild && matchPath(wild, path);
    if (byWildcard !== undefined) return byWildcard;
  }
  return matchPath(router.anyHost, path) ?? router.defaultPool;
}
