// The in-memory history of the last N change events, for watch resumption. Revisions are
// contiguous (every change bumps the revision by one), so a ring indexed by revision finds any
// retained event in O(1). Events and their objects are shared, never copied.
import type { ChangeEvent } from './types';

export class EventHistory {
  private readonly ring: Array<ChangeEvent | undefined>;
  private last = 0;
  private count = 0;

  constructor(readonly limit: number) {
    this.ring = new Array<ChangeEvent | undefined>(limit);
  }

  /** The revision of the oldest retained event; `latest + 1` when empty. */
  get oldest(): number {
    return this.last - this.count + 1;
  }

  /** Starts an empty history at `revision` (a store recovered from a snapshot). */
  reset(revision: number): void {
    this.ring.fill(undefined);
    this.last = revision;
    this.count = 0;
  }

  /** Appends the next event; its revision must follow the last one. */
  push(event: ChangeEvent): void {
    if (event.revision !== this.last + 1) {
      throw new Error(`history gap: got revision ${event.revision} after ${this.last}`);
    }
    this.ring[event.revision % this.limit] = event;
    this.last = event.revision;
    if (this.count < this.limit) this.count++;
  }

  /** The event at `revision`, or undefined when it is not (or no longer) retained. */
  at(revision: number): ChangeEvent | undefined {
    if (revision < this.oldest || revision > this.last) return undefined;
    return this.ring[revision % this.limit];
  }
}
