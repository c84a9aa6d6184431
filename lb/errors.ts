import { SwitchyardError, type SwitchyardErrorOptions } from '../lib';

/** Stable error codes of the load-balancer room; callers match on `code`, never on message text. */
export const LbErrorCode = {
  /** An option given to the load balancer is missing, of the wrong type, or out of range. */
  INVALID_OPTIONS: 'SY_LB_INVALID_OPTIONS',
  /** Compiling the route table failed; the previous table keeps serving. */
  COMPILE_FAILED: 'SY_LB_COMPILE_FAILED',
  /** A frontend could not be bound (address in use, permission denied). */
  BIND_FAILED: 'SY_LB_BIND_FAILED',
  /** No host/path rule and no default backend matched the request (HTTP 404). */
  NO_ROUTE: 'SY_LB_NO_ROUTE',
  /** The pool has no backend that may take traffic (HTTP 503). */
  NO_BACKEND: 'SY_LB_NO_BACKEND',
  /** Every connection to the backend stayed busy for the queue timeout (HTTP 503). */
  QUEUE_TIMEOUT: 'SY_LB_QUEUE_TIMEOUT',
  /** Every connection attempt failed, retries included (HTTP 502). */
  CONNECT_FAILED: 'SY_LB_CONNECT_FAILED',
  /** The backend closed or reset the connection before a full response (HTTP 502). */
  BACKEND_RESET: 'SY_LB_BACKEND_RESET',
  /** The backend did not answer within the server timeout (HTTP 504). */
  BACKEND_TIMEOUT: 'SY_LB_BACKEND_TIMEOUT',
  /** The request body is over the configured limit (HTTP 413). */
  BODY_TOO_LARGE: 'SY_LB_BODY_TOO_LARGE',
  /** The admin API was asked about a backend id the route table does not hold (HTTP 404). */
  UNKNOWN_BACKEND: 'SY_LB_UNKNOWN_BACKEND',
  /** The client's request is malformed or ambiguous (HTTP 400), or its head is over the limit (431). */
  BAD_REQUEST: 'SY_LB_BAD_REQUEST',
  /** The client did not send its request head or body in time (HTTP 408). */
  CLIENT_TIMEOUT: 'SY_LB_CLIENT_TIMEOUT',
  /** The request asks for something the proxy does not do: CONNECT, a transfer coding other than chunked (HTTP 501). */
  NOT_IMPLEMENTED: 'SY_LB_NOT_IMPLEMENTED',
  /** The backend's response is malformed or ambiguous (HTTP 502). */
  BAD_RESPONSE: 'SY_LB_BAD_RESPONSE',
  /** An unexpected exception reached a proxy handler's top-level catch (HTTP 502). */
  INTERNAL: 'SY_LB_INTERNAL',
  /** A file in the certificate directory does not parse, or its key is not its certificate's; it is skipped. */
  BAD_CERTIFICATE: 'SY_LB_BAD_CERTIFICATE',
} as const;
export type LbErrorCode = (typeof LbErrorCode)[keyof typeof LbErrorCode];

export class LbError extends SwitchyardError {
  declare readonly code: LbErrorCode;
  constructor(code: LbErrorCode, message: string, options?: SwitchyardErrorOptions) {
    super(code, message, options);
    this.name = 'LbError';
  }
}

export function invalidOption(field: string, reason: string): LbError {
  return new LbError(LbErrorCode.INVALID_OPTIONS, `${field}: ${reason}`, { field, reason });
}

/** The HTTP status a proxy answers with for each code that can reach a client. */
export const HTTP_STATUS: Readonly<Record<LbErrorCode, number>> = {
  SY_LB_INVALID_OPTIONS: 500,
  SY_LB_COMPILE_FAILED: 500,
  SY_LB_BIND_FAILED: 500,
  SY_LB_NO_ROUTE: 404,
  SY_LB_NO_BACKEND: 503,
  SY_LB_QUEUE_TIMEOUT: 503,
  SY_LB_CONNECT_FAILED: 502,
  SY_LB_BACKEND_RESET: 502,
  SY_LB_BACKEND_TIMEOUT: 504,
  SY_LB_BODY_TOO_LARGE: 413,
  SY_LB_UNKNOWN_BACKEND: 404,
  SY_LB_BAD_REQUEST: 400,
  SY_LB_CLIENT_TIMEOUT: 408,
  SY_LB_NOT_IMPLEMENTED: 501,
  SY_LB_BAD_RESPONSE: 502,
  SY_LB_INTERNAL: 502,
  SY_LB_BAD_CERTIFICATE: 500,
};
