import { stringify } from 'yaml';
import { CLUSTER_SCOPED, type Kind, type StateApi, type StoredObject } from '../../state';
import { columnsFor, type TableContext } from '../format/columns';
import { renderTable } from '../format/table';
import type { CliIo } from '../io';
import { CliError, CliErrorCode } from '../manifest';

export type OutputFormat = 'table' | 'json' | 'yaml';

export interface GetOptions {
  kind: Kind;
  name?: string;
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  output: OutputFormat;
}

export function parseOutput(value: string): OutputFormat {
  if (value === 'table' || value === 'json' || value === 'yaml') return value;
  throw new CliError(CliErrorCode.USAGE, `-o: expected table, json or yaml, got "${value}"`, 'output');
}

/** `switchyard get KIND [NAME]`: one object or a list, as an aligned table, JSON or YAML. */
export async function runGet(api: StateApi, o: GetOptions, io: CliIo): Promise<number> {
  const namespace = namespaceFor(o);
  if (o.name !== undefined) {
    const obj = await api.get({
      kind: o.kind,
      name: o.name,
      ...(namespace === undefined ? {} : { namespace }),
    });
    io.stdout.write(render([obj], o.kind, o.output, false));
    return 0;
  }
  const list = await api.list({
    kind: o.kind,
    ...(namespace === undefined ? {} : { namespace }),
    ...(o.selector === undefined ? {} : { selector: o.selector }),
  });
  if (list.items.length === 0 && o.output === 'table') {
    io.stderr.write(
      `No ${o.kind.toLowerCase()} objects found${namespace ? ` in namespace ${namespace}` : ''}.\n`,
    );
    return 0;
  }
  const ctx = o.kind === 'Node' && o.output === 'table' ? await nodeContext(api) : { now: Date.now() };
  io.stdout.write(render(list.items, o.kind, o.output, true, list.revision, ctx));
  return 0;
}

/** For `get nodes`: how many task addresses each node's subnet holds. */
async function nodeContext(api: StateApi): Promise<TableContext> {
  const tasks = await api.list({ kind: 'Task' });
  const addressesByNode = new Map<string, number>();
  for (const t of tasks.items as StoredObject<'Task'>[]) {
    if (t.spec.networkMode !== 'ip-per-container') continue;
    addressesByNode.set(t.spec.node, (addressesByNode.get(t.spec.node) ?? 0) + t.spec.ips.length);
  }
  return { now: Date.now(), addressesByNode };
}

/** kubectl's habit: namespaced kinds default to `default`; `-A` means every namespace. */
export function namespaceFor(o: {
  kind: Kind;
  namespace?: string;
  allNamespaces?: boolean;
}): string | undefined {
  if (CLUSTER_SCOPED.has(o.kind) || o.allNamespaces) return undefined;
  return o.namespace ?? 'default';
}

export function render(
  items: StoredObject[],
  kind: Kind,
  output: OutputFormat,
  asList: boolean,
  revision?: number,
  ctx: TableContext = { now: Date.now() },
): string {
  if (output === 'table') {
    const cols = columnsFor(kind) as { headers: string[]; cells(o: StoredObject, c: TableContext): string[] };
    return renderTable(
      cols.headers,
      items.map((o) => cols.cells(o, ctx)),
    );
  }
  const value = asList ? { kind: `${kind}List`, revision, items } : items[0];
  return output === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value);
}
