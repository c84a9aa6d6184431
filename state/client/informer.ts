import { isSwitchyardError, silentLogger, type Logger } from '../../lib';
import type { StateApi, WatchEvent } from '../api';
import { StateError, StateErrorCode } from '../errors';
import { KINDS, objectKey, type Kind, type ObjectRef, type StoredObject } from '../model';
import { backoffDelay, delay, DEFAULT_BACKOFF, randomizedTimeout, type BackoffOptions } from './backoff';

export interface InformerOptions {
  api: StateApi;
  /** One kind; all five when absent. */
  kind?: Kind;
  namespace?: string;
  /** A label selector string (kubectl syntax). */
  selector?: string;
  logger?: Logger;
  /** Stops the informer when aborted (like stop()). */
  signal?: AbortSignal;
  /** Retry delays after a failed list or watch. Default 250 ms doubling to 30 s, with jitter. */
  backoff?: BackoffOptions;
  /** Each watch is restarted (from the last revision) after about this long, ±25%. Default 5 min. */
  watchTimeoutMs?: number;
  /** The BOOKMARK interval asked of the server, so idle watches keep their revision fresh. Default 10 s. */
  bookmarkIntervalMs?: number;
  /** Source of randomness for jitter, [0, 1). Tests inject a fixed one. */
  random?: () => number;
}

export interface InformerEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** For DELETED, the last known state of the object (a tombstone when found by a re-list). */
  object: StoredObject;
}

export type InformerListener = (events: readonly InformerEvent[]) => void;

export interface Informer {
  /** Lists, then watches in the background; resolves once the first list is in the cache. */
  start(): Promise<void>;
  hasSynced(): boolean;
  /** The last revision seen (from the list, an event or a bookmark). */
  readonly revision: number;
  list(): StoredObject[];
  get(ref: ObjectRef): StoredObject | undefined;
  /** Events arrive in batches (one per event-loop turn) so consumers can coalesce. */
  subscribe(listener: InformerListener): () => void;
  stop(): void;
}

const DEFAULT_WATCH_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_BOOKMARK_MS = 10_000;

/** How one watch attempt ended. */
interface WatchOutcome {
  /** At least one new event or bookmark arrived. */
  progressed: boolean;
  /** Ended by our own randomized timeout: restart at once. */
  timedOut: boolean;
}

function errorCode(error: unknown): string | undefined {
  return isSwitchyardError(error) ? error.code : undefined;
}

/**
 * A client-go style informer over any StateApi: list, then watch from the list's revision, keeping
 * a cache and telling subscribers what changed. A dropped watch resumes from the last revision
 * (bookmarks included) after a jittered backoff; an expired or too-new revision triggers a re-list
 * whose differences reach subscribers as ADDED/MODIFIED and tombstone DELETED events; an overflowed
 * watch resumes from its last revision. No event is delivered twice.
 */
class StateInformer implements Informer {
  private readonly cache = new Map<string, StoredObject>();
  /** For all-kinds informers: each kind's list revision; events at or below it are in the list. */
  private readonly listedAt = new Map<Kind, number>();
  private readonly listeners = new Set<InformerListener>();
  private readonly stopper = new AbortController();
  private readonly logger: Logger;
  private readonly random: () => number;
  private pending: InformerEvent[] = [];
  private flushScheduled: NodeJS.Immediate | undefined;
  private lastRevision = 0;
  private synced = false;
  private started: Promise<void> | undefined;
  private onSynced: (() => void) | undefined;

