import { Metadata, status as GrpcStatus, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { isSwitchyardError } from '../../lib';
import { StateError, StateErrorCode } from '../errors';

/** Trailing-metadata keys that carry a Switchyard error across gRPC, so clients rebuild it. */
export const METADATA_CODE = 'sy-code';
export const METADATA_FIELD = 'sy-field';
export const METADATA_REASON = 'sy-reason';

/** The reason the server gives when its watch limit is reached (gRPC: RESOURCE_EXHAUSTED). */
export const TOO_MANY_WATCHES = 'too many concurrent watches';

const STATUS_OF_CODE: Readonly<Record<StateErrorCode, GrpcStatus>> = {
  SY_STATE_INVALID: GrpcStatus.INVALID_ARGUMENT,
  SY_STATE_BAD_REQUEST: GrpcStatus.INVALID_ARGUMENT,
  SY_STATE_NOT_FOUND: GrpcStatus.NOT_FOUND,
  SY_STATE_CONFLICT: GrpcStatus.ABORTED,
  SY_STATE_REVISION_EXPIRED: GrpcStatus.OUT_OF_RANGE,
  SY_STATE_REVISION_TOO_NEW: GrpcStatus.OUT_OF_RANGE,
  SY_STATE_UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  SY_STATE_TOO_LARGE: GrpcStatus.RESOURCE_EXHAUSTED,
  SY_STATE_CORRUPT: GrpcStatus.DATA_LOSS,
  SY_STATE_UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  SY_STATE_WATCH_OVERFLOW: GrpcStatus.RESOURCE_EXHAUSTED,
};

/** Used when a status arrives without `sy-code` (from grpc-js itself: connection, size, deadline). */
const CODE_OF_STATUS: ReadonlyMap<GrpcStatus, StateErrorCode> = new Map([
  [GrpcStatus.INVALID_ARGUMENT, StateErrorCode.BAD_REQUEST],
  [GrpcStatus.NOT_FOUND, StateErrorCode.NOT_FOUND],
  [GrpcStatus.ABORTED, StateErrorCode.CONFLICT],
  [GrpcStatus.ALREADY_EXISTS, StateErrorCode.CONFLICT],
  [GrpcStatus.OUT_OF_RANGE, StateErrorCode.REVISION_EXPIRED],
  [GrpcStatus.UNAUTHENTICATED, StateErrorCode.UNAUTHENTICATED],
  [GrpcStatus.PERMISSION_DENIED, StateErrorCode.UNAUTHENTICATED],
  [GrpcStatus.RESOURCE_EXHAUSTED, StateErrorCode.TOO_LARGE],
  [GrpcStatus.DATA_LOSS, StateErrorCode.CORRUPT],
]);

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(StateErrorCode));

export function grpcStatusOf(error: StateError): GrpcStatus {
  if (error.code === StateErrorCode.UNAVAILABLE && error.reason === TOO_MANY_WATCHES) {
    return GrpcStatus.RESOURCE_EXHAUSTED;
  }
  return STATUS_OF_CODE[error.code];
}

/** Any thrown value as a StateError; unknown errors become UNAVAILABLE (the server's fault). */
export function asStateError(error: unknown): StateError {
  if (error instanceof StateError) return error;
  if (isSwitchyardError(error) && KNOWN_CODES.has(error.code)) {
    const options = { cause: error, field: error.field, reason: error.reason };
    return new StateError(error.code as StateErrorCode, error.message, options);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new StateError(StateErrorCode.UNAVAILABLE, `internal error: ${message}`, { cause: error });
}

/** A server-side error as the gRPC status to send, with the Switchyard error in trailers. */
export function toGrpcStatus(error: StateError): Partial<StatusObject> {
  const metadata = new Metadata();
  metadata.set(METADATA_CODE, error.code);
  if (error.field !== undefined) metadata.set(METADATA_FIELD, error.field);
  if (error.reason !== undefined) metadata.set(METADATA_REASON, error.reason);
  return { code: grpcStatusOf(error), details: error.message, metadata };
}

function metadataString(metadata: Metadata | undefined, key: string): string | undefined {
  const value = metadata?.get(key)[0];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A client-side gRPC error rebuilt as the StateError the server threw (same code, field, reason). */
export function fromGrpcError(error: ServiceError | Error): StateError {
  const serviceError = error as Partial<ServiceError>;
  const code = metadataString(serviceError.metadata, METADATA_CODE);
  const field = metadataString(serviceError.metadata, METADATA_FIELD);
  const reason = metadataString(serviceError.metadata, METADATA_REASON);
  const message = serviceError.details ?? error.message;
  const options = { cause: error, field, reason };
  if (code !== undefined && KNOWN_CODES.has(code)) {
    return new StateError(code as StateErrorCode, message, options);
  }
  const fallback = CODE_OF_STATUS.get(serviceError.code ?? GrpcStatus.UNKNOWN) ?? StateErrorCode.UNAVAILABLE;
  return new StateError(fallback, message, options);
}
