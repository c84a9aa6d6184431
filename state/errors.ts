import { SwitchyardError, type SwitchyardErrorOptions } from '../lib';

/** Stable error codes of the state room; each front door maps them to its protocol. */
export const StateErrorCode = {
  /** An object failed validation; `field` and `reason` say where and why. */
  INVALID: 'SY_STATE_INVALID',
  NOT_FOUND: 'SY_STATE_NOT_FOUND',
  /** An expected revision did not match, or the object exists when it must not. */
  CONFLICT: 'SY_STATE_CONFLICT',
  /** A watch asked for history that has been compacted away: re-list. */
  REVISION_EXPIRED: 'SY_STATE_REVISION_EXPIRED',
  /** A watch asked for a revision this server has not reached: list again (consistently). */
  REVISION_TOO_NEW: 'SY_STATE_REVISION_TOO_NEW',
  UNAUTHENTICATED: 'SY_STATE_UNAUTHENTICATED',
  /** A request or body over the size limit. */
  TOO_LARGE: 'SY_STATE_TOO_LARGE',
  /** A request that is not JSON/YAML, or has an unknown kind or route. */
  BAD_REQUEST: 'SY_STATE_BAD_REQUEST',
  /** The store's files are damaged beyond the torn tail it can repair. */
  CORRUPT: 'SY_STATE_CORRUPT',
  /** The store is closed or not ready. */
  UNAVAILABLE: 'SY_STATE_UNAVAILABLE',
  /** A watcher fell too far behind and was cut off: resume from its last revision. */
  WATCH_OVERFLOW: 'SY_STATE_WATCH_OVERFLOW',
} as const;
export type StateErrorCode = (typeof StateErrorCode)[keyof typeof StateErrorCode];

export class StateError extends SwitchyardError {
  declare readonly code: StateErrorCode;
  constructor(code: StateErrorCode, message: string, options?: SwitchyardErrorOptions) {
    super(code, message, options);
    this.name = 'StateError';
  }
}

export function invalid(field: string, reason: string): StateError {
  return new StateError(StateErrorCode.INVALID, `${field}: ${reason}`, { field, reason });
}

/** HTTP status for each code (REST front door). */
export const HTTP_STATUS: Readonly<Record<StateErrorCode, number>> = {
  SY_STATE_INVALID: 422,
  SY_STATE_NOT_FOUND: 404,
  SY_STATE_CONFLICT: 409,
  SY_STATE_REVISION_EXPIRED: 410,
  SY_STATE_REVISION_TOO_NEW: 504,
  SY_STATE_UNAUTHENTICATED: 401,
  SY_STATE_TOO_LARGE: 413,
  SY_STATE_BAD_REQUEST: 400,
  SY_STATE_CORRUPT: 500,
  SY_STATE_UNAVAILABLE: 503,
  SY_STATE_WATCH_OVERFLOW: 410,
};
