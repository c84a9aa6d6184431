import {
  DEFAULT_NAMESPACE,
  objectKey,
  type ServicePort,
  type StoredObject,
  serviceSelectsTask,
} from '../state';
import {
  backendAddress,
  byId,
  poolSettings,
  sealPool,
  SERVING_STATES,
  zeroWeightReason,
} from './compile-pool';
import { compileVipFrontends } from './compile-vip';
import { buildHttpRouter, type IngressRuleInput } from './route-match';
import type {
  Backend,
  Frontend,
  FrontendMode,
  HealthCheckConfig,
  HttpRouter,
  Pool,
  RouteTable,
} from './route-table';

/** What the route table is compiled from: plain arrays, as an informer lists them. */
export interface RouteSnapshot {
  readonly services: readonly StoredObject<'Service'>[];
  readonly tasks: readonly StoredObject<'Task'>[];
  readonly nodes: readonly StoredObject<'Node'>[];
  /** VIP objects (written by the VIP controller): one frontend per port (TCP or UDP) on the VIP address. */
  readonly vips?: readonly StoredObject<'VIP'>[];
}

export interface CompileOptions {
  /** The address every frontend listens on. */
  readonly listenHost: string;
  /** The shared HTTP frontend that serves ingress rules (marathon-lb's :80); null for none. */
  readonly ingressPort: number | null;
  /** The same ingress rules behind TLS (marathon-lb's :443); null or absent for none. */
  readonly httpsPort?: number | null;
  /** Health-check settings for pools whose service sets none (HAProxy: TCP, inter 2 s, rise 2, fall 3). */
  readonly healthDefaults: HealthCheckConfig;
  /** Serve VIP objects on their addresses (default true); false for an edge proxy that should not. */
  readonly serveVips?: boolean;
}

export const DEFAULT_HEALTH_CHECK: HealthCheckConfig = {
  type: 'tcp',
  path: '/',
  intervalMs: 2000,
  timeoutMs: 2000,
  rise: 2,
  fall: 3,
};

export const DEFAULT_COMPILE_OPTIONS: CompileOptions = {
  listenHost: '0.0.0.0',
  ingressPort: 80,
  healthDefaults: DEFAULT_HEALTH_CHECK,
};

function buildBackends(
  service: StoredObject<'Service'>,
  servicePort: ServicePort,
  tasks: readonly StoredObject<'Task'>[],
  nodeAddress: ReadonlyMap<string, string>,
  warn: (message: string) => void,
): Backend[] {
  const namespace = service.namespace ?? DEFAULT_NAMESPACE;
  const target = servicePort.targetPort ?? servicePort.port;
  const backends: Backend[] = [];
  for (const task of tasks) {
    if ((task.namespace ?? DEFAULT_NAMESPACE) !== namespace || !SERVING_STATES.has(task.spec.state)) continue;
    if (!serviceSelectsTask(service, task)) continue;
    const taskKey = objectKey(task);
    const address = backendAddress(task, target, nodeAddress);
    if (typeof address === 'string') {
      warn(`${objectKey(service)} port ${servicePort.port}: task ${taskKey} ${address}; skipped`);
      continue;
    }
    const reason = zeroWeightReason(task);
    const backend: Backend = {
      id: `${taskKey}#${address.containerPort}`,
      taskKey,
      host: address.host,
      port: address.port,
      weight: reason ? 0 : 1,
    };
    backends.push(reason ? { ...backend, zeroWeightReason: reason } : backend);
  }
  return backends.sort(byId);
}

function buildPool(
  service: StoredObject<'Service'>,
  servicePort: ServicePort,
  backends: Backend[],
  options: CompileOptions,
  prev: RouteTable | undefined,
): Pool {
  const mode: FrontendMode = servicePort.mode ?? 'tcp'; // UDP ports get no Service pool
  const { algorithm, hashOn, healthCheck } = poolSettings(service, mode, options.healthDefaults);
  const id = `${service.namespace ?? DEFAULT_NAMESPACE}/${service.name}:${servicePort.port}`;
  return sealPool(
    { id, serviceKey: objectKey(service), mode, algorithm, hashOn, healthCheck, backends },
    prev,
  );
}

