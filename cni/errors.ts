import { SwitchyardError, type SwitchyardErrorOptions } from '../lib';

/**
 * Stable error codes of the cni room, each mapped to the CNI spec's numeric code (SPEC.md "Error"):
 * 1-11 are the spec's well-known codes, 50 belongs to STATUS, 100+ are this plugin's own, and 999
 * is kept for the truly unexpected.
 */
export const CniErrorCode = {
  VERSION: 'SY_CNI_VERSION',
  UNSUPPORTED_FIELD: 'SY_CNI_UNSUPPORTED_FIELD',
  UNKNOWN_CONTAINER: 'SY_CNI_UNKNOWN_CONTAINER',
  ENV: 'SY_CNI_ENV',
  IO: 'SY_CNI_IO',
  DECODE: 'SY_CNI_DECODE',
  CONFIG: 'SY_CNI_CONFIG',
  TRY_AGAIN: 'SY_CNI_TRY_AGAIN',
  NOT_READY: 'SY_CNI_NOT_READY',
  IPAM_EXHAUSTED: 'SY_CNI_IPAM_EXHAUSTED',
  ADDRESS_TAKEN: 'SY_CNI_ADDRESS_TAKEN',
  DUPLICATE: 'SY_CNI_DUPLICATE',
  CHECK_FAILED: 'SY_CNI_CHECK_FAILED',
  DATAPLANE: 'SY_CNI_DATAPLANE',
  PORT_TAKEN: 'SY_CNI_PORT_TAKEN',
  INTERNAL: 'SY_CNI_INTERNAL',
} as const;
export type CniErrorCode = (typeof CniErrorCode)[keyof typeof CniErrorCode];

/** The CNI spec code each Switchyard code is reported with. */
export const CNI_SPEC_CODES: Readonly<Record<CniErrorCode, number>> = {
  SY_CNI_VERSION: 1,
  SY_CNI_UNSUPPORTED_FIELD: 2,
  SY_CNI_UNKNOWN_CONTAINER: 3,
  SY_CNI_ENV: 4,
  SY_CNI_IO: 5,
  SY_CNI_DECODE: 6,
  SY_CNI_CONFIG: 7,
  SY_CNI_TRY_AGAIN: 11,
  SY_CNI_NOT_READY: 50,
  SY_CNI_IPAM_EXHAUSTED: 100,
  SY_CNI_ADDRESS_TAKEN: 101,
  SY_CNI_DUPLICATE: 102,
  SY_CNI_CHECK_FAILED: 103,
  SY_CNI_DATAPLANE: 104,
  SY_CNI_PORT_TAKEN: 105,
  SY_CNI_INTERNAL: 999,
};

export class CniError extends SwitchyardError {
  declare readonly code: CniErrorCode;
  /** The numeric CNI code the plugin exits with. */
  readonly cniCode: number;
  /** The spec's `details` string: the longer explanation. */
  readonly cniDetails: string;

  constructor(code: CniErrorCode, message: string, details = '', options?: SwitchyardErrorOptions) {
    super(code, message, options);
    this.name = 'CniError';
    this.cniCode = CNI_SPEC_CODES[code];
    this.cniDetails = details;
  }
}

/** The spec's error object: `{cniVersion, code, msg, details}`. */
export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

/** Any error as the spec's error object; anything that is not a CniError is code 999. */
export function toCniErrorJson(error: unknown, cniVersion: string): CniErrorJson {
  if (error instanceof CniError) {
    const out: CniErrorJson = { cniVersion, code: error.cniCode, msg: error.message };
    if (error.cniDetails !== '') out.details = error.cniDetails;
    return out;
  }
  const text = error instanceof Error ? error.message : String(error);
  return { cniVersion, code: CNI_SPEC_CODES.SY_CNI_INTERNAL, msg: 'internal error', details: text };
}
