import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  REPO,
  runSwitchyard,
  startUpProcess,
  switchyardArgv,
  type NodeProcess,
} from '../helpers/cli-process';
import { eventually } from '../helpers/eventually';
import { startMesosMaster, writeMesosDnsConfig, type MesosMaster } from '../helpers/mesos-master';

// `switchyard dns --workers N` as a process: a cluster primary and N workers sharing one UDP
// socket, one TCP listener and one HTTP port. Queried with real dig; worker PIDs are read from
// the primary's own output (never guessed), and every process is checked gone at the end.
const run = promisify(execFile);
const NAME = 'web.marathon.mesos';

interface Primary {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: Primary[] = [];

function startDns(args: string[], env: NodeJS.ProcessEnv = {}): Primary {
  const child = spawn(process.execPath, switchyardArgv(args), {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const primary = { child, output: () => out, exited };
  started.push(primary);
  return primary;
}

/** Every worker PID the primary has printed, and the current one per slot. */
function workerPids(out: string): { all: number[]; current: Map<number, number> } {
  const current = new Map<number, number>();
  const all: number[] = [];
  for (const m of out.matchAll(/^ {2}worker (\d+) pid (\d+)/gm)) {
    current.set(Number(m[1]), Number(m[2]));
    all.push(Number(m[2]));
  }
  return { all, current };
}

/** A live process running our `switchyard dns` (a PID alone could have been reused). */
function isOurs(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(join('cli', 'main.ts')) && cmdline.includes('--workers');
  } catch {
    return false;
  }
}

async function stopAll(): Promise<void> {
  for (const p of started.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
    for (const pid of workerPids(p.output()).all) if (isOurs(pid)) process.kill(pid, 'SIGKILL');
  }
}

async function listening(p: Primary, workers: number): Promise<{ host: string; port: string; api?: string }> {
  const line = new RegExp(`udp\\+tcp (\\S+):(\\d+)(?:, API (http://\\S+))? \\(${workers} workers\\)`);
  const m = await eventually(() => {
    if (p.child.exitCode !== null) throw new Error(`switchyard dns exited:\n${p.output()}`);
    const found = line.exec(p.output());
    if (found === null || workerPids(p.output()).current.size !== workers) throw new Error('not serving yet');
    return found;
  }, 30000);
  return { host: m[1] as string, port: m[2] as string, ...(m[3] === undefined ? {} : { api: m[3] }) };
}

/** `count` queries for `name` in one dig run; one answer line each (empty lines for failures). */
async function digMany(
  at: { host: string; port: string },
  transport: 'udp' | 'tcp',
  count: number,
  name = NAME,
): Promise<string[]> {
  const args = ['+short', '+tries=3', '+time=2', ...(transport === 'tcp' ? ['+tcp'] : []), '-p', at.port];
  const { stdout } = await run('dig', [...args, `@${at.host}`, ...Array<string>(count).fill(name)]);
  return stdout.trim().split('\n');
}

function metricsText(api: string): Promise<string> {
  return fetch(`${api}/metrics`, { headers: { connection: 'close' } }).then((r) => r.text());
}

/** Both workers have compiled a zone (at the first start they bind, then sync, as one process does). */
async function bothSynced(api: string): Promise<void> {
  await eventually(async () => {
    const text = await metricsText(api);
    expect(text).toMatch(/^switchyard_dns_zone_revision\{worker="1"\} [1-9]/m);
    expect(text).toMatch(/^switchyard_dns_zone_revision\{worker="2"\} [1-9]/m);
  }, 10000);
}

/** Queries answered per worker slot, from the cluster-wide /metrics. */
async function queriesByWorker(api: string): Promise<Map<string, number>> {
  const text = await metricsText(api);
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^switchyard_dns_queries_total\{[^}]*worker="(\w+)"[^}]*\} (\d+)/gm)) {
    out.set(m[1] as string, (out.get(m[1] as string) ?? 0) + Number(m[2]));
  }
  return out;
}

