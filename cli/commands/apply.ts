import { readFileSync } from 'node:fs';
import { isSwitchyardError } from '../../lib';
import { kindFromName, StateErrorCode, type ObjectInput, type StateApi } from '../../state';
import { formatError } from '../errors';
import { readAll, type CliIo } from '../io';
import { parseManifests } from '../manifest';

export interface ApplyOptions {
  files: string[];
}

/**
 * `switchyard apply -f FILE…`: every object of every file, in order. Like kubectl, a bad object
 * is reported and the rest still go in; the exit code says whether all of them did.
 */
export async function runApply(api: StateApi, options: ApplyOptions, io: CliIo): Promise<number> {
  const objects: ObjectInput[] = [];
  for (const file of options.files) {
    const text = file === '-' ? await readAll(io.stdin) : readFileSync(file, 'utf8');
    objects.push(...parseManifests(text, file === '-' ? '<stdin>' : file));
  }
  let failed = 0;
  for (const input of objects) {
    const label = describeRef(input);
    try {
      const before = await getRevision(api, input);
      const stored = await api.apply(input);
      const verb = before === undefined ? 'created' : stored.revision === before ? 'unchanged' : 'configured';
      io.stdout.write(`${label} ${verb}\n`);
    } catch (err) {
      failed++;
      io.stderr.write(`${formatError(err, label)}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}

async function getRevision(api: StateApi, input: ObjectInput): Promise<number | undefined> {
  const kind = kindFromName(String(input.kind));
  if (kind === undefined || typeof input.name !== 'string') return undefined;
  try {
    const ref =
      input.namespace === undefined
        ? { kind, name: input.name }
        : { kind, name: input.name, namespace: input.namespace };
    return (await api.get(ref)).revision;
  } catch (err) {
    // Not found means "will be created"; a bad name is reported by the apply itself.
    if (isSwitchyardError(err, StateErrorCode.NOT_FOUND) || isSwitchyardError(err, StateErrorCode.INVALID)) {
      return undefined;
    }
    throw err;
  }
}

export function describeRef(input: { kind: unknown; name?: unknown; namespace?: unknown }): string {
  const kind = kindFromName(String(input.kind));
  const singular = (kind ?? String(input.kind)).toLowerCase();
  const ns = typeof input.namespace === 'string' ? `${input.namespace}/` : '';
  return `${singular}/${ns}${String(input.name ?? '<unnamed>')}`;
}
