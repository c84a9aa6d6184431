/**
 * The compiled route table: an immutable artifact built by `compileRouteTable` and swapped in as one
 * reference. Runtime state (health, connections, balancer positions) is not here: it lives in
 * `BackendStates`, keyed by the stable backend ids this table names.
 */

/** `http` (L7), `tcp` (L4 splice) or `udp` (L4 datagrams, per-client sessions: VIP UDP ports). */
export type FrontendMode = 'http' | 'tcp' | 'udp';
export type Algorithm = 'round-robin' | 'least-connections' | 'consistent-hash';
export type HashOn = 'cookie' | 'client-ip';

export interface HealthCheckConfig {
  /**
   * `none`: no active check, backends are UP from the start and only passive health (ejection)
   * applies. UDP pools use it: there is no generic UDP check (DC/OS l4lb semantics).
   */
  readonly type: 'http' | 'tcp' | 'none';
  /** HTTP checks only: the path requested with GET; 2xx and 3xx pass. */
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rise: number;
  readonly fall: number;
}

export interface Backend {
  /**
   * Stable across compiles: `<task key>#<container port>`, e.g. `Task/default/web-1#8080`; a UDP
   * backend's ends in `/udp` (`Task/default/dns-1#53/udp`), so a task's 53/tcp and 53/udp are two
   * backends with their own state.
   */
  readonly id: string;
  readonly taskKey: string;
  readonly host: string;
  readonly port: number;
  /** 0 for draining, killing or scheduler-unhealthy tasks: no new traffic, open requests finish. */
  readonly weight: number;
  /** Why the weight is 0, for the stats page (`draining`, `killing`, `unhealthy`), else undefined. */
  readonly zeroWeightReason?: string;
}

export interface Pool {
  /** `<namespace>/<service>:<port>`. */
  readonly id: string;
  readonly serviceKey: string;
  readonly mode: FrontendMode;
  readonly algorithm: Algorithm;
  readonly hashOn: HashOn;
  readonly healthCheck: HealthCheckConfig;
  /** Sorted by id. */
  readonly backends: readonly Backend[];
  /** A digest of everything above: equal signatures mean equal pools (lets compile reuse objects). */
  readonly signature: string;
}

/** HTTP routing for one host: exact paths, then prefixes (path-segment semantics), longest first. */
export interface HostRoutes {
  readonly exact: ReadonlyMap<string, string>;
  /** Normalised prefix (no trailing slash, `/` for the root) → pool id. */
  readonly prefix: ReadonlyMap<string, string>;
}

export interface HttpRouter {
  /** Lower-cased host without port → routes. */
  readonly hosts: ReadonlyMap<string, HostRoutes>;
  /** `*.example.org` rules, keyed by the suffix `example.org`; a wildcard matches exactly one label. */
  readonly wildcards: ReadonlyMap<string, HostRoutes>;
  /** Rules without a host. */
  readonly anyHost: HostRoutes;
  /** The pool of the service port that owns the frontend, if any. */
  readonly defaultPool?: string;
}

export interface Frontend {
  /**
   * `<listen host>:<port>` (`<address>:<port>/udp` for UDP) — the listener key; a frontend keeps its
   * listener across compiles.
   */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly mode: FrontendMode;
  /** HTTP frontends. */
  readonly router?: HttpRouter;
  /** TCP and UDP frontends. */
  readonly pool?: string;
  /** HTTP behind TLS (the HTTPS ingress frontend): certificates by SNI, `X-Forwarded-Proto: https`. */
  readonly tls?: boolean;
}

export interface RouteTable {
  /** The highest store revision among the inputs. */
  readonly revision: number;
  /** Sorted by id. */
  readonly frontends: readonly Frontend[];
  readonly frontendsById: ReadonlyMap<string, Frontend>;
  readonly pools: ReadonlyMap<string, Pool>;
  /** Things compile skipped and why (port conflicts, tasks without an address), for logs and the stats page. */
  readonly warnings: readonly string[];
}
