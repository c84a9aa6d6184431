import type http from 'node:http';
import { createRegistry, silentLogger, type Logger, type Registry } from '../lib';
import type { StoredObject } from '../state';
import { adminAddress, startAdminServer } from './admin';
import type { AdminState } from './backend-state';
import { compileRouteTable, type RouteSnapshot } from './compile';
import { resolveLbConfig, type LbConfigInput } from './config';
import { LbError, LbErrorCode } from './errors';
import { FrontendListeners, type BoundFrontend, type PortMapper } from './listeners';
import { registerLbMetrics, type LbMetrics } from './metrics';
import type { RouteTable } from './route-table';
import { LbRuntime } from './runtime';
import { collectStats, type StatsSnapshot } from './stats';

/** What the load balancer needs from the state client's informer (typed structurally). */
export interface InformerLike {
  start(): Promise<void>;
  hasSynced(): boolean;
  list(): StoredObject[];
  subscribe(
    listener: (events: readonly { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: StoredObject }[]) => void,
  ): () => void;
}

export interface LoadBalancerOptions extends LbConfigInput {
  readonly informer: InformerLike;
  readonly logger?: Logger;
  /** Metrics go here; a fresh registry when absent. */
  readonly registry?: Registry;
  /** The admin endpoint; false for none. Default 127.0.0.1:9090. */
  readonly admin?: { host?: string; port?: number } | false;
  /** The port to bind per frontend (default: the frontend's own); tests map all to 0. */
  readonly portFor?: PortMapper;
  /** Serve VIP objects on their addresses (default true). */
  readonly serveVips?: boolean;
  /** A frontend that failed to bind is tried again after this long, doubling to 10 s (default 250 ms). */
  readonly bindRetryMs?: number;
}

export interface LoadBalancer {
  /** The frontends bound right now. */
  readonly frontends: readonly BoundFrontend[];
  readonly adminAddress: { host: string; port: number } | undefined;
  readonly registry: Registry;
  /** The route table serving now. */
  routeTable(): RouteTable;
  /** What the stats page shows, as data. */
  stats(): StatsSnapshot;
  /** HAProxy's `set server state`: ready, drain or maint. False for an unknown backend id. */
  setBackendState(id: string, state: AdminState): boolean;
  /** Stop accepting; open requests get `graceMs` (default the drain grace time) to finish. */
  close(options?: { graceMs?: number }): Promise<void>;
}

function snapshotOf(objects: readonly StoredObject[]): RouteSnapshot {
  const services: StoredObject<'Service'>[] = [];
  const tasks: StoredObject<'Task'>[] = [];
  const nodes: StoredObject<'Node'>[] = [];
  const vips: StoredObject<'VIP'>[] = [];
  for (const object of objects) {
    if (object.kind === 'Service') services.push(object as StoredObject<'Service'>);
    else if (object.kind === 'Task') tasks.push(object as StoredObject<'Task'>);
    else if (object.kind === 'Node') nodes.push(object as StoredObject<'Node'>);
    else if (object.kind === 'VIP') vips.push(object as StoredObject<'VIP'>);
  }
  return { services, tasks, nodes, vips };
}

/**
 * Compile → apply, one at a time; a burst of events becomes one compile of the latest state. A
 * frontend that failed to bind (a VIP address the agent has not put on the host yet, a port still
 * held) is tried again with backoff until it binds or leaves the table; each distinct failure is
 * logged once.
 */
class Applier {
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs: number;
  private running: Promise<void> | undefined;
  private again = false;
  private lastError = '';
  private loggedFailures = new Set<string>();
  closed = false;

  constructor(
    private readonly informer: InformerLike,
    private readonly runtime: LbRuntime,
    private readonly listeners: FrontendListeners,
    private readonly metrics: LbMetrics,
    private readonly logger: Logger,
    private readonly o: { debounceMs: number; serveVips: boolean; bindRetryMs: number },
  ) {
    this.retryDelayMs = o.bindRetryMs;
  }

