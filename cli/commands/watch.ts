import { createInformer, type InformerEvent, type Kind, type StateApi, type StoredObject } from '../../state';
import { columnsFor } from '../format/columns';
import type { CliIo } from '../io';
import { namespaceFor } from './get';

export interface WatchCommandOptions {
  kind: Kind;
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  /** Only changes after this revision (no initial list). */
  from?: number;
  output: 'table' | 'json';
  signal: AbortSignal;
}

type Row = { type: string; revision: number; object: StoredObject };

/**
 * `switchyard watch KIND`: the current objects, then every change as it happens (kubectl get -w).
 * It rides the informer, so a dropped connection resumes where it stopped and nothing repeats.
 */
export async function runWatch(api: StateApi, o: WatchCommandOptions, io: CliIo): Promise<number> {
  const printer = makePrinter(o, io);
  const namespace = namespaceFor(o);
  const filter = {
    kind: o.kind,
    ...(namespace === undefined ? {} : { namespace }),
    ...(o.selector === undefined ? {} : { selector: o.selector }),
  };
  if (o.from !== undefined) {
    for await (const ev of api.watch({ ...filter, from: o.from, signal: o.signal })) {
      if (ev.type !== 'BOOKMARK') printer([{ type: ev.type, revision: ev.revision, object: ev.object }]);
    }
    return 0;
  }
  const informer = createInformer({ api, ...filter, signal: o.signal });
  await informer.start();
  printer(informer.list().map((object) => ({ type: 'ADDED', revision: object.revision, object })));
  const unsubscribe = informer.subscribe((events: readonly InformerEvent[]) =>
    printer(events.map((e) => ({ type: e.type, revision: e.object.revision, object: e.object }))),
  );
  await new Promise<void>((resolve) => {
    if (o.signal.aborted) resolve();
    o.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  unsubscribe();
  informer.stop();
  return 0;
}

function makePrinter(o: WatchCommandOptions, io: CliIo): (rows: Row[]) => void {
  if (o.output === 'json') {
    return (rows) => {
      for (const r of rows) io.stdout.write(`${JSON.stringify(r)}\n`);
    };
  }
  const cols = columnsFor(o.kind) as {
    headers: string[];
    cells(x: StoredObject, c: { now: number }): string[];
  };
  const headers = ['EVENT', 'REVISION', ...cols.headers];
  let widths: number[] | undefined;
  return (rows) => {
    const cells = rows.map((r) => [r.type, String(r.revision), ...cols.cells(r.object, { now: Date.now() })]);
    if (widths === undefined) {
      // Widths come from the first batch (like kubectl -w); later rows may overflow a column.
      widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
      io.stdout.write(`${pad(headers, widths)}\n`);
    }
    for (const c of cells) io.stdout.write(`${pad(c, widths)}\n`);
  };
}

function pad(cells: string[], widths: number[]): string {
  return cells
    .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
    .join('   ')
    .trimEnd();
}
