// The gRPC Watch stream: events batched per message, each event encoded once for every stream.
//
// Events that become ready for a watch in the same turn of the event loop (one store commit group,
// usually) go out as one WatchResponse, etcd-style; a message is cut at `watchBatchMaxEvents` or
// about `watchBatchMaxBytes`, so a catch-up from an old revision streams as many bounded messages.
// Backpressure is what it was with one event per message: while the client is not reading (the
// stream's buffer is full, or more than `watchBatchMaxBytes` are written but not flushed), the
// pump stops pulling from the store; the store's watcher then queues references up to its
// `watchBufferLimit` and ends the watch with SY_STATE_WATCH_OVERFLOW, and the client resumes from
// its last revision.
import * as grpc from '@grpc/grpc-js';
import type { WatchEvent } from '../api';
import { invalid } from '../errors';
import { isKind } from '../model';
import {
  asStateError,
  loadStateProto,
  optionalString,
  toGrpcStatus,
  toWireEvent,
  type Outgoing,
  type WireWatchRequest,
  type WireWatchResponse,
} from '../proto';
import type { ServerMetrics } from './metrics';
import type { ResolvedServerOptions } from './options';
import type { WatchTracker } from './watches';

export type WatchCall = grpc.ServerWritableStream<WireWatchRequest, Outgoing<WireWatchResponse>>;

export interface WatchDeps {
  options: ResolvedServerOptions;
  metrics: ServerMetrics;
  watches: WatchTracker;
}

export interface BatchLimits {
  maxEvents: number;
  maxBytes: number;
}

/**
 * Stored objects are shared by every watcher, so an object event is encoded once — as a one-event
 * WatchResponse, field tag and length included — and those bytes serve every stream that gets it.
 */
const encodedEvents = new WeakMap<object, { type: string; revision: number; bytes: Buffer }>();

export function encodeWatchEvent(event: WatchEvent): Buffer {
  const serialize = loadStateProto().serializeWatchResponse;
  if (event.type === 'BOOKMARK') return serialize({ events: [toWireEvent(event)] });
  const cached = encodedEvents.get(event.object);
  if (cached !== undefined && cached.type === event.type && cached.revision === event.revision)
    return cached.bytes;
  const bytes = serialize({ events: [toWireEvent(event)] });
  encodedEvents.set(event.object, { type: event.type, revision: event.revision, bytes });
  return bytes;
}

/**
 * The batches built in this event-loop turn, by first event. Watchers at the same position get the
 * same commit group in the same turn, so the first builds the message and the others reuse its
 * bytes. Kept for one turn only: a batch is worth sharing while its watchers flush, not after.
 */
const turnBatches = new Map<Buffer, { parts: readonly Buffer[]; bytes: Buffer }>();
let forgetScheduled = false;

function forgetTurnBatches(): void {
  turnBatches.clear();
  forgetScheduled = false;
}

