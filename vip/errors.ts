import { SwitchyardError, type SwitchyardErrorOptions } from '../lib';

/**
 * Stable error codes of the VIP room; callers match on `code`, never on message text. Compile
 * problems carry them too: a problem is a VipError that was collected instead of thrown, with
 * `details.owner` (who asked) and `details.vip` (the VIP object name) when known.
 */
export const VIP_ERROR_CODES = {
  /** A port label `VIP_*` that is not `/name:port` or `ip:port` (field names the label key). */
  BAD_LABEL: 'SY_VIP_BAD_LABEL',
  /** A VIP name and framework that make no valid object name (too long, or shared by two VIPs). */
  BAD_NAME: 'SY_VIP_BAD_NAME',
  /** An explicit address (IP VIP label) outside every service CIDR or on its network/broadcast address. */
  ADDRESS_INVALID: 'SY_VIP_ADDRESS_INVALID',
  /** An explicit address already taken (another VIP, a Service's spec.vip.address), or one VIP asked for two addresses. */
  ADDRESS_CONFLICT: 'SY_VIP_ADDRESS_CONFLICT',
  /** No free address left in the service CIDR (reserved ranges excluded). */
  EXHAUSTED: 'SY_VIP_EXHAUSTED',
  /** No Network exists (or the configured one is missing) to allocate from. */
  NO_NETWORK: 'SY_VIP_NO_NETWORK',
  /** Two owners give one VIP port different modes (tcp vs http); the first owner's wins. */
  PORT_CONFLICT: 'SY_VIP_PORT_CONFLICT',
  /** A controller or allocation option is missing, malformed or contradicts another. */
  INVALID_CONFIG: 'SY_VIP_INVALID_CONFIG',
} as const;

export type VipErrorCode = (typeof VIP_ERROR_CODES)[keyof typeof VIP_ERROR_CODES];

export class VipError extends SwitchyardError {
  declare readonly code: VipErrorCode;

  constructor(code: VipErrorCode, message: string, options: SwitchyardErrorOptions = {}) {
    super(code, message, options);
    this.name = 'VipError';
  }
}
