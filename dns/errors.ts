import { SwitchyardError, type SwitchyardErrorOptions } from '../lib';

/** Stable error codes of the DNS room; callers match on `code`, never on message text. */
export const DNS_ERROR_CODES = {
  /** An option is missing, malformed or contradicts another (field names it). */
  INVALID_CONFIG: 'SY_DNS_INVALID_CONFIG',
  /** Every upstream failed or timed out; the client gets SERVFAIL. */
  UPSTREAM_FAILED: 'SY_DNS_UPSTREAM_FAILED',
  /** The query could not be parsed; the client gets FORMERR (or nothing, if even the header is short). */
  MALFORMED_QUERY: 'SY_DNS_MALFORMED_QUERY',
  /** A listener could not be bound. */
  LISTEN_FAILED: 'SY_DNS_LISTEN_FAILED',
} as const;

export type DnsErrorCode = (typeof DNS_ERROR_CODES)[keyof typeof DNS_ERROR_CODES];

export class DnsError extends SwitchyardError {
  declare readonly code: DnsErrorCode;

  constructor(code: DnsErrorCode, message: string, options: SwitchyardErrorOptions = {}) {
    super(code, message, options);
    this.name = 'DnsError';
  }
}
