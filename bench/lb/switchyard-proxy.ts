import { startLoadBalancer, type InformerLike } from '../../lb';
import type { StoredObject } from '../../state';

/**
 * Switchyard's load balancer in a process of its own, so the benchmark can pin it to one CPU like
 * HAProxy. The route table comes from a fixed snapshot served by a static informer: service `web`
 * (HTTP frontend) and `web-tcp` (TCP frontend), both backed by one task per backend port.
 *
 *   node -r ./test/helpers/ts-register.js bench/lb/switchyard-proxy.ts '{"httpPort":…,"tcpPort":…,"backends":[…]}'
 *
 * Prints `ready` once the table is bound. With an IPC channel (soak), answers `{ type: 'sample' }`
 * with memory (after a GC when run with --expose-gc) and the number of requests still open per
 * backend. Stops on SIGTERM or `{ type: 'stop' }`.
 */
interface ProxyArgs {
  readonly httpPort: number;
  readonly tcpPort?: number;
  readonly backends: readonly number[];
  readonly maxConnectionsPerBackend?: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ProxyArgs;

function object<K extends 'Service' | 'Task'>(
  kind: K,
  name: string,
  spec: StoredObject<K>['spec'],
  revision: number,
): StoredObject<K> {
  return { kind, name, namespace: 'default', labels: {}, revision, createRevision: revision, spec };
}

function snapshot(): StoredObject[] {
  const objects: StoredObject[] = [];
  const ports: { port: number; mode: 'http' | 'tcp'; name: string }[] = [
    { port: args.httpPort, mode: 'http', name: 'web' },
  ];
  if (args.tcpPort) ports.push({ port: args.tcpPort, mode: 'tcp', name: 'web-tcp' });
  for (const p of ports) {
    objects.push(
      object(
        'Service',
        p.name,
        {
          selector: { app: 'web' },
          ports: [{ port: p.port, targetPort: 'http', protocol: 'tcp', mode: p.mode }],
          loadBalancing: { algorithm: 'round-robin' },
        },
        objects.length + 1,
      ),
    );
  }
  args.backends.forEach((port, i) => {
    objects.push(
      object(
        'Task',
        `web-${i}`,
        {
          app: 'web',
          framework: 'marathon',
          node: 'bench',
          state: 'running',
          health: 'healthy',
          networkMode: 'ip-per-container',
          ips: ['127.0.0.1'],
          ports: [{ name: 'http', containerPort: port, protocol: 'tcp' }],
        },
        objects.length + 1,
      ),
    );
  });
  return objects;
}

const objects = snapshot();
const informer: InformerLike = {
  start: () => Promise.resolve(),
  hasSynced: () => true,
  list: () => objects,
  subscribe: () => () => undefined,
};

function sample(lb: Awaited<ReturnType<typeof startLoadBalancer>>): Record<string, number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const mem = process.memoryUsage();
  const stats = lb.stats();
  const active = new Map<string, number>();
  for (const pool of stats.pools) for (const b of pool.backends) active.set(b.id, b.active);
  let open = 0;
  for (const a of active.values()) open += a;
  let clients = 0;
  for (const f of stats.frontends) clients += f.currentConnections;
  return { rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external, active: open, clients };
}

async function main(): Promise<void> {
  const lb = await startLoadBalancer({
    informer,
    listenHost: '127.0.0.1',
    ingressPort: null,
    admin: false,
    accessLog: false,
    maxConnectionsPerBackend: args.maxConnectionsPerBackend ?? 256,
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void lb.close({ graceMs: 0 }).finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'sample') process.send?.({ type: 'sample', ...sample(lb) });
    else if (message.type === 'stop') stop();
  });
  process.stdout.write('ready\n');
}

main().catch((err: Error) => {
  process.stderr.write(`switchyard-proxy: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