function tcpRefused(at: { host: string; port: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(Number(at.port), at.host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** SIGTERM the primary; it exits 0 only after its workers, and none is left behind. */
async function stopCleanly(p: Primary, at: { host: string; port: string }): Promise<void> {
  const pids = workerPids(p.output()).all;
  p.child.kill('SIGTERM');
  expect(await p.exited).toEqual({ code: 0, signal: null });
  await eventually(() => expect(pids.filter(isOurs)).toEqual([]), 3000);
  expect(await tcpRefused(at)).toBe(true);
}

afterAll(stopAll);

describe('switchyard dns --workers against switchyard up', () => {
  let dir: string;
  let up: NodeProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-dns-workers-'));
    // DNS and the proxy off in `up`, so only the workers bind DNS ports.
    up = await startUpProcess(dir, ['--no-dns', '--no-lb']);
    const manifest = [
      'kind: Node\nname: node-1\nspec: {address: 127.0.0.1}',
      'kind: Task\nname: web-1\nspec: {app: web, framework: marathon, node: node-1, state: running, ' +
        'networkMode: ip-per-container, ips: [198.18.3.4]}',
    ].join('\n---\n');
    const applied = await runSwitchyard(['--server', up.grpcAddress, '--data', dir, 'apply', '-f', '-'], {
      stdin: manifest,
    });
    expect(applied.code).toBe(0);
  });
  afterAll(async () => {
    await stopAll();
    await up?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers from two workers, restarts a killed one while queries keep being answered, and stops all on SIGTERM', async () => {
    const primary = startDns(
      [
        '--server',
        up?.grpcAddress ?? '',
        'dns',
        '--workers',
        '2',
        '--listen',
        '127.0.0.1:0',
        '--http',
        '127.0.0.1:0',
        '--no-recursion',
        '--log-level',
        'warn',
      ],
      { SWITCHYARD_SERVER: '' },
    );
    const at = await listening(primary, 2);
    if (at.api === undefined) throw new Error('no API address printed');
    const first = workerPids(primary.output()).current;

    await bothSynced(at.api);
    for (const transport of ['udp', 'tcp'] as const) {
      expect(await digMany(at, transport, 40)).toEqual(Array<string>(40).fill('198.18.3.4'));
    }
    // One scrape shows every worker's counters (the primary collects them), each with its label.
    const counts = await queriesByWorker(at.api);
    expect(counts.get('1')).toBeGreaterThan(0);
    expect(counts.get('2')).toBeGreaterThan(0);

    // Kill worker 2; the primary restarts it in its slot while worker 1 keeps answering.
    const victim = first.get(2) as number;
    expect(isOurs(victim)).toBe(true);
    process.kill(victim, 'SIGKILL');
    let rounds = 0;
    const restarted = await eventually(
      async () => {
        rounds++;
        expect(await digMany(at, 'udp', 5)).toEqual(Array<string>(5).fill('198.18.3.4'));
        expect(await digMany(at, 'tcp', 5)).toEqual(Array<string>(5).fill('198.18.3.4'));
        const now = workerPids(primary.output()).current.get(2);
        if (now === undefined || now === victim) throw new Error('worker 2 not restarted yet');
        return now;
      },
      20000,
      0,
    );
    expect(rounds).toBeGreaterThan(0);
    expect(primary.output()).toMatch(/"worker":2,"pid":\d+,"code":null,"signal":"SIGKILL".*restarting/);
    expect(isOurs(restarted)).toBe(true);
    expect(isOurs(first.get(1) as number)).toBe(true); // worker 1 was never touched
    // The new worker 2 answers too (its counter started again from zero).
    await eventually(async () => {
      expect(await digMany(at, 'tcp', 4)).toEqual(Array<string>(4).fill('198.18.3.4'));
      expect((await queriesByWorker(at.api as string)).get('2')).toBeGreaterThan(0);
    }, 10000);

    await stopCleanly(primary, at);
  });
});

describe('switchyard dns --workers with --mesos-dns-config and no --server', () => {
  let dir: string;
  let master: MesosMaster;
  let tasks: { name: string; ip: string }[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-dns-workers-mesos-'));
    tasks = [{ name: 'web', ip: '198.18.1.7' }];
    master = await startMesosMaster(() => tasks);
  });
  afterAll(async () => {
    await stopAll();
    await master?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the Mesos source once in the primary and feeds the workers from it', async () => {
    const config = writeMesosDnsConfig(dir, master);
    const primary = startDns(
      [
        'dns',
        '--mesos-dns-config',
        config,
        '--workers',
        '2',
        '--listen',
        '127.0.0.1:0',
        '--http',
        '127.0.0.1:0',
        '--log-level',
        'warn',
      ],
      { SWITCHYARD_SERVER: '' },
    );
    const at = await listening(primary, 2);
    if (at.api === undefined) throw new Error('no API address printed');
    await bothSynced(at.api);
    for (const transport of ['udp', 'tcp'] as const) {
      expect(await digMany(at, transport, 20)).toEqual(Array<string>(20).fill('198.18.1.7'));
    }
    // The source syncs in the primary only; the workers follow the state it keeps.
    const metrics = await metricsText(at.api);
    const syncs = [...metrics.matchAll(/^switchyard_source_syncs_total\{[^}]*worker="(\w+)"/gm)].map(
      (m) => m[1],
    );
    expect(syncs.length).toBeGreaterThan(0);
    expect(new Set(syncs)).toEqual(new Set(['primary']));
    tasks = [];
    await eventually(async () => {
      expect(await digMany(at, 'udp', 10)).toEqual(['']);
      expect(await digMany(at, 'tcp', 10)).toEqual(['']);
    }, 10000);
    await stopCleanly(primary, at);
  });
});

describe('switchyard dns --workers when a worker cannot start', () => {
  it('fails like a single process would: the bind error, then exit 1 with no worker left', async () => {
    // Something else holds the TCP port: every worker fails to bind it.
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const port = (holder.address() as AddressInfo).port;
      const result = await runSwitchyard(
        ['dns', '--workers', '2', '--listen', `127.0.0.1:${port}`, '--no-http', '--log-level', 'error'],
        { env: { SWITCHYARD_SERVER: '' } },
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`error: cannot bind TCP 127.0.0.1:${port} (SY_DNS_LISTEN_FAILED)`);
      expect(result.stderr).toMatch(/error: DNS worker \d \(pid \d+\) exited with code 1 before serving/);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });
});

describe('switchyard dns --workers usage errors', () => {
  it.each([
    { desc: 'zero', value: '0' },
    { desc: 'negative', value: '-1' },
    { desc: 'a fraction', value: '1.5' },
    { desc: 'a word', value: 'two' },
    { desc: 'empty', value: '' },
    { desc: 'too many', value: '257' },
  ])('refuses $desc before doing anything', async ({ value }) => {
    const result = await runSwitchyard(['dns', `--workers=${value}`, '--listen', '127.0.0.1:0'], {
      env: { SWITCHYARD_SERVER: '' },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toBe(
      `error: --workers: expected a number of processes from 1 to 256, or auto; got "${value}" (SY_CLI_USAGE)`,
    );
  });
});
