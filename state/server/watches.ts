import { StateError, StateErrorCode } from '../errors';
import { TOO_MANY_WATCHES } from '../proto';
import type { ServerMetrics } from './metrics';

export type Transport = 'http' | 'grpc';

export interface WatchSlot {
  /** Aborted when the server ends the watch (close, endWatches); pass it to the store. */
  readonly signal: AbortSignal;
  /** Give the slot back; idempotent. */
  release(): void;
}

/**
 * Counts open watches across both transports against one limit, and lets the server end them all
 * (close, drain) by aborting their signals.
 */
export class WatchTracker {
  private readonly open = new Set<AbortController>();

  constructor(
    private readonly maxWatches: number,
    private readonly metrics: ServerMetrics,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** Throws SY_STATE_UNAVAILABLE (503 / RESOURCE_EXHAUSTED) when the limit is reached. */
  acquire(transport: Transport): WatchSlot {
    if (this.open.size >= this.maxWatches) {
      throw new StateError(
        StateErrorCode.UNAVAILABLE,
        `too many concurrent watches (limit ${this.maxWatches})`,
        {
          reason: TOO_MANY_WATCHES,
        },
      );
    }
    const controller = new AbortController();
    this.open.add(controller);
    this.metrics.activeWatches.inc({ transport });
    let released = false;
    return {
      signal: controller.signal,
      release: () => {
        if (released) return;
        released = true;
        this.open.delete(controller);
        this.metrics.activeWatches.dec({ transport });
      },
    };
  }

  /** Ends every open watch; their clients resume from their last revision. Returns how many. */
  endAll(): number {
    const count = this.open.size;
    for (const controller of [...this.open]) controller.abort();
    return count;
  }
}
