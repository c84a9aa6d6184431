import { createServer, type Server } from 'node:http';
import type { Logger } from '../lib';
import type { ObjectInput } from '../state';

export interface DemoBackends {
  lines: string[];
  close(): Promise<void>;
}

/**
 * `up --demo`: nobody runs the example's tasks on a laptop, so this starts a tiny HTTP server for
 * each example task that would run on this machine — host or port-mapped mode, on a Node whose
 * address is a loopback address — answering `hello from <task>`. The proxy then has real backends
 * to check and balance over. It serves loopback only.
 */
export async function startDemoBackends(
  objects: readonly ObjectInput[],
  logger: Logger,
): Promise<DemoBackends> {
  const loopbackNodes = new Map<string, string>();
  for (const o of objects) {
    if (o.kind === 'Node' && (o as ObjectInput<'Node'>).spec.address.startsWith('127.')) {
      loopbackNodes.set(o.name, (o as ObjectInput<'Node'>).spec.address);
    }
  }
  const servers: Server[] = [];
  const listening: string[] = [];
  for (const o of objects) {
    if (o.kind !== 'Task') continue;
    const spec = (o as ObjectInput<'Task'>).spec;
    const address = loopbackNodes.get(spec.node);
    if (address === undefined || spec.networkMode === 'ip-per-container') continue;
    for (const port of spec.ports) {
      if (port.hostPort === undefined || port.protocol === 'udp') continue;
      const server = await listenDemo(o.name, address, port.hostPort, logger);
      if (server === undefined) continue;
      servers.push(server);
      listening.push(`${address}:${port.hostPort}`);
    }
  }
  return {
    lines: listening.length === 0 ? [] : [`  demo       task backends on ${listening.join(', ')}`],
    close: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

async function listenDemo(
  task: string,
  host: string,
  port: number,
  logger: Logger,
): Promise<Server | undefined> {
  const server = createServer((req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end(`hello from ${task} (${req.method ?? 'GET'} ${req.url ?? '/'})\n`);
  });
  server.keepAliveTimeout = 5000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return server;
  } catch (err) {
    logger.warn({ err, task, host, port }, 'Demo backend could not listen; skipped');
    return undefined;
  }
}