/** Service and ingress frontends on `listenHost`: TCP ports only (UDP is served on VIPs). */
interface FrontendDraft {
  host: string;
  port: number;
  mode: 'http' | 'tcp';
  owner: string;
  defaultPool?: string;
  rules: IngressRuleInput[];
  /** The HTTPS ingress frontend. */
  tls?: true;
}

function sortByKey<T extends StoredObject>(objects: readonly T[]): T[] {
  return [...objects].sort((a, b) =>
    objectKey(a) < objectKey(b) ? -1 : objectKey(a) > objectKey(b) ? 1 : 0,
  );
}

function addServiceFrontends(
  service: StoredObject<'Service'>,
  poolIdByPort: ReadonlyMap<number, string>,
  drafts: Map<number, FrontendDraft>,
  options: CompileOptions,
  warn: (message: string) => void,
): void {
  for (const servicePort of service.spec.ports) {
    // UDP ports have no pool here (the TCP port of the same number may): served on VIPs only.
    const poolId = servicePort.protocol === 'tcp' ? poolIdByPort.get(servicePort.port) : undefined;
    if (poolId === undefined) continue;
    const mode = servicePort.mode ?? 'tcp';
    const existing = drafts.get(servicePort.port);
    if (existing) {
      warn(
        `port ${servicePort.port}: claimed by ${existing.owner} and ${poolId}; ${existing.owner} keeps it`,
      );
      continue;
    }
    drafts.set(servicePort.port, {
      host: options.listenHost,
      port: servicePort.port,
      mode,
      owner: poolId,
      defaultPool: poolId,
      rules: [],
    });
  }
}

function ingressRulesOf(
  service: StoredObject<'Service'>,
  poolIdByPort: ReadonlyMap<number, string>,
  warn: (m: string) => void,
): IngressRuleInput[] {
  const rules: IngressRuleInput[] = [];
  for (const rule of service.spec.ingress ?? []) {
    const servicePort = service.spec.ports.find((p) =>
      typeof rule.port === 'string' ? p.name === rule.port : p.port === rule.port,
    );
    const poolId = servicePort && poolIdByPort.get(servicePort.port);
    if (poolId === undefined) {
      warn(
        `${objectKey(service)}: ingress rule ${rule.host ?? '*'}${rule.path} names unknown port ${JSON.stringify(rule.port)}`,
      );
      continue;
    }
    rules.push(
      rule.host === undefined
        ? { path: rule.path, pathType: rule.pathType, pool: poolId }
        : { host: rule.host, path: rule.path, pathType: rule.pathType, pool: poolId },
    );
  }
  return rules;
}

function finishFrontend(
  draft: FrontendDraft,
  warn: (message: string) => void,
  router?: HttpRouter,
): Frontend {
  const id = `${draft.host}:${draft.port}`;
  if (draft.mode === 'tcp')
    return { id, host: draft.host, port: draft.port, mode: 'tcp', pool: draft.defaultPool ?? '' };
  const built =
    router ??
    buildHttpRouter(draft.rules, draft.defaultPool, (rule, winner) =>
      warn(
        `${id}: ingress ${rule.host ?? '*'} ${rule.pathType} ${rule.path} → ${rule.pool} conflicts with ${winner}; ${winner} keeps it`,
      ),
    );
  const frontend: Frontend = { id, host: draft.host, port: draft.port, mode: 'http', router: built };
  return draft.tls ? { ...frontend, tls: true } : frontend;
}

/** Every draft as a frontend; the HTTPS ingress frontend shares the plain ingress frontend's router. */
function finishFrontends(
  drafts: ReadonlyMap<number, FrontendDraft>,
  options: CompileOptions,
  warn: (message: string) => void,
): Frontend[] {
  const frontends: Frontend[] = [];
  let secure: FrontendDraft | undefined;
  let ingressRouter: HttpRouter | undefined;
  for (const draft of drafts.values()) {
    if (draft.tls) {
      secure = draft;
      continue;
    }
    const frontend = finishFrontend(draft, warn);
    if (draft.port === options.ingressPort) ingressRouter = frontend.router;
    frontends.push(frontend);
  }
  if (secure) frontends.push(finishFrontend(secure, warn, ingressRouter));
  return frontends;
}

