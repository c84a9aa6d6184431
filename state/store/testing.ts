// Fixture builders for the store's tests and the crash-test child (not part of the door).
import type { WatchEvent } from '../api';
import type { ObjectInput } from '../model';

export interface TaskFixture {
  namespace?: string;
  labels?: Record<string, string>;
  /** Makes otherwise equal tasks differ (an update). */
  generation?: number;
}

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

/** Reads `count` events (bookmarks included) from an iterator. */
export async function take(iterator: AsyncIterator<WatchEvent>, count: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  while (out.length < count) {
    const result = await iterator.next();
    if (result.done === true) break;
    out.push(result.value);
  }
  return out;
}

/** `TYPE name@revision`, for compact assertions on event streams. */
export function describeEvents(events: readonly WatchEvent[]): string[] {
  return events.map((e) =>
    e.type === 'BOOKMARK' ? `BOOKMARK@${e.revision}` : `${e.type} ${e.object.name}@${e.revision}`,
  );
}
