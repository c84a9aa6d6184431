// Fan-out of committed changes to watchers and subscribers. Listeners are indexed by kind, so a
// batch is grouped by kind once and each listener sees only its kind's events; each listener then
// filters each event once. Events and objects are shared by every listener — never copied.
import { StateError, StateErrorCode } from '../errors';
import type { Kind } from '../model';
import type { EventHistory } from './history';
import type { ChangeEvent } from './types';

export interface Listener {
  /** Only this kind's events are offered; all kinds when undefined. */
  readonly kind: Kind | undefined;
  offer(events: readonly ChangeEvent[]): void;
  /** The store is closing. */
  end(): void;
}

/** What watchers need from the store. */
export interface WatchContext {
  readonly hub: WatchHub;
  readonly history: EventHistory;
  /** The last durable revision. */
  currentRevision(): number;
  /** Undelivered events a watcher may hold before it is cut off. */
  readonly bufferLimit: number;
}

export class WatchHub {
  private readonly allKinds = new Set<Listener>();
  private readonly byKind = new Map<Kind, Set<Listener>>();
  private count = 0;

  constructor(private readonly onCountChange: (count: number) => void = () => undefined) {}

  get size(): number {
    return this.count;
  }

  add(listener: Listener): void {
    const set = this.setFor(listener.kind, true);
    if (set === undefined || set.has(listener)) return;
    set.add(listener);
    this.onCountChange(++this.count);
  }

  remove(listener: Listener): void {
    const set = this.setFor(listener.kind, false);
    if (set === undefined || !set.delete(listener)) return;
    if (listener.kind !== undefined && set.size === 0) this.byKind.delete(listener.kind);
    this.onCountChange(--this.count);
  }

  /** Offers one committed batch (in revision order) to every interested listener. */
  publish(events: readonly ChangeEvent[]): void {
    if (events.length === 0) return;
    // A listener may remove itself (overflow) while we iterate; Set iteration allows that.
    for (const listener of this.allKinds) listener.offer(events);
    if (this.byKind.size === 0) return;
    for (const [kind, group] of groupByKind(events)) {
      const set = this.byKind.get(kind);
      if (set !== undefined) for (const listener of set) listener.offer(group);
    }
  }

  endAll(): void {
    const everyone = [...this.allKinds];
    for (const set of this.byKind.values()) everyone.push(...set);
    for (const listener of everyone) listener.end();
  }

  private setFor(kind: Kind | undefined, create: boolean): Set<Listener> | undefined {
    if (kind === undefined) return this.allKinds;
    let set = this.byKind.get(kind);
    if (set === undefined && create) {
      set = new Set();
      this.byKind.set(kind, set);
    }
    return set;
  }
}

function groupByKind(events: readonly ChangeEvent[]): Map<Kind, readonly ChangeEvent[]> {
  const first = events[0];
  // The common case: a batch of one kind needs no new arrays.
  if (first !== undefined && events.every((e) => e.object.kind === first.object.kind)) {
    return new Map([[first.object.kind, events]]);
  }
  const groups = new Map<Kind, ChangeEvent[]>();
  for (const event of events) {
    const group = groups.get(event.object.kind);
    if (group === undefined) groups.set(event.object.kind, [event]);
    else group.push(event);
  }
  return groups;
}

/** Throws unless events after `from` can be delivered: not compacted away, not in the future. */
export function checkStartRevision(from: number, ctx: WatchContext): void {
  const current = ctx.currentRevision();
  if (!Number.isSafeInteger(from) || from < 0) {
    throw new StateError(
      StateErrorCode.BAD_REQUEST,
      `Watch revision must be a non-negative integer, got ${from}`,
    );
  }
  if (from > current) {
    throw new StateError(
      StateErrorCode.REVISION_TOO_NEW,
      `Revision ${from} is ahead of this store (at ${current}): list again`,
      { details: { from, current } },
    );
  }
  if (from + 1 < ctx.history.oldest) {
    throw new StateError(
      StateErrorCode.REVISION_EXPIRED,
      `Revision ${from} is too old (history starts after ${ctx.history.oldest - 1}): re-list`,
      { details: { from, compacted: ctx.history.oldest - 1 } },
    );
  }
}

export function overflowError(lastRevision: number, limit: number): StateError {
  return new StateError(
    StateErrorCode.WATCH_OVERFLOW,
    `Watch fell more than ${limit} events behind: resume from revision ${lastRevision}`,
    { details: { lastRevision } },
  );
}
