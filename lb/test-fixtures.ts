/**
 * Test helpers for lb/ (imported by *.test.ts only): object builders, an in-memory informer, real
 * loopback backends, `eventually`, and a cleanup stack so every resource is released beside where
 * it was made.
 */
import http from 'node:http';
import type net from 'node:net';
import type { ServiceSpec, StoredObject, TaskSpec } from '../state';
import type { InformerLike } from './server';

let revision = 0;

export function service(
  name: string,
  spec: Partial<ServiceSpec> & Pick<ServiceSpec, 'ports'>,
): StoredObject<'Service'> {
  revision++;
  return {
    kind: 'Service',
    name,
    namespace: 'default',
    labels: {},
    revision,
    createRevision: revision,
    spec: { selector: { app: name }, ...spec },
  };
}

export function task(
  name: string,
  spec: Partial<TaskSpec> & Pick<TaskSpec, 'app'>,
  labels: Record<string, string> = {},
): StoredObject<'Task'> {
  revision++;
  return {
    kind: 'Task',
    name,
    namespace: 'default',
    labels,
    revision,
    createRevision: revision,
    spec: {
      framework: 'marathon',
      node: 'node-1',
      state: 'running',
      health: 'healthy',
      networkMode: 'ip-per-container',
      ips: ['127.0.0.1'],
      ports: [],
      ...spec,
    },
  };
}

export function node(name: string, address: string): StoredObject<'Node'> {
  revision++;
  return { kind: 'Node', name, labels: {}, revision, createRevision: revision, spec: { address } };
}

/** A task of `app` served by a loopback backend on `port`. */
export function backendTask(
  name: string,
  app: string,
  port: number,
  extra: Partial<TaskSpec> = {},
): StoredObject<'Task'> {
  return task(name, { app, ports: [{ name: 'http', containerPort: port, protocol: 'tcp' }], ...extra });
}

/** Bump an object's revision after a change, as the store would. */
export function revise<T extends StoredObject>(object: T, change: (spec: T['spec']) => T['spec']): T {
  revision++;
  return { ...object, revision, spec: change(object.spec) };
}

type Events = Parameters<Parameters<InformerLike['subscribe']>[0]>[0];

/** An in-memory informer: the shape state/client builds, fed by the test. */
export class FakeInformer implements InformerLike {
  private readonly objects = new Map<string, StoredObject>();
  private readonly listeners = new Set<(events: Events) => void>();

  constructor(initial: readonly StoredObject[] = []) {
    for (const o of initial) this.objects.set(`${o.kind}/${o.name}`, o);
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  hasSynced(): boolean {
    return true;
  }

  list(): StoredObject[] {
    return [...this.objects.values()];
  }

  subscribe(listener: (events: Events) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  put(...objects: StoredObject[]): void {
    const events: Events = objects.map((object) => {
      const key = `${object.kind}/${object.name}`;
      const type = this.objects.has(key) ? ('MODIFIED' as const) : ('ADDED' as const);
      this.objects.set(key, object);
      return { type, object };
    });
    for (const l of this.listeners) l(events);
  }

  remove(...objects: StoredObject[]): void {
    for (const object of objects) this.objects.delete(`${object.kind}/${object.name}`);
    for (const l of this.listeners) l(objects.map((object) => ({ type: 'DELETED' as const, object })));
  }
}

export class Cleanup {
  private readonly stack: Array<() => unknown> = [];

  add(fn: () => unknown): void {
    this.stack.push(fn);
  }

  async run(): Promise<void> {
    while (this.stack.length > 0) await this.stack.pop()?.();
  }
}

export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 3000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface TestBackend {
  readonly name: string;
  readonly port: number;
  hits: number;
  readonly server: http.Server;
  /** Stop now: close the listener and reset every open connection (a killed process). */
  kill(): Promise<void>;
  /** Listen again on the same port. */
  revive(): Promise<void>;
}

/** A loopback HTTP backend answering its name; `handler` may take over any request. */
export async function startBackend(
  cleanup: Cleanup,
  name: string,
  handler?: (req: http.IncomingMessage, res: http.ServerResponse, backend: TestBackend) => boolean | void,
  port = 0,
): Promise<TestBackend> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    if (req.url === '/health') {
      res.end('ok');
      return;
    }
    backend.hits++;
    if (handler?.(req, res, backend)) return;
    res.setHeader('x-backend', name);
    res.end(name);
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const listen = (p: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
  const bound = await listen(port);
  const backend: TestBackend = {
    name,
    port: bound,
    hits: 0,
    server,
    kill: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
    revive: async () => void (await listen(bound)),
  };
  cleanup.add(() => backend.kill());
  return backend;
}
