import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  acquireDirLock,
  createRegistry,
  isDirLock,
  silentLogger,
  type DirLock,
  type Logger,
  type Registry,
} from '../lib';
import {
  CniError,
  CniErrorCode,
  compileNatRuleset,
  ipamHandlers,
  nftApply,
  pluginHandlers,
  runCommand,
  type AttachmentEvent,
  type CommandRunner,
  type NodeNetwork,
  type PluginHost,
} from '../cni';
import { createInformer, type Informer, type StateApi, type StoredObject } from '../state';
import type { AgentConfig } from './config';
import { AgentError, AgentErrorCode } from './errors';
import { createDataplane } from './dataplane';
import { openJournal, type Journal } from './ipam/journal';
import { createIpamStore, type IpamStore } from './ipam/store';
import { acquireLease, renewLease, type LeaseOptions } from './lease';
import { createAgentMetrics, type AgentMetrics } from './metrics';
import { compileRoutes, diffRoutes, parseRouteList, type RouteTable } from './routes';
import { createSerialRunner, type SerialRunner } from './serial';
import { startCniServer } from './server';
import { gatewayOf } from './subnet';
import { createTaskReporter, type TaskReporter } from './tasks';
import { startVipBinder, type VipBinder } from './vip-binder';

/**
 * The per-host agent: leases the node subnet, sets up the bridge, serves the CNI plugin and IPAM
 * over the unix socket, keeps the NAT table and the host-gateway routes in line with state, and
 * reports container addresses as Task status.
 */
export interface AgentOptions {
  config: AgentConfig;
  api: StateApi;
  logger?: Logger;
  registry?: Registry;
  run?: CommandRunner;
  writeSysctl?: (path: string, value: string) => Promise<void>;
  now?: () => Date;
  random?: () => number;
}

