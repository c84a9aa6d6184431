/**
 * The one base error of Switchyard. Every room extends it with stable `code`s; callers match on
 * `code`, never on message text. Validation errors carry the `field` path and the `reason`.
 */
export interface SwitchyardErrorOptions {
  field?: string;
  reason?: string;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class SwitchyardError extends Error {
  readonly code: string;
  readonly field?: string;
  readonly reason?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, options: SwitchyardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SwitchyardError';
    this.code = code;
    if (options.field !== undefined) this.field = options.field;
    if (options.reason !== undefined) this.reason = options.reason;
    if (options.details !== undefined) this.details = options.details;
  }

  /** The JSON shape every front door (REST, gRPC, CLI) uses for an error. */
  toJSON(): { code: string; message: string; field?: string; reason?: string } {
    const out: { code: string; message: string; field?: string; reason?: string } = {
      code: this.code,
      message: this.message,
    };
    if (this.field !== undefined) out.field = this.field;
    if (this.reason !== undefined) out.reason = this.reason;
    return out;
  }
}

export function isSwitchyardError(err: unknown, code?: string): err is SwitchyardError {
  return err instanceof SwitchyardError && (code === undefined || err.code === code);
}