function sameParts(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * One WatchResponse from one-event encodings: concatenated protobuf messages decode as one message
 * whose repeated fields are appended, so no event is encoded again. `parts` must not change later.
 */
export function encodeWatchBatch(parts: readonly Buffer[]): Buffer {
  const first = parts[0];
  if (first === undefined) throw new Error('an empty watch batch');
  if (parts.length === 1) return first;
  const cached = turnBatches.get(first);
  if (cached !== undefined && sameParts(cached.parts, parts)) return cached.bytes;
  const bytes = Buffer.concat(parts);
  turnBatches.set(first, { parts, bytes });
  if (!forgetScheduled) {
    forgetScheduled = true;
    setImmediate(forgetTurnBatches).unref();
  }
  return bytes;
}

/** Collects one watch's events into bounded messages and writes them with backpressure. */
export class WatchBatcher {
  private parts: Buffer[] = [];
  private bytes = 0;
  private immediate: NodeJS.Immediate | undefined;
  /** Bytes handed to the call whose write has not completed yet. */
  private unflushed = 0;
  private needDrain = false;
  private wake: (() => void) | undefined;
  private readonly onProgress = (): void => this.progress();
  private readonly onDrain = (): void => {
    this.needDrain = false;
    this.progress();
  };

  constructor(
    private readonly call: WatchCall,
    private readonly limits: BatchLimits,
    private readonly signal: AbortSignal,
  ) {
    call.on('drain', this.onDrain);
    signal.addEventListener('abort', this.onProgress, { once: true });
  }

  /** The client is not keeping up: stop pulling events until room() resolves. */
  get full(): boolean {
    return this.needDrain || this.unflushed > this.limits.maxBytes;
  }

  /** Adds one event; the message goes out at the bound, else at the end of this event-loop turn. */
  add(event: WatchEvent): void {
    const part = encodeWatchEvent(event);
    if (this.parts.length > 0 && this.bytes + part.length > this.limits.maxBytes) this.flush();
    this.parts.push(part);
    this.bytes += part.length;
    if (this.parts.length >= this.limits.maxEvents || this.bytes >= this.limits.maxBytes) this.flush();
    else this.immediate ??= setImmediate(this.onImmediate);
  }

  /** Resolves once the client has room again (or the watch is aborted). */
  room(): Promise<void> {
    if (!this.full || this.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }

  /** Writes what is pending even into a full stream (it ends next), and lets go of the call. */
  close(): void {
    this.flush(true);
    this.call.off('drain', this.onDrain);
    this.signal.removeEventListener('abort', this.onProgress);
    this.wakeUp();
  }

  private readonly onImmediate = (): void => {
    this.immediate = undefined;
    this.flush();
  };

  /** Sends the pending events as one message; while the stream is full they wait for progress(). */
  private flush(force = false): void {
    if (this.immediate !== undefined) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
    if (this.parts.length === 0 || (this.full && !force)) return;
    const message = encodeWatchBatch(this.parts);
    this.parts = [];
    this.bytes = 0;
    this.unflushed += message.length;
    const written = (): void => {
      this.unflushed -= message.length;
      this.progress();
    };
    // The Watch serializer passes Buffers through (state/proto/load.ts).
    if (!this.call.write(message as unknown as Outgoing<WireWatchResponse>, written)) this.needDrain = true;
  }

  /** After a drain or a completed write: send what waited, and let the pump go on if there is room. */
  private progress(): void {
    if (!this.signal.aborted) {
      if (this.full) return;
      if (this.parts.length > 0) this.flush();
      if (this.full) return;
    }
    this.wakeUp();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function watchOptions(request: WireWatchRequest, deps: WatchDeps, signal: AbortSignal) {
  const { limits } = deps.options;
  if (request.kind !== '' && !isKind(request.kind))
    throw invalid('kind', `unknown kind ${JSON.stringify(request.kind)}`);
  const asked = request.bookmarkIntervalMs;
  return {
    from: request.from,
    kind: request.kind === '' ? undefined : request.kind,
    namespace: optionalString(request.namespace),
    selector: optionalString(request.selector),
    bookmarkIntervalMs: asked > 0 ? Math.max(asked, limits.minBookmarkIntervalMs) : limits.bookmarkIntervalMs,
    signal,
  };
}

function statusName(code: grpc.status): string {
  return grpc.status[code] ?? String(code);
}

/** One server-streaming watch: ends when the store ends, the client cancels, or the server drains. */
export async function serveWatch(call: WatchCall, deps: WatchDeps, authorize: () => void): Promise<void> {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  call.once('cancelled', abort);
  const { watchBatchMaxEvents: maxEvents, watchBatchMaxBytes: maxBytes } = deps.options.limits;
  const batcher = new WatchBatcher(call, { maxEvents, maxBytes }, controller.signal);
  let release = (): void => undefined;
  let code = grpc.status.OK;
  try {
    authorize();
    const slot = deps.watches.acquire('grpc');
    release = slot.release;
    slot.signal.addEventListener('abort', abort, { once: true });
    for await (const event of deps.options.api.watch(watchOptions(call.request, deps, controller.signal))) {
      batcher.add(event);
      if (batcher.full) await batcher.room();
      if (controller.signal.aborted) break;
    }
    batcher.close();
    call.end();
  } catch (error) {
    // Events already taken go out first, so the client resumes after them.
    batcher.close();
    const status = toGrpcStatus(asStateError(error));
    code = status.code ?? grpc.status.UNKNOWN;
    // emit('error') is how grpc-js ends a server stream with a status (and trailers).
    if (!call.cancelled) call.emit('error', status);
  } finally {
    controller.abort();
    call.off('cancelled', abort);
    release();
    deps.metrics.grpcRequests.inc({
      method: 'Watch',
      code: statusName(call.cancelled ? grpc.status.CANCELLED : code),
    });
  }
}
