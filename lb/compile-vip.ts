import { objectKey, type StoredObject, type VipBackend, type VipPort } from '../state';
import type { CompileOptions } from './compile';
import { backendAddress, byId, poolSettings, sealPool, zeroWeightReason } from './compile-pool';
import { buildHttpRouter } from './route-match';
import type { Backend, Frontend, Pool, RouteTable } from './route-table';

/**
 * VIP objects → frontends on the VIP address (pure). Each port of a VIP becomes a frontend on
 * `spec.address:port`, in the port's mode (tcp unless the VIP says http; udp for a UDP port), whose
 * pool is the VIP's backends for that port with their weights (weight 0: no new connections).
 *
 * - **A Service's own VIP shares the Service's pool.** When a VIP's only owner is one Service, its
 *   frontends route to that Service's pool (`<ns>/<svc>:<port>`): the same tasks, the Service's
 *   balancing and health-check settings, and one health check per backend, not two.
 * - **Other VIPs get pools of their own**, `VIP/<object name>:<port>`, with the settings of the
 *   first Service among their owners (by namespace/name), else the proxy's defaults.
 * - **Backend ids are stable and shared.** A VIP backend whose endpoint is what the Service compiler
 *   would make of one of the task's ports gets that same id, `Task/<ns>/<name>#<containerPort>`,
 *   so health, counters and drain state are one per endpoint whichever pool names it; a backend the
 *   snapshot cannot explain (its task not listed yet) gets `Task/<ns>/<name>@<address>:<port>`.
 * - **One listener per address:port.** Service and ingress frontends listen on `listenHost`. A VIP
 *   frontend whose address:port that listener already covers (the same address, or a wildcard
 *   listenHost of the family) is left out: silently when the listener routes to the same pool (a
 *   Service's own VIP behind a wildcard listener), with a warning otherwise (the Service keeps it).
 * - **UDP ports** become `udp` frontends, `spec.address:port` with id `<address>:<port>/udp` (a TCP
 *   and a UDP frontend share an address and port number), whose pool is always the VIP's own,
 *   `VIP/<object name>:<port>/udp` (Service UDP ports have no pools), with the VIP's UDP backends
 *   for that port. Their ids follow the rules above plus `/udp`, so a task's 53/tcp and 53/udp are
 *   two backends. UDP pools have no active check (`PASSIVE_ONLY_CHECK`); balancing is the first
 *   owning Service's (consistent hashing on the client IP) or round-robin.
 */
export interface VipInput {
  readonly vips: readonly StoredObject<'VIP'>[];
  readonly services: readonly StoredObject<'Service'>[];
  readonly tasks: readonly StoredObject<'Task'>[];
  readonly nodeAddress: ReadonlyMap<string, string>;
}

export interface VipContext {
  /** The pools compiled so far (Service pools); VIP pools are added. Compile-local, not an input. */
  readonly pools: Map<string, Pool>;
  /** Frontends on `listenHost`, by port, and the pool each routes to by default. */
  readonly taken: ReadonlyMap<number, { readonly owner: string; readonly defaultPool?: string }>;
  readonly options: CompileOptions;
  readonly prev: RouteTable | undefined;
  readonly warn: (message: string) => void;
}

interface Lookup {
  readonly services: ReadonlyMap<string, StoredObject<'Service'>>;
  readonly tasks: ReadonlyMap<string, StoredObject<'Task'>>;
  readonly nodeAddress: ReadonlyMap<string, string>;
}

export function compileVipFrontends(input: VipInput, ctx: VipContext): Frontend[] {
  const lookup: Lookup = {
    services: new Map(input.services.map((s) => [objectKey(s), s])),
    tasks: new Map(input.tasks.map((t) => [objectKey(t), t])),
    nodeAddress: input.nodeAddress,
  };
  const frontends: Frontend[] = [];
  const vips = [...input.vips].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const vip of vips) {
    const ports = [...vip.spec.ports].sort(
      (a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0),
    );
    for (const port of ports) {
      if (port.protocol === 'udp') {
        const pool = addVipPool(vip, port, lookup, ctx);
        const id = `${vip.spec.address}:${port.port}/udp`;
        frontends.push({ id, host: vip.spec.address, port: port.port, mode: 'udp', pool: pool.id });
        continue;
      }
      const poolId = servicePoolOf(vip, port, ctx) ?? addVipPool(vip, port, lookup, ctx).id;
      if (coveredByListenHost(vip, port, poolId, ctx)) continue;
      const id = `${vip.spec.address}:${port.port}`;
      const common = { id, host: vip.spec.address, port: port.port } as const;
      frontends.push(
        port.mode === 'http'
          ? { ...common, mode: 'http', router: buildHttpRouter([], poolId, () => undefined) }
          : { ...common, mode: 'tcp', pool: poolId },
      );
    }
  }
  return frontends;
}