  constructor(private readonly options: InformerOptions) {
    this.logger = (options.logger ?? silentLogger()).child({
      room: 'state',
      component: 'informer',
      kind: options.kind ?? 'all',
    });
    this.random = options.random ?? Math.random;
    if (options.signal?.aborted) this.stopper.abort();
    else options.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  get revision(): number {
    return this.lastRevision;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  list(): StoredObject[] {
    return [...this.cache.values()];
  }

  get(ref: ObjectRef): StoredObject | undefined {
    return this.cache.get(objectKey(ref));
  }

  subscribe(listener: InformerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): Promise<void> {
    this.started ??= new Promise<void>((resolve, reject) => {
      if (this.stopper.signal.aborted) {
        reject(new StateError(StateErrorCode.UNAVAILABLE, 'the informer was stopped before it synced'));
        return;
      }
      this.onSynced = resolve;
      this.stopper.signal.addEventListener('abort', () => {
        if (!this.synced)
          reject(new StateError(StateErrorCode.UNAVAILABLE, 'the informer was stopped before it synced'));
      });
      void this.run();
    });
    return this.started;
  }

  stop(): void {
    if (this.stopper.signal.aborted) return;
    this.stopper.abort();
    this.flush();
  }

  // ---- the list/watch loop ---------------------------------------------------------------------

  private async run(): Promise<void> {
    const signal = this.stopper.signal;
    const backoff = this.options.backoff ?? DEFAULT_BACKOFF;
    let needList = true;
    let attempt = 0;
    while (!signal.aborted) {
      let retryAfterBackoff = false;
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        const outcome = await this.watchOnce();
        if (outcome.progressed) attempt = 0;
        retryAfterBackoff = !outcome.progressed && !outcome.timedOut;
      } catch (error) {
        if (signal.aborted) break;
        const code = errorCode(error);
        if (code === StateErrorCode.REVISION_EXPIRED || code === StateErrorCode.REVISION_TOO_NEW) {
          this.logger.info({ code, revision: this.lastRevision }, 'Watch revision unusable; re-listing');
          needList = true;
          // A lagging server (too new) needs time to catch up; an expired one can be re-listed now.
          retryAfterBackoff = code === StateErrorCode.REVISION_TOO_NEW;
        } else if (code === StateErrorCode.WATCH_OVERFLOW) {
          this.logger.info({ revision: this.lastRevision }, 'Watch overflowed; resuming');
        } else {
          this.logger.warn({ err: error, revision: this.lastRevision }, 'State list/watch failed; retrying');
          retryAfterBackoff = true;
        }
      }
      if (retryAfterBackoff) await delay(backoffDelay(attempt++, backoff, this.random), signal);
    }
  }

  private async relist(): Promise<void> {
    const { api, namespace, selector } = this.options;
    const kinds = this.options.kind === undefined ? KINDS : [this.options.kind];
    const results = await Promise.all(kinds.map((kind) => api.list({ kind, namespace, selector })));
    if (this.stopper.signal.aborted) return;
    const fresh = new Map<string, StoredObject>();
    this.listedAt.clear();
    results.forEach((result, index) => {
      this.listedAt.set(kinds[index] as Kind, result.revision);
      for (const object of result.items) fresh.set(objectKey(object), object);
    });
    for (const [key, old] of this.cache) {
      if (!fresh.has(key)) this.pending.push({ type: 'DELETED', object: old });
    }
    for (const [key, object] of fresh) {
      const old = this.cache.get(key);
      if (old === undefined) this.pending.push({ type: 'ADDED', object });
      else if (old.revision !== object.revision) this.pending.push({ type: 'MODIFIED', object });
    }
    this.cache.clear();
    for (const [key, object] of fresh) this.cache.set(key, object);
    // Watch from the oldest list so no kind misses anything; listedAt skips what a list already had.
    this.lastRevision = Math.min(...results.map((result) => result.revision));
    this.scheduleFlush();
    if (!this.synced) {
      this.synced = true;
      this.onSynced?.();
    }
  }

  private async watchOnce(): Promise<WatchOutcome> {
    const controller = new AbortController();
    const stopWatch = (): void => controller.abort();
    this.stopper.signal.addEventListener('abort', stopWatch, { once: true });
    let timedOut = false;
    const timeoutMs = randomizedTimeout(this.options.watchTimeoutMs ?? DEFAULT_WATCH_TIMEOUT_MS, this.random);
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    let progressed = false;
    try {
      const stream = this.options.api.watch({
        from: this.lastRevision,
        kind: this.options.kind,
        namespace: this.options.namespace,
        selector: this.options.selector,
        bookmarkIntervalMs: this.options.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_MS,
        signal: controller.signal,
      });
      for await (const event of stream) {
        if (controller.signal.aborted) break;
        if (this.ingest(event)) progressed = true;
      }
    } finally {
      clearTimeout(timer);
      this.stopper.signal.removeEventListener('abort', stopWatch);
      controller.abort();
    }
    return { progressed, timedOut };
  }

  /** Applies one watch event to the cache; false when it was old news. */
  private ingest(event: WatchEvent): boolean {
    if (event.revision <= this.lastRevision) return false;
    this.lastRevision = event.revision;
    if (event.type === 'BOOKMARK') return true;
    const listed = this.listedAt.get(event.object.kind) ?? 0;
    if (event.revision <= listed) return true;
    const key = objectKey(event.object);
    if (event.type === 'DELETED') this.cache.delete(key);
    else this.cache.set(key, event.object);
    this.pending.push({ type: event.type, object: event.object });
    this.scheduleFlush();
    return true;
  }

  // ---- delivery ------------------------------------------------------------------------------------

  private scheduleFlush(): void {
    if (this.flushScheduled !== undefined || this.pending.length === 0) return;
    this.flushScheduled = setImmediate(() => this.flush());
  }

  private flush(): void {
    if (this.flushScheduled !== undefined) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    if (this.pending.length === 0) return;
    const batch = Object.freeze(this.pending);
    this.pending = [];
    for (const listener of [...this.listeners]) {
      try {
        listener(batch);
      } catch (error) {
        this.logger.error({ err: error }, 'An informer subscriber threw; continuing');
      }
    }
  }
}

/** Creates an informer; nothing happens until start(). */
export function createInformer(options: InformerOptions): Informer {
  return new StateInformer(options);
}
