// The state client: a typed gRPC client implementing StateApi, and the informer every consumer
// (dns/, lb/, vip/, agent/, the CLI's watch) uses to list + watch state. See README.md.
export { createGrpcStateClient, type GrpcStateClient, type GrpcStateClientOptions } from './grpc-client';
export {
  createInformer,
  type Informer,
  type InformerEvent,
  type InformerListener,
  type InformerOptions,
} from './informer';
export { DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