/** The pool of the one Service that owns this VIP, if that is the VIP's only owner. */
function servicePoolOf(vip: StoredObject<'VIP'>, port: VipPort, ctx: VipContext): string | undefined {
  const owners = vip.spec.owners;
  const only = owners.length === 1 ? owners[0] : undefined;
  if (only?.kind !== 'service') return undefined;
  const id = `${only.namespace}/${only.name}:${port.port}`;
  const pool = ctx.pools.get(id);
  return pool !== undefined && pool.mode === port.mode ? id : undefined;
}

function addVipPool(vip: StoredObject<'VIP'>, port: VipPort, lookup: Lookup, ctx: VipContext): Pool {
  const owner = [...vip.spec.owners]
    .filter((o) => o.kind === 'service')
    .map((o) => `Service/${o.namespace}/${o.name}`)
    .sort()
    .map((key) => lookup.services.get(key))
    .find((s) => s !== undefined);
  const byIdMap = new Map<string, Backend>();
  for (const b of vip.spec.backends) {
    if (b.vipPort !== port.port || b.protocol !== port.protocol) continue;
    const backend = vipBackend(b, lookup);
    if (!byIdMap.has(backend.id)) byIdMap.set(backend.id, backend);
  }
  const udp = port.protocol === 'udp';
  const mode = udp ? 'udp' : port.mode;
  const pool = sealPool(
    {
      id: `${objectKey(vip)}:${port.port}${udp ? '/udp' : ''}`,
      serviceKey: objectKey(vip),
      mode,
      ...poolSettings(owner, mode, ctx.options.healthDefaults),
      backends: [...byIdMap.values()].sort(byId),
    },
    ctx.prev,
  );
  ctx.pools.set(pool.id, pool);
  return pool;
}

function endpointText(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function vipBackend(b: VipBackend, lookup: Lookup): Backend {
  const task = lookup.tasks.get(b.task);
  const containerPort = task === undefined ? undefined : containerPortOf(task, b, lookup.nodeAddress);
  const suffix = b.protocol === 'tcp' ? '' : `/${b.protocol}`;
  const id =
    containerPort === undefined
      ? `${b.task}@${endpointText(b.address, b.port)}${suffix}`
      : `${b.task}#${containerPort}${suffix}`;
  const backend: Backend = { id, taskKey: b.task, host: b.address, port: b.port, weight: b.weight };
  if (b.weight > 0) return backend;
  const reason = task === undefined ? 'weight 0' : (zeroWeightReason(task) ?? task.spec.state);
  return { ...backend, zeroWeightReason: reason };
}

/** The container port whose endpoint (as the Service compiler computes it) is this backend's. */
function containerPortOf(
  task: StoredObject<'Task'>,
  b: VipBackend,
  nodeAddress: ReadonlyMap<string, string>,
): number | undefined {
  const targets = [
    b.port,
    ...task.spec.ports.filter((p) => p.protocol === b.protocol).map((p) => p.containerPort),
  ];
  for (const target of targets) {
    const at = backendAddress(task, target, nodeAddress, b.protocol);
    if (typeof at !== 'string' && at.host === b.address && at.port === b.port) return at.containerPort;
  }
  return undefined;
}

function covers(listenHost: string, address: string): boolean {
  if (listenHost === address || listenHost === '::') return true;
  return listenHost === '0.0.0.0' && !address.includes(':');
}

function coveredByListenHost(
  vip: StoredObject<'VIP'>,
  port: VipPort,
  poolId: string,
  ctx: VipContext,
): boolean {
  const held = ctx.taken.get(port.port);
  if (held === undefined || !covers(ctx.options.listenHost, vip.spec.address)) return false;
  if (held.defaultPool !== poolId) {
    ctx.warn(
      `${objectKey(vip)} port ${port.port}: ${endpointText(ctx.options.listenHost, port.port)} of ${held.owner} already listens on ${vip.spec.address}; ${held.owner} keeps it (give the proxy a specific listen address)`,
    );
  }
  return true;
}
