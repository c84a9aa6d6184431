import { parseAllDocuments } from 'yaml';
import { SwitchyardError } from '../lib';
import type { ObjectInput } from '../state';

export const CliErrorCode = {
  /** A manifest that is not YAML/JSON, or not an object with kind and name. */
  BAD_MANIFEST: 'SY_CLI_BAD_MANIFEST',
  /** A flag or argument that makes no sense (unknown kind, bad output format). */
  USAGE: 'SY_CLI_USAGE',
  /** The state API could not be reached. */
  UNREACHABLE: 'SY_CLI_UNREACHABLE',
} as const;

export class CliError extends SwitchyardError {
  constructor(code: (typeof CliErrorCode)[keyof typeof CliErrorCode], message: string, field?: string) {
    super(code, message, field === undefined ? {} : { field });
    this.name = 'CliError';
  }
}

/**
 * Objects from a manifest: YAML or JSON, several `---` documents per file, and in each a single
 * object, a list of objects, or `{ items: [...] }` (what `get -o yaml` prints). The server
 * validates the objects; here we only check that each is an object with a kind.
 */
export function parseManifests(text: string, source: string): ObjectInput[] {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const out: ObjectInput[] = [];
  for (const [index, doc] of (Array.isArray(docs) ? docs : [docs]).entries()) {
    if (doc.errors.length > 0) {
      const first = doc.errors[0];
      throw new CliError(
        CliErrorCode.BAD_MANIFEST,
        `${source}: document ${index + 1}: ${first?.message ?? 'parse error'}`,
      );
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue; // an empty document, e.g. a trailing `---`
    for (const item of itemsOf(value)) out.push(asObject(item, `${source}: document ${index + 1}`));
  }
  return out;
}

function itemsOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (
    isRecord(value) &&
    Array.isArray(value.items) &&
    (value.kind === undefined || String(value.kind).endsWith('List'))
  ) {
    return value.items;
  }
  return [value];
}

function asObject(value: unknown, where: string): ObjectInput {
  if (!isRecord(value))
    throw new CliError(CliErrorCode.BAD_MANIFEST, `${where}: expected an object with kind and name`);
  if (typeof value.kind !== 'string')
    throw new CliError(CliErrorCode.BAD_MANIFEST, `${where}: missing "kind"`, 'kind');
  // Revisions in a manifest (from `get -o yaml`) are the store's, not the writer's: drop them.
  const { revision: _revision, createRevision: _createRevision, ...rest } = value;
  return rest as unknown as ObjectInput;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
