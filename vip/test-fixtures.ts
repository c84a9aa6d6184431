// Fixture builders for the vip room's tests (not part of the door). Addresses come from the
// benchmarking range 198.18.0.0/15: pods in 198.18.0.0/16, VIPs in 198.19.0.0/16.
import {
  validateInput,
  type Kind,
  type ObjectInput,
  type StoredObject,
  type TaskHealth,
  type TaskState,
  type NetworkMode,
} from '../state';
import type { VipSnapshot } from './compile';

let revision = 0;

/** Validated and wrapped as the store would hold it. */
export function stored<K extends Kind>(input: unknown): StoredObject<K> {
  const object = validateInput(input) as ObjectInput<K>;
  revision += 1;
  return { ...object, labels: object.labels ?? {}, revision, createRevision: revision } as StoredObject<K>;
}

export function networkInput(
  serviceCIDR = '198.19.0.0/16',
  name = 'main',
  podCIDR = '198.18.0.0/16',
): ObjectInput {
  return validateInput({ kind: 'Network', name, spec: { podCIDR, nodeSubnetPrefix: 24, serviceCIDR } });
}

export function nodeInput(name = 'node-1', address = '198.18.255.1'): ObjectInput {
  return validateInput({ kind: 'Node', name, spec: { address } });
}

export interface TaskOptions {
  app?: string;
  namespace?: string;
  framework?: string;
  /** Port labels of the task's one port (`{ VIP_0: '/web:80' }`). */
  vip?: Record<string, string>;
  labels?: Record<string, string>;
  state?: TaskState;
  health?: TaskHealth;
  draining?: boolean;
  mode?: NetworkMode;
  ip?: string;
  node?: string;
  containerPort?: number;
  hostPort?: number;
  protocol?: 'tcp' | 'udp';
}

export function taskInput(name: string, options: TaskOptions = {}): ObjectInput {
  const o = {
    app: 'web',
    namespace: 'default',
    framework: 'marathon',
    state: 'running',
    health: 'healthy',
    mode: 'ip-per-container',
    ip: '198.18.1.2',
    node: 'node-1',
    containerPort: 8080,
    protocol: 'tcp',
    ...options,
  };
  const port = { name: 'http', containerPort: o.containerPort, protocol: o.protocol };
  return validateInput({
    kind: 'Task',
    name,
    namespace: o.namespace,
    labels: o.labels ?? { app: o.app },
    spec: {
      app: o.app,
      framework: o.framework,
      node: o.node,
      state: o.state,
      health: o.health,
      ...(o.draining === undefined ? {} : { draining: o.draining }),
      networkMode: o.mode,
      ips: o.mode === 'ip-per-container' ? [o.ip] : [],
      ports: [{ ...port, hostPort: o.hostPort, labels: o.vip }],
    },
  });
}

export interface ServiceOptions {
  namespace?: string;
  vipName?: string;
  address?: string;
  app?: string;
  labels?: Record<string, string>;
  ports?: Array<{
    port: number;
    targetPort?: number | string;
    protocol?: 'tcp' | 'udp';
    mode?: 'tcp' | 'http';
  }>;
}

export function serviceInput(name: string, o: ServiceOptions = {}): ObjectInput {
  const vip = {
    ...(o.vipName === undefined ? {} : { name: o.vipName }),
    ...(o.address === undefined ? {} : { address: o.address }),
  };
  return validateInput({
    kind: 'Service',
    name,
    namespace: o.namespace ?? 'default',
    labels: o.labels ?? {},
    spec: {
      selector: { app: o.app ?? 'web' },
      ports: o.ports ?? [{ port: 80, targetPort: 'http', mode: 'http' }],
      ...(Object.keys(vip).length === 0 ? {} : { vip }),
    },
  });
}

/** A snapshot of stored objects, sorted into kinds. */
export function snapshotOf(
  inputs: readonly ObjectInput[],
  vips: readonly StoredObject<'VIP'>[] = [],
): VipSnapshot {
  const objects = inputs.map((i) => stored(i));
  const of = <K extends Kind>(kind: K): StoredObject<K>[] =>
    objects.filter((o): o is StoredObject<K> => o.kind === kind);
  return {
    tasks: of('Task'),
    services: of('Service'),
    nodes: of('Node'),
    networks: of('Network'),
    vips: [...vips, ...of('VIP')],
  };
}

/** Stored VIP objects from compiled inputs, as a controller would have written them. */
export function storedVips(inputs: readonly ObjectInput<'VIP'>[]): StoredObject<'VIP'>[] {
  return inputs.map((i) => stored<'VIP'>(i));
}

/** Freezes a value and everything reachable from it, to prove a function never writes its input. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** A clock tests drive: `advance(ms)` moves time and fires the timers that fall due, in order. */
export class FakeClock {
  private current: number;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 1;

  constructor(start = Date.parse('2024-05-01T12:00:00Z')) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.current + ms, fn, id });
    return id;
  }

  clearTimeout(timer: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== timer);
  }

  get pending(): number {
    return this.timers.length;
  }

  advance(ms: number): void {
    this.current += ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= this.current).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) return;
      this.clearTimeout(due.id);
      due.fn();
    }
  }
}
