import type { Kind, StateApi } from '../../state';
import type { CliIo } from '../io';
import { namespaceFor } from './get';

export interface DeleteOptions {
  kind: Kind;
  names: string[];
  namespace?: string;
}

/** `switchyard delete KIND NAME…`: each name in turn; not-found is an error, as in kubectl. */
export async function runDelete(api: StateApi, o: DeleteOptions, io: CliIo): Promise<number> {
  const namespace = namespaceFor(o);
  for (const name of o.names) {
    await api.delete({ kind: o.kind, name, ...(namespace === undefined ? {} : { namespace }) });
    io.stdout.write(
      `${o.kind.toLowerCase()}/${namespace === undefined ? '' : `${namespace}/`}${name} deleted\n`,
    );
  }
  return 0;
}
