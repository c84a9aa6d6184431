import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * The one place where the dynamically loaded (untyped) gRPC definitions meet TypeScript: the
 * wire shapes below mirror switchyard.proto as proto-loader decodes it with LOADER_OPTIONS
 * (camelCase fields, int64 as number, enums as names, defaults filled, message fields null when
 * absent, proto3 `optional` fields absent when unset).
 */

export const PROTO_PACKAGE = 'switchyard.state.v1';
export const SERVICE_NAME = `${PROTO_PACKAGE}.State`;

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  // Revisions stay far below 2^53; numbers keep the TypeScript side simple.
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export interface WireObject {
  kind: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  revision: number;
  createRevision: number;
  specJson: string;
}

export interface WireObjectRef {
  kind: string;
  name: string;
  namespace: string;
}

export interface WireGetRequest {
  ref: WireObjectRef | null;
}

export interface WireListRequest {
  kind: string;
  namespace: string;
  selector: string;
}

export interface WireListResponse {
  items: WireObject[];
  revision: number;
}

export interface WireApplyRequest {
  object: WireObject | null;
  expectedRevision?: number;
}

export interface WireDeleteRequest {
  ref: WireObjectRef | null;
  expectedRevision?: number;
}

export interface WireWatchRequest {
  from: number;
  kind: string;
  namespace: string;
  selector: string;
  bookmarkIntervalMs: number;
}

export type WireEventType = 'EVENT_TYPE_UNSPECIFIED' | 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WireWatchEvent {
  type: WireEventType;
  revision: number;
  object: WireObject | null;
}

/** One message of a Watch stream: one or more events in revision order. */
export interface WireWatchResponse {
  events: WireWatchEvent[];
}

/** Callers may pass partial messages; proto-loader fills the defaults on the other side. */
export type Outgoing<T> = {
  [K in keyof T]?: T[K] extends object | null ? Outgoing<NonNullable<T[K]>> : T[K];
};

type UnaryCallback<Res> = (error: grpc.ServiceError | null, response?: Res) => void;

interface UnaryMethod<Req, Res> {
  (
    request: Outgoing<Req>,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: UnaryCallback<Res>,
  ): grpc.ClientUnaryCall;
}

/** The generated client class, typed. */
export interface RawStateClient extends grpc.Client {
  Get: UnaryMethod<WireGetRequest, WireObject>;
  List: UnaryMethod<WireListRequest, WireListResponse>;
  Apply: UnaryMethod<WireApplyRequest, WireObject>;
  Delete: UnaryMethod<WireDeleteRequest, WireObject>;
  Watch(
    request: Outgoing<WireWatchRequest>,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): grpc.ClientReadableStream<WireWatchResponse>;
}

export type RawStateClientConstructor = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ClientOptions,
) => RawStateClient;

/** The handlers a server implements, typed. */
export interface StateServiceHandlers extends grpc.UntypedServiceImplementation {
  Get: grpc.handleUnaryCall<WireGetRequest, Outgoing<WireObject>>;
  List: grpc.handleUnaryCall<WireListRequest, Outgoing<WireListResponse>>;
  Apply: grpc.handleUnaryCall<WireApplyRequest, Outgoing<WireObject>>;
  Delete: grpc.handleUnaryCall<WireDeleteRequest, Outgoing<WireObject>>;
  Watch: grpc.handleServerStreamingCall<WireWatchRequest, Outgoing<WireWatchResponse>>;
}

export interface StateProto {
  service: grpc.ServiceDefinition;
  Client: RawStateClientConstructor;
  /** The generated encoder of a WatchResponse message (one Watch stream message). */
  serializeWatchResponse: (value: unknown) => Buffer;
}

/**
 * Where switchyard.proto is: beside this file when running from source (ts via swc/jest), and in
 * the source tree when running from dist/ (tsc does not copy .proto files).
 */
export function protoPath(): string {
  const candidates = [
    path.join(__dirname, 'switchyard.proto'),
    path.join(__dirname, '..', '..', '..', 'state', 'proto', 'switchyard.proto'),
  ];
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (found === undefined) throw new Error(`switchyard.proto not found in ${candidates.join(', ')}`);
  return found;
}

let cached: StateProto | undefined;

/** Loads the proto once (about 20 ms), on first use rather than at import time. */
export function loadStateProto(): StateProto {
  if (cached !== undefined) return cached;
  const definition = protoLoader.loadSync(protoPath(), LOADER_OPTIONS);
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    switchyard: { state: { v1: { State: grpc.ServiceClientConstructor } } };
  };
  const State = loaded.switchyard.state.v1.State;
  const watch = State.service.Watch as grpc.MethodDefinition<unknown, unknown>;
  const serialize = watch.responseSerialize;
  // A watch event fanned out to many streams is encoded once, and a batch of them is built from
  // those bytes (state/server/grpc-watch.ts): the server writes Buffers as they are, and anything
  // else through the generated serializer.
  const service: grpc.ServiceDefinition = {
    ...State.service,
    Watch: {
      ...watch,
      responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : serialize(value)),
    },
  };
  cached = {
    service,
    Client: State as unknown as RawStateClientConstructor,
    serializeWatchResponse: serialize,
  };
  return cached;
}
