/** Retry timing for the informer: exponential backoff with jitter, randomized watch timeouts. */

export interface BackoffOptions {
  /** First retry delay. Default 250 ms. */
  initialMs: number;
  /** Largest retry delay. Default 30 s. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 30_000 };

/**
 * The delay before retry number `attempt` (0-based): initial·2^attempt capped at max, then
 * "equal jitter" — a random point in the upper half — so retries after a shared outage spread out
 * yet never collapse to zero. `random` returns [0, 1).
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const exponential = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(exponential / 2 + (exponential / 2) * random());
}

/** A watch timeout randomized ±25% around `baseMs`, so a fleet of informers does not restart in lockstep. */
export function randomizedTimeout(baseMs: number, random: () => number): number {
  return Math.round(baseMs * (0.75 + 0.5 * random()));
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