  schedule(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, this.o.debounceMs);
  }

  async run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.applyOnce().finally(() => {
      this.running = undefined;
      if (this.again && !this.closed) {
        this.again = false;
        this.schedule();
      }
    });
    return this.running;
  }

  private async applyOnce(): Promise<void> {
    let table: RouteTable;
    const { listenHost, ingressPort, httpsPort, healthDefaults } = this.runtime.config;
    try {
      table = compileRouteTable(snapshotOf(this.informer.list()), this.runtime.table, {
        listenHost,
        ingressPort,
        httpsPort,
        healthDefaults,
        serveVips: this.o.serveVips,
      });
    } catch (err) {
      this.metrics.compiles.inc({ result: 'failed' });
      const message = (err as Error).message;
      // Keep serving the old table; log a given failure once, not on every event.
      if (message !== this.lastError)
        this.logger.error({ err, code: LbErrorCode.COMPILE_FAILED }, 'Route table compile failed');
      this.lastError = message;
      return;
    }
    this.lastError = '';
    this.metrics.compiles.inc({ result: 'ok' });
    if (this.closed) return;
    // New listeners first, then the new table, then the old listeners go (reconcile's order).
    const failures = await this.listeners.reconcile(table);
    this.runtime.apply(table);
    this.handleBindFailures(failures);
    for (const warning of table.warnings) this.logger.warn({ revision: table.revision }, warning);
  }

  private handleBindFailures(failures: readonly LbError[]): void {
    const now = new Set(failures.map((f) => f.message));
    for (const failure of failures) {
      if (!this.loggedFailures.has(failure.message))
        this.logger.error({ code: failure.code, frontend: failure.field }, failure.message);
    }
    this.loggedFailures = now;
    if (failures.length === 0) {
      this.retryDelayMs = this.o.bindRetryMs;
      return;
    }
    if (this.retryTimer || this.closed) return;
    const delayMs = this.retryDelayMs;
    this.retryDelayMs = Math.min(delayMs * 2, 10_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.run();
    }, delayMs);
  }

  stop(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }
}

async function waitForSync(informer: InformerLike): Promise<void> {
  await informer.start();
  while (!informer.hasSynced()) await new Promise((resolve) => setTimeout(resolve, 20));
}

/**
 * Start the load balancer: sync the informer, compile and bind the first route table, start the
 * admin endpoint, then follow state changes (debounced) for as long as it runs.
 */
export async function startLoadBalancer(options: LoadBalancerOptions): Promise<LoadBalancer> {
  const config = resolveLbConfig(options);
  const logger = (options.logger ?? silentLogger()).child({ room: 'lb' });
  const registry = options.registry ?? createRegistry();
  const runtime = new LbRuntime(config, logger);
  const listeners = new FrontendListeners(runtime, options.portFor);
  const metrics = registerLbMetrics(registry, runtime);
  const applier = new Applier(options.informer, runtime, listeners, metrics, logger, {
    debounceMs: config.debounceMs,
    serveVips: options.serveVips ?? true,
    bindRetryMs: options.bindRetryMs ?? 250,
  });
  let synced = false;
  let admin: http.Server | undefined;
  const unsubscribe = options.informer.subscribe(() => applier.schedule());
  const close = async (closeOptions: { graceMs?: number } = {}): Promise<void> => {
    applier.stop();
    unsubscribe();
    const graceMs = closeOptions.graceMs ?? config.timeouts.drainGraceMs;
    await Promise.all([
      listeners.close(graceMs),
      admin && new Promise<void>((resolve) => admin?.close(() => resolve())).then(() => undefined),
    ]);
    admin?.closeAllConnections();
    await runtime.close();
  };
  try {
    if (options.admin !== false) {
      const adminOptions = options.admin ?? {};
      admin = await startAdminServer(
        { runtime, listeners, registry, ready: () => synced },
        adminOptions.host ?? '127.0.0.1',
        adminOptions.port ?? 9090,
      );
    }
    await waitForSync(options.informer);
    await applier.run();
    synced = true;
  } catch (err) {
    await close({ graceMs: 0 });
    throw err instanceof LbError
      ? err
      : new LbError(LbErrorCode.BIND_FAILED, `Load balancer failed to start: ${(err as Error).message}`, {
          cause: err,
        });
  }
  logger.info(
    { frontends: listeners.bound.length, revision: runtime.table.revision },
    'Load balancer started',
  );
  return {
    get frontends() {
      return listeners.bound;
    },
    adminAddress: admin && adminAddress(admin),
    registry,
    routeTable: () => runtime.table,
    stats: () => collectStats(runtime, listeners.bound),
    setBackendState: (id, state) => runtime.setAdminState(id, state),
    close,
  };
}
