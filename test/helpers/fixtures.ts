// Fixture builders shared by the suites (STYLE.md item 14): small, valid objects with knobs.
import type { ObjectInput } from '../../state';

export interface TaskFixture {
  namespace?: string;
  labels?: Record<string, string>;
  /** Makes otherwise equal tasks differ (an update): it picks the task's address. */
  generation?: number;
}

/** A running, healthy ip-per-container task of app `web` (or the `app` label) on node-1. */
export function taskInput(name: string, fixture: TaskFixture = {}): ObjectInput<'Task'> {
  const generation = fixture.generation ?? 0;
  const input: ObjectInput<'Task'> = {
    kind: 'Task',
    name,
    labels: fixture.labels ?? { app: 'web' },
    spec: {
      app: fixture.labels?.app ?? 'web',
      framework: 'marathon',
      node: 'node-1',
      state: 'running',
      health: 'healthy',
      networkMode: 'ip-per-container',
      ips: [`198.18.${Math.floor(generation / 250) % 250}.${(generation % 250) + 1}`],
      ports: [{ name: 'http', containerPort: 8080, protocol: 'tcp' }],
    },
  };
  if (fixture.namespace !== undefined) input.namespace = fixture.namespace;
  return input;
}

export function nodeInput(name: string, address = '198.18.0.10'): ObjectInput<'Node'> {
  return { kind: 'Node', name, labels: {}, spec: { address } };
}
