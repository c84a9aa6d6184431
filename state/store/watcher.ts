// One watch stream. It first replays retained history after `from` — lazily, by revision cursor,
// so a catch-up costs no copies — then serves live events queued by the hub (references only).
// A consumer that lets more than `bufferLimit` events pile up is cut off with
// SY_STATE_WATCH_OVERFLOW; it resumes from the last revision it received.
import type { Logger } from '../../lib';
import type { WatchEvent, WatchOptions } from '../api';
import type { Kind } from '../model';
import { compileFilter, type ObjectFilter } from './filter';
import { checkStartRevision, overflowError, type Listener, type WatchContext } from './hub';
import type { ChangeEvent, SubscribeOptions } from './types';

/** A compacting queue: shift() on a big array is O(n), this is O(1) amortised. */
const COMPACT_AT = 1024;

interface Waiter {
  resolve(result: IteratorResult<WatchEvent>): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout | undefined;
}

export class Watcher implements Listener, AsyncIterableIterator<WatchEvent> {
  readonly kind: Kind | undefined;
  private filter: ObjectFilter | undefined;
  private queue: Array<ChangeEvent | undefined> = [];
  private head = 0;
  /** Catch-up: the next retained revision to scan, up to `catchUpEnd` (the revision at start). */
  private cursor = 0;
  private catchUpEnd = 0;
  private lastRevision: number;
  private failure: unknown;
  private finished = false;
  /** Ending because the store closes: queued events are still delivered. */
  private draining = false;
  private waiter: Waiter | undefined;
  private readonly onAbort = (): void => this.finish();

  constructor(
    private readonly ctx: WatchContext,
    private readonly options: WatchOptions,
  ) {
    this.kind = options.kind;
    this.lastRevision = options.from;
    if (options.signal?.aborted) {
      this.finished = true;
      return;
    }
    try {
      this.filter = compileFilter(options);
      checkStartRevision(options.from, ctx);
    } catch (err) {
      this.failure = err;
      return;
    }
    this.cursor = options.from + 1;
    this.catchUpEnd = ctx.currentRevision();
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    ctx.hub.add(this);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  offer(events: readonly ChangeEvent[]): void {
    if (this.finished || this.draining) return;
    const filter = this.filter;
    for (const event of events) if (filter === undefined || filter(event.object)) this.queue.push(event);
    if (this.queue.length - this.head > this.ctx.bufferLimit) {
      this.fail(overflowError(this.lastRevision, this.ctx.bufferLimit));
      return;
    }
    if (this.waiter !== undefined && this.head < this.queue.length) this.settle(this.takeQueued());
  }

  end(): void {
    this.draining = true;
    this.detach();
    if (this.waiter !== undefined) this.settle(undefined);
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    if (this.failure !== undefined) {
      const err = this.failure;
      this.failure = undefined;
      this.finished = true;
      return Promise.reject(err);
    }
    if (this.finished) return Promise.resolve(doneResult());
    let event: ChangeEvent | undefined;
    try {
      event = this.take();
    } catch (err) {
      this.fail(err);
      return this.next();
    }
    if (event !== undefined) return Promise.resolve(this.deliver(event));
    if (this.draining) {
      this.finish();
      return Promise.resolve(doneResult());
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject, timer: this.startBookmarkTimer() };
    });
  }

  return(): Promise<IteratorResult<WatchEvent>> {
    this.finish();
    return Promise.resolve(doneResult());
  }

  private take(): ChangeEvent | undefined {
    while (this.cursor <= this.catchUpEnd) {
      const event = this.ctx.history.at(this.cursor);
      // The history moved past our cursor while the consumer was slow.
      if (event === undefined) throw overflowError(this.lastRevision, this.ctx.bufferLimit);
      this.cursor++;
      if (event.object.kind !== this.kind && this.kind !== undefined) continue;
      if (this.filter === undefined || this.filter(event.object)) return event;
    }
    return this.takeQueued();
  }

  private takeQueued(): ChangeEvent | undefined {
    if (this.head >= this.queue.length) return undefined;
    const event = this.queue[this.head];
    this.queue[this.head++] = undefined;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AT && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return event;
  }

  private deliver(event: WatchEvent): IteratorResult<WatchEvent> {
    this.lastRevision = event.revision;
    return { value: event, done: false };
  }

  /** Resolves the pending next() with `event`, or with done when undefined. */
  private settle(event: ChangeEvent | undefined): void {
    const waiter = this.waiter;
    if (waiter === undefined) return;
    this.waiter = undefined;
    clearTimeout(waiter.timer);
    if (event !== undefined) waiter.resolve(this.deliver(event));
    else {
      this.finish();
      waiter.resolve(doneResult());
    }
  }

  private startBookmarkTimer(): NodeJS.Timeout | undefined {
    const interval = this.options.bookmarkIntervalMs ?? 0;
    if (interval <= 0) return undefined;
    return setTimeout(() => {
      const waiter = this.waiter;
      if (waiter === undefined) return;
      this.waiter = undefined;
      // The queue is empty and catch-up is done, so every matching event up to here was delivered.
      waiter.resolve(this.deliver({ type: 'BOOKMARK', revision: this.ctx.currentRevision() }));
    }, interval);
  }

  private fail(err: unknown): void {
    this.detach();
    this.queue = [];
    this.head = 0;
    const waiter = this.waiter;
    if (waiter === undefined) {
      this.failure = err;
      return;
    }
    this.waiter = undefined;
    clearTimeout(waiter.timer);
    this.finished = true;
    waiter.reject(err);
  }

  private finish(): void {
    this.finished = true;
    this.detach();
    this.queue = [];
    this.head = 0;
    if (this.waiter !== undefined) this.settle(undefined);
  }

  private detach(): void {
    this.ctx.hub.remove(this);
    this.options.signal?.removeEventListener('abort', this.onAbort);
  }
}

function doneResult(): IteratorResult<WatchEvent> {
  return { value: undefined, done: true };
}

/** A synchronous in-process listener: no queue, no promises; the callback runs inside the commit. */
export class Subscription implements Listener {
  readonly kind: Kind | undefined;
  private readonly filter: ObjectFilter | undefined;

  constructor(
    private readonly ctx: WatchContext,
    options: SubscribeOptions,
    private readonly onEvents: (events: readonly ChangeEvent[]) => void,
    private readonly logger: Logger,
  ) {
    this.kind = options.kind;
    this.filter = compileFilter(options);
    checkStartRevision(options.from, ctx);
    const backlog: ChangeEvent[] = [];
    for (let rev = options.from + 1; rev <= ctx.currentRevision(); rev++) {
      const event = ctx.history.at(rev);
      if (event !== undefined && (this.kind === undefined || event.object.kind === this.kind))
        backlog.push(event);
    }
    this.offer(backlog);
    ctx.hub.add(this);
  }

  offer(events: readonly ChangeEvent[]): void {
    const filter = this.filter;
    const matched = filter === undefined ? events : events.filter((e) => filter(e.object));
    if (matched.length === 0) return;
    try {
      this.onEvents(matched);
    } catch (err) {
      this.logger.error({ err }, 'A state subscriber threw; continuing');
    }
  }

  end(): void {
    this.ctx.hub.remove(this);
  }
}
