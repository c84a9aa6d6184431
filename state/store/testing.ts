// Fixture builders for the store's tests and the crash-test child (not part of the door).
import type { WatchEvent } from '../api';

export { taskInput, type TaskFixture } from '../../test/helpers/fixtures';

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
