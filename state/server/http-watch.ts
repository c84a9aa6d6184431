import { objectJson } from '../encode-cache';
import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { Logger } from '../../lib';
import type { StateApi, WatchEvent, WatchOptions } from '../api';
import type { StateError } from '../errors';
import { asStateError } from '../proto';
import type { WatchTracker } from './watches';

/**
 * The REST watch stream: newline-delimited JSON events, or Server-Sent Events (`id:` = revision,
 * so an EventSource resumes with Last-Event-ID). Errors found before the first byte (an expired
 * `from`) are thrown so the caller answers with a status; errors later become one ERROR event.
 */

export interface HttpWatchRequest {
  options: Omit<WatchOptions, 'signal'>;
  sse: boolean;
}

export interface HttpWatchDeps {
  api: StateApi;
  watches: WatchTracker;
  logger: Logger;
}

function formatEvent(event: WatchEvent, sse: boolean): string {
  const json =
    event.type === 'BOOKMARK'
      ? JSON.stringify(event)
      : `{"type":"${event.type}","revision":${event.revision},"object":${objectJson(event.object)}}`;
  return sse ? `id: ${event.revision}\ndata: ${json}\n\n` : `${json}\n`;
}

function formatError(error: StateError, sse: boolean): string {
  const json = JSON.stringify({ type: 'ERROR', error: error.toJSON() });
  return sse ? `event: error\ndata: ${json}\n\n` : `${json}\n`;
}

async function write(res: ServerResponse, chunk: string, signal: AbortSignal): Promise<void> {
  if (res.write(chunk)) return;
  // Backpressure: wait for the client to read, or for the watch to end.
  await once(res, 'drain', { signal }).catch(() => undefined);
}

function writeHead(res: ServerResponse, sse: boolean): void {
  res.writeHead(200, {
    'Content-Type': sse ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson',
    'Cache-Control': 'no-cache, no-transform',
    'X-Accel-Buffering': 'no',
    // A watch holds its connection for long; when it ends, close it rather than keep it idle.
    Connection: 'close',
  });
  res.flushHeaders();
}

type Settled<T> = { value: T } | { error: unknown } | undefined;

/** The first step's outcome if it settles within one turn of the event loop, else undefined. */
function settledSoon<T>(promise: Promise<T>): Promise<Settled<T>> {
  return Promise.race([
    promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined))),
  ]);
}

function abortPromise(signal: AbortSignal): Promise<'aborted'> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve('aborted');
    else signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
}

async function pump(
  res: ServerResponse,
  iterator: AsyncIterator<WatchEvent>,
  first: Promise<IteratorResult<WatchEvent>>,
  signal: AbortSignal,
  sse: boolean,
): Promise<void> {
  const aborted = abortPromise(signal);
  let pending = first;
  for (;;) {
    const step = await Promise.race([pending, aborted]);
    if (step === 'aborted') {
      pending.catch(() => undefined);
      return;
    }
    if (step.done === true) return;
    await write(res, formatEvent(step.value, sse), signal);
    if (signal.aborted) return;
    pending = iterator.next();
  }
}

/**
 * Serves one watch until the store ends it, the client goes away, or the server ends all
 * watches. Always releases the watch slot and the store's watcher. Throws before writing
 * anything if the watch fails at once (the caller answers 410/504/503 with the error JSON).
 */
export async function serveHttpWatch(
  res: ServerResponse,
  request: HttpWatchRequest,
  deps: HttpWatchDeps,
): Promise<void> {
  const slot = deps.watches.acquire('http');
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  slot.signal.addEventListener('abort', abort, { once: true });
  res.once('close', abort);
  const iterator = deps.api.watch({ ...request.options, signal: controller.signal })[Symbol.asyncIterator]();
  try {
    const first = iterator.next();
    const early = await settledSoon(first);
    if (early !== undefined && 'error' in early) throw early.error;
    writeHead(res, request.sse);
    try {
      await pump(res, iterator, first, controller.signal, request.sse);
    } catch (error) {
      const stateError = asStateError(error);
      deps.logger.debug({ err: stateError }, 'Watch ended with an error');
      if (!res.writableEnded && !res.destroyed) res.write(formatError(stateError, request.sse));
    }
    if (!res.writableEnded) res.end();
  } finally {
    controller.abort();
    slot.signal.removeEventListener('abort', abort);
    res.off('close', abort);
    slot.release();
    // Make sure the store drops its watcher even if it ignores the signal.
    void iterator.return?.().catch(() => undefined);
  }
}