export interface Agent {
  /** The leased node (after start). */
  node(): StoredObject<'Node'> | undefined;
  ready(): boolean;
  /** Waits for queued route, NAT and task writes (tests). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface Parts {
  o: AgentOptions;
  log: Logger;
  metrics: AgentMetrics;
  ipam: IpamStore;
  journal: Journal;
  run: CommandRunner;
  network?: NodeNetwork;
  node?: StoredObject<'Node'>;
  revoked: boolean;
  nat?: SerialRunner;
  routes?: SerialRunner;
  informer?: Informer;
  tasks?: TaskReporter;
  vips?: VipBinder;
}

function buildHost(p: Parts, dataplane: ReturnType<typeof createDataplane>): PluginHost {
  return {
    network() {
      if (p.network === undefined || p.revoked)
        throw new CniError(
          CniErrorCode.TRY_AGAIN,
          'the node has no pod subnet',
          p.revoked ? 'the lease was revoked' : 'the agent is still leasing a node subnet',
        );
      return p.network;
    },
    status() {
      if (p.network === undefined || p.revoked)
        throw new CniError(
          CniErrorCode.NOT_READY,
          'the switchyard agent cannot serve ADD yet',
          'no node subnet leased',
        );
    },
    ipam: p.ipam,
    links: dataplane,
    syncNat: () => (p.nat === undefined ? Promise.resolve() : p.nat.request()),
    onAttachment(event: AttachmentEvent) {
      const usage = p.ipam.usage();
      p.metrics.addressesUsed.set(usage.used);
      p.tasks?.report(event);
    },
  };
}

async function readPrevious(dir: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(join(dir, 'subnet.json'), 'utf8')) as { subnet?: string }).subnet;
  } catch {
    return undefined;
  }
}

function natRunner(p: Parts): SerialRunner {
  return createSerialRunner(async () => {
    const net = p.network;
    if (net === undefined) return;
    const attachments = p.ipam.list().filter((r) => !p.ipam.isReleasing(r));
    const text = compileNatRuleset({
      table: p.o.config.natTable,
      nodeSubnet: net.subnet,
      podCIDR: net.podCIDR,
      attachments,
    });
    try {
      await nftApply(p.run, text, p.o.config.dataDir);
    } catch (error) {
      p.metrics.applyErrors.inc({ what: 'nftables' });
      throw new CniError(
        CniErrorCode.DATAPLANE,
        'applying the nftables table failed',
        (error as Error).message,
      );
    }
  });
}

function routeRunner(p: Parts, informer: Informer): SerialRunner {
  const proto = p.o.config.routeProtocol;
  let applied: RouteTable | undefined;
  return createSerialRunner(async () => {
    if (applied === undefined)
      applied = parseRouteList((await p.run('ip', ['-j', 'route', 'show', 'proto', String(proto)])).stdout);
    const next = compileRoutes(informer.list(), p.o.config.nodeName);
    const lines = diffRoutes(applied, next, proto);
    if (lines.length > 0) {
      try {
        await p.run('ip', ['-force', '-batch', '-'], lines.join('\n') + '\n');
      } catch (error) {
        p.metrics.applyErrors.inc({ what: 'routes' });
        applied = undefined; // re-read what is really there next time
        p.log.warn({ err: error }, 'Some host-gateway routes failed');
        return;
      }
    }
    applied = next;
    p.metrics.routes.set(next.size);
  });
}

async function lease(p: Parts, dataplane: ReturnType<typeof createDataplane>): Promise<void> {
  const c = p.o.config;
  const leaseOptions: LeaseOptions = {
    api: p.o.api,
    nodeName: c.nodeName,
    address: c.nodeAddress,
    network: c.network,
    ttlMs: c.leaseTtlMs,
    now: p.o.now ?? (() => new Date()),
    random: p.o.random ?? Math.random,
  };
  const previous = await readPrevious(c.dataDir);
  const node = await acquireLease(
    previous === undefined ? leaseOptions : { ...leaseOptions, previousSubnet: previous },
  );
  const subnet = node.spec.podSubnet as string;
  await writeFile(join(c.dataDir, 'subnet.json'), JSON.stringify({ subnet }) + '\n', { mode: 0o600 });
  p.node = node;
  const net = (await p.o.api.get({ kind: 'Network', name: c.network })) as StoredObject<'Network'>;
  p.ipam.setSubnet(subnet);
  p.metrics.addressesTotal.set(p.ipam.usage().size);
  const gateway = gatewayOf(subnet);
  const bridgeMac = await dataplane.ensureBridge(`${gateway}/${subnet.split('/')[1] ?? ''}`);
  p.network = {
    subnet,
    prefix: Number(subnet.split('/')[1]),
    gateway,
    podCIDR: net.spec.podCIDR,
    bridge: c.bridge,
    bridgeMac,
  };
  p.log.info({ subnet, node: c.nodeName }, 'Leased the node subnet');
  heartbeat(p, leaseOptions, subnet);
}

function heartbeat(p: Parts, o: LeaseOptions, subnet: string): void {
  const timer = setInterval(() => {
    if (p.node === undefined || p.revoked) return;
    renewLease(o, p.node, subnet).then(
      (node) => (p.node = node),
      (error: unknown) => {
        if ((error as { code?: string }).code === 'SY_AGENT_LEASE_REVOKED') {
          p.revoked = true;
          p.log.error({ err: error }, 'The node lease was revoked; ADD is refused until the agent restarts');
        } else p.log.warn({ err: error }, 'Lease renewal failed; retrying at the next heartbeat');
      },
    );
  }, p.o.config.heartbeatIntervalMs);
  stoppers.set(p, () => clearInterval(timer));
}

const stoppers = new WeakMap<Parts, () => void>();

/** Lease, bridge, NAT table, routes: retried with backoff until it works or the agent closes. */
async function setup(
  p: Parts,
  dataplane: ReturnType<typeof createDataplane>,
  closed: AbortSignal,
): Promise<void> {
  const c = p.o.config;
  for (let delayMs = 250; !closed.aborted; delayMs = Math.min(delayMs * 2, 10_000)) {
    try {
      if (p.network === undefined) await lease(p, dataplane);
      p.nat ??= natRunner(p);
      await p.nat.request(); // the table again after a restart, from the journal
      if (c.hostGatewayRoutes && p.informer === undefined) {
        const informer = createInformer({ api: p.o.api, kind: 'Node', logger: p.log, signal: closed });
        p.routes = routeRunner(p, informer);
        informer.subscribe(() => void p.routes?.request().catch(() => undefined));
        await informer.start();
        p.informer = informer;
        await p.routes.request();
      }
      if (c.bindVips)
        p.vips ??= await startVipBinder({
          api: p.o.api,
          run: p.run,
          ifname: c.vipInterface,
          log: p.log,
          metrics: p.metrics,
          signal: closed,
        });
      return;
    } catch (error) {
      p.log.warn({ err: error, retryInMs: delayMs }, 'Agent setup failed; retrying');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delayMs);
        closed.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

export async function startAgent(o: AgentOptions): Promise<Agent> {
  const c = o.config;
  const log = (o.logger ?? silentLogger()).child({ room: 'agent' });
  const registry = o.registry ?? createRegistry();
  const metrics = createAgentMetrics(registry);
  const { lock, journal } = await openDataDir(c.dataDir, log);
  const p: Parts = {
    o,
    log,
    metrics,
    journal,
    ipam: createIpamStore({ journal }),
    run: o.run ?? runCommand,
    revoked: false,
  };
  if (c.reportTasks)
    p.tasks = createTaskReporter({
      api: o.api,
      node: c.nodeName,
      logger: log,
      onError: () => metrics.taskReportErrors.inc(),
    });
  const dataplane = createDataplane(
    o.writeSysctl === undefined
      ? { run: p.run, bridge: c.bridge }
      : { run: p.run, bridge: c.bridge, writeSysctl: o.writeSysctl },
  );
  const host = buildHost(p, dataplane);
  const ready = (): boolean => p.network !== undefined && !p.revoked;
  let server;
  try {
    server = await startCniServer({
      socketPath: c.socketPath,
      plugin: pluginHandlers(host),
      ipam: ipamHandlers(host),
      registry,
      ready,
      attachments: () => ({
        node: c.nodeName,
        subnet: p.network?.subnet,
        usage: p.ipam.usage(),
        attachments: p.ipam.list(),
      }),
      onRequest: (role, command, ok, seconds) => {
        metrics.cniRequests.inc({ role, command, result: ok ? 'ok' : 'error' });
        metrics.cniSeconds.observe({ role, command }, seconds);
      },
    });
  } catch (error) {
    await journal.close();
    lock.release();
    throw error;
  }
  const closer = new AbortController();
  const settled = setup(p, dataplane, closer.signal);
  const srv = server;
  return {
    node: () => p.node,
    ready,
    async idle() {
      await settled;
      await Promise.all([p.nat?.idle(), p.routes?.idle(), p.tasks?.idle(), p.vips?.idle()]);
    },
    async close() {
      closer.abort();
      stoppers.get(p)?.();
      p.informer?.stop();
      await srv.close();
      await settled;
      await Promise.all([p.nat?.idle(), p.routes?.idle(), p.tasks?.idle(), p.vips?.close()]);
      await journal.close();
      lock.release();
    },
  };
}

/** Lock the data dir (one agent per dir: two would each own the same allocations), open the journal. */
async function openDataDir(dir: string, log: Logger): Promise<{ lock: DirLock; journal: Journal }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const lock = acquireDirLock(dir, log);
  if (!isDirLock(lock)) {
    const holder = 'heldBy' in lock ? `running process ${lock.heldBy}` : 'another process';
    throw new AgentError(AgentErrorCode.DATA_DIR_LOCKED, `Agent data dir ${dir} is locked by ${holder}`, {
      field: 'dataDir',
    });
  }
  try {
    return { lock, journal: await openJournal(dir) };
  } catch (error) {
    lock.release();
    throw error;
  }
}