/** The shared HTTP frontend for ingress rules, on `ingressPort` (merged into a service's HTTP frontend there). */
function addIngressFrontend(
  ingress: readonly IngressRuleInput[],
  drafts: Map<number, FrontendDraft>,
  options: CompileOptions,
  warn: (message: string) => void,
): void {
  if (ingress.length === 0 || options.ingressPort === null) return;
  const port = options.ingressPort;
  const draft = drafts.get(port) ?? {
    host: options.listenHost,
    port,
    mode: 'http' as const,
    owner: 'ingress',
    rules: [],
  };
  if (draft.mode === 'tcp') {
    warn(`ingress port ${port} is a TCP frontend of ${draft.owner}; ingress rules dropped`);
    return;
  }
  draft.rules.push(...ingress);
  drafts.set(port, draft);
}

/**
 * The HTTPS ingress frontend on `httpsPort` (marathon-lb's :443): the same rules as the plain one
 * (its router, once finished), behind TLS. A service port already there keeps it.
 */
function addHttpsFrontend(
  ingress: readonly IngressRuleInput[],
  drafts: Map<number, FrontendDraft>,
  options: CompileOptions,
  warn: (message: string) => void,
): void {
  const port = options.httpsPort;
  if (ingress.length === 0 || port === undefined || port === null) return;
  const existing = drafts.get(port);
  if (existing) {
    warn(`https port ${port} is a frontend of ${existing.owner}; no HTTPS ingress there`);
    return;
  }
  const plain = options.ingressPort === null ? undefined : drafts.get(options.ingressPort);
  const draft: FrontendDraft = {
    host: options.listenHost,
    port,
    mode: 'http',
    owner: 'ingress (https)',
    rules: [...ingress],
    tls: true,
  };
  if (plain?.mode === 'http' && plain.defaultPool !== undefined) draft.defaultPool = plain.defaultPool;
  drafts.set(port, draft);
}

/**
 * Compile a snapshot of Services, Tasks, Nodes and VIPs into an immutable route table. Pure: no I/O,
 * inputs untouched, output deterministic (sorted by key). `prev` lets unchanged pools keep their
 * identity. Conflicts never throw: the earlier object (by key) wins and a warning says so.
 */
export function compileRouteTable(
  snapshot: RouteSnapshot,
  prev?: RouteTable,
  options: CompileOptions = DEFAULT_COMPILE_OPTIONS,
): RouteTable {
  const warnings: string[] = [];
  const warn = (message: string): void => void warnings.push(message);
  const nodeAddress = new Map(snapshot.nodes.map((n) => [n.name, n.spec.address] as const));
  const pools = new Map<string, Pool>();
  const drafts = new Map<number, FrontendDraft>();
  const ingress: IngressRuleInput[] = [];
  let revision = 0;
  for (const object of [...snapshot.services, ...snapshot.tasks, ...snapshot.nodes, ...(snapshot.vips ?? [])])
    revision = Math.max(revision, object.revision);
  for (const service of sortByKey(snapshot.services)) {
    const poolIdByPort = new Map<number, string>();
    for (const servicePort of service.spec.ports) {
      if (servicePort.protocol !== 'tcp') continue;
      const backends = buildBackends(service, servicePort, snapshot.tasks, nodeAddress, warn);
      const pool = buildPool(service, servicePort, backends, options, prev);
      pools.set(pool.id, pool);
      poolIdByPort.set(servicePort.port, pool.id);
    }
    addServiceFrontends(service, poolIdByPort, drafts, options, warn);
    ingress.push(...ingressRulesOf(service, poolIdByPort, warn));
  }
  addIngressFrontend(ingress, drafts, options, warn);
  addHttpsFrontend(ingress, drafts, options, warn);
  const vipFrontends =
    options.serveVips === false
      ? []
      : compileVipFrontends(
          { vips: snapshot.vips ?? [], services: snapshot.services, tasks: snapshot.tasks, nodeAddress },
          { pools, taken: drafts, options, prev, warn },
        );
  const frontends = [...finishFrontends(drafts, options, warn), ...vipFrontends].sort(
    (a, b) =>
      a.port - b.port ||
      (a.host < b.host ? -1 : a.host > b.host ? 1 : 0) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return { revision, frontends, frontendsById: new Map(frontends.map((f) => [f.id, f])), pools, warnings };
}
