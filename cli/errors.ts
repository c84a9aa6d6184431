import { SwitchyardError } from '../lib';

/** One clear line: `error: <what>: <field>: <reason> (<code>)`. */
export function formatError(err: unknown, what?: string): string {
  const prefix = what === undefined ? 'error: ' : `error: ${what}: `;
  if (err instanceof SwitchyardError) {
    // StateError messages already start with the field ("spec.x: reason").
    const hasField = err.field !== undefined && !err.message.startsWith(err.field);
    return `${prefix}${hasField ? `${err.field}: ` : ''}${err.message} (${err.code})`;
  }
  return `${prefix}${err instanceof Error ? err.message : String(err)}`;
}
