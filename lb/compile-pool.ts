import type { StoredObject, TaskPort } from '../state';
import type {
  Algorithm,
  Backend,
  FrontendMode,
  HashOn,
  HealthCheckConfig,
  Pool,
  RouteTable,
} from './route-table';

/**
 * Pieces the Service compiler (`compile.ts`) and the VIP compiler (`compile-vip.ts`) share: where a
 * task port is reached, why a backend gets weight 0, a pool's balancing and health settings, and
 * sealing a pool (its signature, and the previous object when nothing changed). All pure.
 */

/** Tasks whose process serves traffic (killing ones finish their work at weight 0). */
export const SERVING_STATES: ReadonlySet<string> = new Set(['running', 'killing']);

export function healthCheckOf(
  service: StoredObject<'Service'> | undefined,
  defaults: HealthCheckConfig,
): HealthCheckConfig {
  const spec = service?.spec.loadBalancing?.healthCheck;
  if (!spec) return defaults;
  const intervalMs = spec.intervalMs ?? defaults.intervalMs;
  return {
    type: spec.type,
    path: spec.path ?? defaults.path,
    intervalMs,
    // HAProxy: without `timeout check`, the interval bounds the whole check.
    timeoutMs: spec.timeoutMs ?? Math.min(defaults.timeoutMs, intervalMs),
    rise: spec.rise ?? defaults.rise,
    fall: spec.fall ?? defaults.fall,
  };
}

/**
 * UDP pools: no active check (there is no generic UDP check). Backends are UP from the start and
 * only passive health applies: DC/OS l4lb's rule that a running task whose scheduler does not call
 * it unhealthy takes traffic (weight 0 already says draining/unhealthy), plus ejection on ICMP
 * port-unreachable. The numbers are unused; they keep the shape.
 */
export const PASSIVE_ONLY_CHECK: HealthCheckConfig = {
  type: 'none',
  path: '/',
  intervalMs: 0,
  timeoutMs: 0,
  rise: 1,
  fall: 1,
};

/** Balancing and health settings of a pool: the Service's where one is given, else the defaults. */
export function poolSettings(
  service: StoredObject<'Service'> | undefined,
  mode: FrontendMode,
  healthDefaults: HealthCheckConfig,
): { algorithm: Algorithm; hashOn: HashOn; healthCheck: HealthCheckConfig } {
  const lb = service?.spec.loadBalancing;
  return {
    algorithm: lb?.algorithm ?? 'round-robin',
    hashOn: mode === 'http' ? (lb?.hashOn ?? 'cookie') : 'client-ip',
    healthCheck: mode === 'udp' ? PASSIVE_ONLY_CHECK : healthCheckOf(service, healthDefaults),
  };
}

export function findTaskPort(
  ports: readonly TaskPort[],
  target: number | string,
  protocol: TaskPort['protocol'] = 'tcp',
): TaskPort | undefined {
  return ports.find((p) =>
    typeof target === 'string' ? p.name === target : p.containerPort === target && p.protocol === protocol,
  );
}

/** ip-per-container: task IP + container port; otherwise node address + host port. A string says why not. */
export function backendAddress(
  task: StoredObject<'Task'>,
  target: number | string,
  nodeAddress: ReadonlyMap<string, string>,
  protocol: TaskPort['protocol'] = 'tcp',
): { host: string; port: number; containerPort: number } | string {
  const port = findTaskPort(task.spec.ports, target, protocol);
  if (task.spec.networkMode === 'ip-per-container') {
    const ip = task.spec.ips[0];
    if (ip === undefined) return 'has no IP yet';
    const containerPort = port?.containerPort ?? (typeof target === 'number' ? target : undefined);
    if (containerPort === undefined) return `has no port named ${JSON.stringify(target)}`;
    return { host: ip, port: containerPort, containerPort };
  }
  if (!port) return `has no port ${JSON.stringify(target)}`;
  const host = nodeAddress.get(task.spec.node);
  if (host === undefined) return `runs on unknown node ${JSON.stringify(task.spec.node)}`;
  const hostPort = port.hostPort ?? (task.spec.networkMode === 'host' ? port.containerPort : undefined);
  if (hostPort === undefined) return `port ${port.containerPort} has no host port`;
  return { host, port: hostPort, containerPort: port.containerPort };
}

export function zeroWeightReason(task: StoredObject<'Task'>): string | undefined {
  if (task.spec.draining) return 'draining';
  if (task.spec.state === 'killing') return 'killing';
  if (task.spec.health === 'unhealthy') return 'unhealthy';
  return undefined;
}

export function byId(a: Backend, b: Backend): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Add the signature; reuse the previous object when nothing changed (identity = "unchanged"). */
export function sealPool(fields: Omit<Pool, 'signature'>, prev: RouteTable | undefined): Pool {
  const signature = JSON.stringify(fields);
  const old = prev?.pools.get(fields.id);
  return old && old.signature === signature ? old : { ...fields, signature };
}
