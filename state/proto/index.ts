// The gRPC wire of the state API, shared by the server (state/server) and the client
// (state/client): the typed view of switchyard.proto, model <-> message conversions, and the
// StateError <-> gRPC status mapping.
export {
  PROTO_PACKAGE,
  SERVICE_NAME,
  LOADER_OPTIONS,
  loadStateProto,
  protoPath,
  type StateProto,
  type RawStateClient,
  type RawStateClientConstructor,
  type StateServiceHandlers,
  type Outgoing,
  type WireObject,
  type WireObjectRef,
  type WireGetRequest,
  type WireListRequest,
  type WireListResponse,
  type WireApplyRequest,
  type WireDeleteRequest,
  type WireWatchRequest,
  type WireWatchEvent,
  type WireWatchResponse,
  type WireEventType,
} from './load';
export {
  toWireObject,
  fromWireObject,
  inputToWire,
  wireToInput,
  refToWire,
  wireToRef,
  optionalString,
  toWireEvent,
  fromWireEvent,
} from './wire';
export {
  METADATA_CODE,
  METADATA_FIELD,
  METADATA_REASON,
  TOO_MANY_WATCHES,
  grpcStatusOf,
  asStateError,
  toGrpcStatus,
  fromGrpcError,
} from './status';
