// Test support for the server and client suites (not part of the door): fixtures and cleanup.
import type { ObjectInput } from '../model';

export const TEST_TOKEN = 'test-token-0123456789abcdef';

export interface TaskOptions {
  namespace?: string;
  labels?: Record<string, string>;
  /** Makes otherwise equal tasks differ (an update). */
  generation?: number;
}

export function task(name: string, options: TaskOptions = {}): ObjectInput<'Task'> {
  const generation = options.generation ?? 0;
  const input: ObjectInput<'Task'> = {
    kind: 'Task',
    name,
    labels: options.labels ?? { app: 'web' },
    spec: {
      app: options.labels?.app ?? 'web',
      framework: 'marathon',
      node: 'node-1',
      state: 'running',
      health: 'healthy',
      networkMode: 'ip-per-container',
      ips: [`198.18.${Math.floor(generation / 250) % 250}.${(generation % 250) + 1}`],
      ports: [{ name: 'http', containerPort: 8080, protocol: 'tcp' }],
    },
  };
  if (options.namespace !== undefined) input.namespace = options.namespace;
  return input;
}

export function node(name: string, address = '198.18.0.10'): ObjectInput<'Node'> {
  return { kind: 'Node', name, labels: {}, spec: { address } };
}

/**
 * Cleanup registered right beside each resource (undici `after()`), run in reverse order after
 * each test: `const defer = useCleanup(afterEach); … defer(() => server.close());`. The hook is
 * passed in so this file builds without the jest globals.
 */
export function useCleanup(afterEachHook: (fn: () => Promise<void>) => void): (fn: () => unknown) => void {
  const cleanups: Array<() => unknown> = [];
  afterEachHook(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
  });
  return (fn) => {
    cleanups.push(fn);
  };
}
