import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openEmbeddedStore } from './index';

const ROOT = resolve(__dirname, '../..');
const CHILD = join(__dirname, 'crash-child.ts');
const RUNS = 4;

let dir: string;
const children: ChildProcess[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-crash-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  // Only our own children, by PID, in case an assertion failed before the kill.
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

interface Run {
  acked: Map<string, number>;
  ready: number;
}

/** Runs the child until it has acknowledged `killAfter` writes, then SIGKILLs it mid-stream. */
function runAndKill(prefix: string, killAfter: number): Promise<Run> {
  const child = spawn(process.execPath, ['-r', './test/helpers/ts-register.js', CHILD, dir, prefix], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const acked = new Map<string, number>();
  let ready = -1;
  let partial = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const [name, revision] = line.split(' ');
      if (name === 'ready') ready = Number(revision);
      else if (name !== undefined) acked.set(name, Number(revision));
    }
    if (acked.size >= killAfter && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code}: ${stderr}`));
      else resolvePromise({ acked, ready });
    });
  });
}

describe('embedded store: kill -9', () => {
  it('keeps every acknowledged write across SIGKILLs at random moments', async () => {
    const allAcked = new Map<string, number>();
    let lastRevision = 0;
    for (let run = 0; run < RUNS; run++) {
      const killAfter = 40 + Math.floor(Math.random() * 400);
      const { acked, ready } = await runAndKill(`run${run}`, killAfter);
      expect(acked.size).toBeGreaterThanOrEqual(killAfter);
      // Each start recovered at least everything acknowledged before it.
      expect(ready).toBeGreaterThanOrEqual(lastRevision);
      for (const [name, revision] of acked) allAcked.set(name, revision);
      lastRevision = Math.max(...acked.values());
    }

    const store = await openEmbeddedStore({ dir });
    try {
      const items = (await store.list({ kind: 'Task' })).items;
      const present = new Map(items.map((o) => [o.name, o.revision]));
      const missing = [...allAcked].filter(([name, revision]) => present.get(name) !== revision);
      expect(missing).toEqual([]);
      expect(store.revision).toBeGreaterThanOrEqual(lastRevision);
      // Revisions are unique and each object's revision is within the store's history.
      expect(new Set(present.values()).size).toBe(present.size);
      expect(Math.max(...present.values())).toBeLessThanOrEqual(store.revision);
    } finally {
      await store.close();
    }
  });
});
