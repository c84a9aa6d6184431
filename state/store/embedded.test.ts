import { spawn } from 'node:child_process';
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, Registry, type Logger } from '../../lib';
import { StateErrorCode } from '../errors';
import type { StoredObject } from '../model';
import { openEmbeddedStore, type EmbeddedStore, type EmbeddedStoreOptions } from './index';
import { writeSnapshot } from './snapshot';
import { describeEvents, take, taskInput } from './testing';
import { listSegments } from './wal';

let dir: string;
const open: EmbeddedStore[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-store-'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function openStore(options: Partial<EmbeddedStoreOptions> = {}): Promise<EmbeddedStore> {
  const store = await openEmbeddedStore({ dir, ...options });
  open.push(store);
  return store;
}

/** Closes a store opened with openStore (so afterEach does not close it twice). */
async function closeStore(store: EmbeddedStore): Promise<void> {
  open.splice(open.indexOf(store), 1);
  await store.close();
}

function captureLogs(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done): void {
      for (const line of chunk.toString().split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination: sink }), lines };
}

async function names(store: EmbeddedStore): Promise<string[]> {
  return (await store.list({ kind: 'Task' })).items.map((o) => `${o.name}@${o.revision}`);
}

describe('embedded store: restart', () => {
  it('recovers every object and revision from the WAL, and watches resume across the restart', async () => {
    const first = await openStore();
    for (let i = 0; i < 5; i++) await first.apply(taskInput(`t-${i}`));
    await first.apply(taskInput('t-1', { generation: 1 }));
    await first.delete({ kind: 'Task', name: 't-3' });
    const before = await names(first);
    await closeStore(first);

    const second = await openStore();
    expect(second.revision).toBe(7);
    expect(await names(second)).toEqual(before);
    // Records replayed from the WAL seed the watch history.
    const iterator = second.watch({ from: 5 })[Symbol.asyncIterator]();
    expect(describeEvents(await take(iterator, 2))).toEqual(['MODIFIED t-1@6', 'DELETED t-3@7']);
    await iterator.return?.();
    await expect(second.apply(taskInput('t-9'))).resolves.toMatchObject({ revision: 8 });
  });

  it('snapshots past the record threshold, drops old segments, and recovers snapshot + WAL', async () => {
    const registry = new Registry();
    const first = await openStore({ snapshotEveryRecords: 10, registry });
    for (let i = 0; i < 35; i++) await first.apply(taskInput(`t-${i % 20}`, { generation: i }));
    const before = await names(first);
    await closeStore(first); // waits for a snapshot in flight
    expect(first.stats().snapshots).toBeGreaterThanOrEqual(3);
    expect(await registry.metrics()).toMatch(/switchyard_state_snapshots_total [3-9]/);
    expect(await registry.metrics()).toMatch(/switchyard_state_wal_fsync_seconds_count 35/);
    const files = readdirSync(dir).sort();
    expect(files.filter((f) => f.startsWith('snap-'))).toHaveLength(1);
    expect(files.filter((f) => f.startsWith('wal-')).length).toBeLessThanOrEqual(2);
    expect(files).not.toContain('LOCK');

    const second = await openStore({ snapshotEveryRecords: 10 });
    expect(second.revision).toBe(35);
    expect(await names(second)).toEqual(before);
    // History starts at the snapshot: older revisions must re-list.
    const iterator = second.watch({ from: 0 })[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toMatchObject({ code: StateErrorCode.REVISION_EXPIRED });
  });

  it('snapshots past the byte threshold too', async () => {
    const first = await openStore({ snapshotEveryBytes: 2048 });
    for (let i = 0; i < 12; i++) await first.apply(taskInput(`t-${i}`));
    await closeStore(first);
    expect(first.stats().snapshots).toBeGreaterThanOrEqual(1);
    const second = await openStore();
    expect((await names(second)).length).toBe(12);
  });

  const tears: Array<{ desc: string; damage: (path: string, size: number) => void; kept: number }> = [
    {
      desc: 'the last record cut short by a few bytes',
      damage: (p, size) => truncateSync(p, size - 3),
      kept: 4,
    },
    { desc: 'garbage appended', damage: (p) => appendFileSync(p, 'not a record at all'), kept: 5 },
    { desc: 'half a header appended', damage: (p) => appendFileSync(p, Buffer.from([0, 0, 1])), kept: 5 },
  ];
  it.each(tears)('drops a torn tail ($desc) with a warning and loads the rest', async ({ damage, kept }) => {
    const first = await openStore();
    for (let i = 0; i < 5; i++) await first.apply(taskInput(`t-${i}`));
    await closeStore(first);
    const [segment] = await listSegments(dir);
    if (segment === undefined) throw new Error('no WAL segment');
    const goodSize = statSync(segment.path).size;
    damage(segment.path, goodSize);
    const damagedSize = statSync(segment.path).size;

    const { logger, lines } = captureLogs();
    const second = await openStore({ logger });
    expect(second.revision).toBe(kept);
    expect((await names(second)).length).toBe(kept);
    const warning = lines.find((l) => l.msg === 'Dropping a torn WAL tail');
    expect(warning).toMatchObject({ level: 40, path: segment.path });
    expect(Number(warning?.offset) + Number(warning?.droppedBytes)).toBe(damagedSize);
    expect(statSync(segment.path).size).toBe(warning?.offset);

    // New writes land after the good records, and a third start reads them all with no warning.
    await second.apply(taskInput('after'));
    await closeStore(second);
    const quiet = captureLogs();
    const third = await openStore({ logger: quiet.logger });
    expect((await names(third)).length).toBe(kept + 1);
    expect(quiet.lines.some((l) => l.level === 40)).toBe(false);
  });

  it('refuses to start when a damaged snapshot leaves records missing', async () => {
    const first = await openStore({ snapshotEveryRecords: 5 });
    for (let i = 0; i < 12; i++) await first.apply(taskInput(`t-${i}`));
    await closeStore(first);
    const snap = readdirSync(dir).find((f) => f.startsWith('snap-'));
    if (snap === undefined) throw new Error('no snapshot');
    const bytes = await readFile(join(dir, snap));
    bytes[10] = (bytes[10] ?? 0) ^ 0xff;
    writeFileSync(join(dir, snap), bytes);
    const { logger, lines } = captureLogs();
    await expect(openStore({ logger })).rejects.toMatchObject({ code: StateErrorCode.CORRUPT });
    expect(lines.some((l) => l.msg === 'Skipping a damaged snapshot')).toBe(true);
    expect(readdirSync(dir)).not.toContain('LOCK');
  });
});

describe('embedded store: data-dir lock', () => {
  it('refuses a second open of the same dir until the first closes', async () => {
    const first = await openStore();
    await expect(openEmbeddedStore({ dir })).rejects.toMatchObject({
      code: StateErrorCode.UNAVAILABLE,
      message: expect.stringMatching(new RegExp(`locked by running process ${process.pid}`)),
    });
    await closeStore(first);
    await expect(openStore()).resolves.toBeDefined();
  });

  it('takes over a stale lock left by a dead process', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    const deadPid = child.pid;
    await new Promise((resolve) => child.once('exit', resolve));
    writeFileSync(join(dir, 'LOCK'), `${deadPid}\n`);
    const { logger, lines } = captureLogs();
    const store = await openStore({ logger });
    expect(lines.find((l) => l.msg === 'Taking over a stale data-dir lock')).toMatchObject({
      stalePid: deadPid,
    });
    expect((await readFile(join(dir, 'LOCK'), 'utf8')).trim()).toBe(String(process.pid));
    await store.apply(taskInput('t-1'));
  });
});

// Start-up time with 100,000 tasks is measured by `npm run bench:state`, not asserted here.
describe('embedded store: start-up from a large snapshot', () => {
  it('loads 20,000 tasks from a snapshot plus the WAL written after it', async () => {
    const objects: StoredObject[] = [];
    for (let i = 1; i <= 20_000; i++) {
      const input = taskInput(`task-${i}`, { generation: i, labels: { app: `app-${i % 50}`, tier: 'web' } });
      objects.push({
        ...input,
        namespace: 'default',
        labels: input.labels ?? {},
        revision: i,
        createRevision: i,
      });
    }
    await writeSnapshot(dir, 20_000, objects);
    const seeded = await openStore();
    expect(seeded.revision).toBe(20_000);
    for (let i = 0; i < 100; i++) await seeded.apply(taskInput(`extra-${i}`));
    await closeStore(seeded);

    const store = await openStore();
    expect(store.stats()).toMatchObject({ objects: 20_100, revision: 20_100 });
    expect((await store.get({ kind: 'Task', name: 'task-20000' })).revision).toBe(20_000);
  });
});
