import * as grpc from '@grpc/grpc-js';
import type { ListQuery, ListResult, StateApi, WatchEvent, WatchOptions, WriteOptions } from '../api';
import { StateError, StateErrorCode } from '../errors';
import type { ObjectInput, ObjectRef, StoredObject } from '../model';
import {
  fromGrpcError,
  fromWireEvent,
  fromWireObject,
  inputToWire,
  loadStateProto,
  refToWire,
  type RawStateClient,
  type WireListResponse,
  type WireObject,
  type WireWatchRequest,
  type WireWatchResponse,
} from '../proto';

export interface GrpcStateClientOptions {
  /** `host:port` or `unix:///path`. */
  address: string;
  /** Sent as `authorization: Bearer <token>`; needed for writes (and remote reads). */
  token?: string;
  /** Deadline of each unary call. Default 30 s. */
  callTimeoutMs?: number;
  /** Largest message accepted (a big List). Default 64 MiB. */
  maxReceiveMessageBytes?: number;
  /** Keepalive ping interval, to find half-open watch connections. Default 30 s. */
  keepaliveTimeMs?: number;
  /** Extra grpc-js channel options (e.g. reconnect backoff); they win over the defaults. */
  channelOptions?: grpc.ChannelOptions;
}

export type GrpcStateClient = StateApi & { close(): void };

const DEFAULT_CALL_TIMEOUT_MS = 30_000;

function writeRequestOptions(options?: WriteOptions): { expectedRevision?: number } {
  return options?.expectedRevision === undefined ? {} : { expectedRevision: options.expectedRevision };
}

/** Turns a grpc-js unary method into a promise that rejects with a rebuilt StateError. */
function call<Res>(
  start: (
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    done: (e: grpc.ServiceError | null, r?: Res) => void,
  ) => void,
  metadata: () => grpc.Metadata,
  timeoutMs: number,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    start(metadata(), { deadline: Date.now() + timeoutMs }, (error, response) => {
      if (error !== null) reject(fromGrpcError(error));
      else if (response === undefined)
        reject(new StateError(StateErrorCode.UNAVAILABLE, 'empty gRPC response'));
      else resolve(response);
    });
  });
}

function isCancelled(error: unknown): boolean {
  return (error as Partial<grpc.ServiceError>).code === grpc.status.CANCELLED;
}

function watchRequest(options: WatchOptions): WireWatchRequest {
  return {
    from: options.from,
    kind: options.kind ?? '',
    namespace: options.namespace ?? '',
    selector: options.selector ?? '',
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 0,
  };
}

async function* watchStream(
  client: RawStateClient,
  options: WatchOptions,
  metadata: grpc.Metadata,
): AsyncGenerator<WatchEvent> {
  if (options.signal?.aborted) return;
  const stream = client.Watch(watchRequest(options), metadata, {});
  const cancel = (): void => stream.cancel();
  options.signal?.addEventListener('abort', cancel, { once: true });
  try {
    // A message carries the events that were ready together (a commit group); they are handed out
    // one by one, in order. A consumer that stops mid-message resumes from the last event it took.
    for await (const message of stream as AsyncIterable<WireWatchResponse>) {
      for (const wire of message.events) yield fromWireEvent(wire);
    }
  } catch (error) {
    // Our own cancel (abort) ends the iteration quietly; anything else is the server's answer.
    if (isCancelled(error) && options.signal?.aborted) return;
    throw fromGrpcError(error as grpc.ServiceError);
  } finally {
    options.signal?.removeEventListener('abort', cancel);
    // The consumer stopped iterating (or the stream ended): make sure the call is gone.
    stream.cancel();
  }
}

/**
 * The typed gRPC client of the state API. It implements StateApi, so the informer and every
 * consumer work over it as over an in-process store. Errors are the server's StateErrors rebuilt
 * from trailing metadata; a connection failure is SY_STATE_UNAVAILABLE.
 */
export function createGrpcStateClient(options: GrpcStateClientOptions): GrpcStateClient {
  const { Client } = loadStateProto();
  const client = new Client(options.address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 64 * 1024 * 1024,
    'grpc.keepalive_time_ms': options.keepaliveTimeMs ?? 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    ...options.channelOptions,
  });
  const timeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const metadata = (): grpc.Metadata => {
    const md = new grpc.Metadata();
    if (options.token !== undefined) md.set('authorization', `Bearer ${options.token}`);
    return md;
  };
  return {
    async get(ref: ObjectRef): Promise<StoredObject> {
      const wire = await call<WireObject>(
        (md, o, done) => client.Get({ ref: refToWire(ref) }, md, o, done),
        metadata,
        timeoutMs,
      );
      return fromWireObject(wire);
    },
    async list(query: ListQuery): Promise<ListResult> {
      const request = { kind: query.kind, namespace: query.namespace ?? '', selector: query.selector ?? '' };
      const wire = await call<WireListResponse>(
        (md, o, done) => client.List(request, md, o, done),
        metadata,
        timeoutMs,
      );
      return { items: wire.items.map(fromWireObject), revision: wire.revision };
    },
    async apply(input: ObjectInput, writeOptions?: WriteOptions): Promise<StoredObject> {
      const request = { object: inputToWire(input), ...writeRequestOptions(writeOptions) };
      const wire = await call<WireObject>(
        (md, o, done) => client.Apply(request, md, o, done),
        metadata,
        timeoutMs,
      );
      return fromWireObject(wire);
    },
    async delete(ref: ObjectRef, writeOptions?: WriteOptions): Promise<StoredObject> {
      const request = { ref: refToWire(ref), ...writeRequestOptions(writeOptions) };
      const wire = await call<WireObject>(
        (md, o, done) => client.Delete(request, md, o, done),
        metadata,
        timeoutMs,
      );
      return fromWireObject(wire);
    },
    watch(watchOptions: WatchOptions): AsyncIterable<WatchEvent> {
      return { [Symbol.asyncIterator]: () => watchStream(client, watchOptions, metadata()) };
    },
    close(): void {
      client.close();
    },
  };
}
