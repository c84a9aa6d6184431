import { SwitchyardError, type SwitchyardErrorOptions } from '../../../lib';

/**
 * Stable error codes of the state sources (STYLE.md item 7); callers match on `code`, never on
 * message text. One fetch attempt fails with UNREACHABLE, TIMEOUT or BAD_RESPONSE; a fetch that
 * tried every master fails with UNAVAILABLE, the attempts in `details.attempts`.
 */
export const SOURCE_ERROR_CODES = {
  /** A source option or a Mesos-DNS config file field is malformed or unsupported (`field` names it). */
  INVALID_CONFIG: 'SY_SOURCE_INVALID_CONFIG',
  /** A master could not be connected to (refused, reset, DNS failure). */
  UNREACHABLE: 'SY_SOURCE_UNREACHABLE',
  /** A master did not answer within the state timeout. */
  TIMEOUT: 'SY_SOURCE_TIMEOUT',
  /** A master answered, but not with a usable state: HTTP status, not JSON, too large, no leader. */
  BAD_RESPONSE: 'SY_SOURCE_BAD_RESPONSE',
  /** No configured master (nor the leader they named) gave a leader's state. */
  UNAVAILABLE: 'SY_SOURCE_UNAVAILABLE',
} as const;

export type SourceErrorCode = (typeof SOURCE_ERROR_CODES)[keyof typeof SOURCE_ERROR_CODES];

export class SourceError extends SwitchyardError {
  declare readonly code: SourceErrorCode;

  constructor(code: SourceErrorCode, message: string, options: SwitchyardErrorOptions = {}) {
    super(code, message, options);
    this.name = 'SourceError';
  }
}

export function invalidConfig(field: string, reason: string): SourceError {
  return new SourceError(SOURCE_ERROR_CODES.INVALID_CONFIG, `${field}: ${reason}`, { field, reason });
}
