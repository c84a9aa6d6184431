// The child of crash.test.ts: opens the embedded store in argv[2] and applies new tasks (named
// `<argv[3]>-<n>`) from 8 concurrent writers forever, printing `<name> <revision>` on stdout for each
// acknowledged write. The parent SIGKILLs it at a random moment. Stdout is a pipe, and pipe writes
// are synchronous on Linux, so a printed ack has left this process before the next instruction.
import { openEmbeddedStore } from './index';
import { taskInput } from './testing';

async function writer(
  store: Awaited<ReturnType<typeof openEmbeddedStore>>,
  prefix: string,
  next: () => number,
) {
  for (;;) {
    const name = `${prefix}-${next()}`;
    const stored = await store.apply(taskInput(name));
    process.stdout.write(`${name} ${stored.revision}\n`);
  }
}

async function main(): Promise<void> {
  const [dir, prefix] = process.argv.slice(2);
  if (dir === undefined || prefix === undefined) throw new Error('usage: crash-child.ts <dir> <prefix>');
  // A low threshold so snapshots and WAL rotation happen inside the crash window too.
  const store = await openEmbeddedStore({ dir, snapshotEveryRecords: 150 });
  process.stdout.write(`ready ${store.revision}\n`);
  let counter = 0;
  const next = (): number => counter++;
  await Promise.all(Array.from({ length: 8 }, () => writer(store, prefix, next)));
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
