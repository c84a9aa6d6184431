import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';

/** Helpers for the lb benchmarks: pinned child processes stopped by PID, wrk runs and their figures. */

export const TS_NODE = ['-r', './test/helpers/ts-register.js'];

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last lines the process printed (stdout and stderr). */
  readonly output: string[];
}

/**
 * Start `cmd args` pinned to `cpu` with taskset (taskset execs, so the PID is the command's) and
 * wait (bounded) until it prints a line matching `ready`, when given.
 */
export async function startPinned(
  name: string,
  cpu: number,
  cmd: string,
  args: readonly string[],
  options: { ready?: RegExp; timeoutMs?: number; ipc?: boolean } = {},
): Promise<Proc> {
  const stdio: ('ignore' | 'pipe' | 'ipc')[] = ['ignore', 'pipe', 'pipe'];
  if (options.ipc) stdio.push('ipc');
  const child = spawn('taskset', ['-c', String(cpu), cmd, ...args], { stdio });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  const proc: Proc = { name, child, pid: child.pid, output: [] };
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString().split('\n')) if (line !== '') proc.output.push(line);
    if (proc.output.length > 50) proc.output.splice(0, proc.output.length - 50);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const ready = options.ready;
  if (!ready) return proc;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(`${name} not ready after ${options.timeoutMs ?? 15000} ms: ${proc.output.join(' | ')}`),
      );
    }, options.timeoutMs ?? 15000);
    const check = (): void => {
      if (proc.output.some((l) => ready.test(l))) {
        cleanup();
        resolve();
      }
    };
    const exited = (code: number | null): void => {
      cleanup();
      reject(new Error(`${name} exited (${code}) before ready: ${proc.output.join(' | ')}`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.off('exit', exited);
    };
    child.stdout?.on('data', check);
    child.once('exit', exited);
    check();
  });
  return proc;
}

/** SIGTERM by PID, SIGKILL after 5 s. */
export async function stopProc(proc: Proc | undefined): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.child.once('exit', resolve));
  process.kill(proc.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 5000);
  await exited;
  clearTimeout(timer);
}

/** utime + stime of a process in seconds (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Busy and total jiffies of one CPU (Linux /proc/stat): idle + iowait count as not busy. */
export function cpuJiffies(cpu: number): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${cpu} `));
  const values = (line ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** GET a URL (bounded); resolves with the status, or 0 on any error. */
export function httpStatus(url: string, timeoutMs = 1000): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** Poll until `n` consecutive GETs answer 200 (every backend UP for round-robin), bounded. */
export async function waitServing(url: string, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let streak = 0;
  while (streak < n) {
    if (Date.now() > deadline) throw new Error(`${url} not serving after ${timeoutMs} ms`);
    if ((await httpStatus(url)) === 200) streak++;
    else {
      streak = 0;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export interface WrkResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly bytesPerSec: number;
  readonly requests: number;
  /** Non-2xx/3xx responses plus socket errors (connect, read, write, timeout). */
  readonly errors: number;
  readonly non2xx: number;
  readonly socketErrors: number;
}

const TIME_UNITS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60000, h: 3600000 };
const SIZE_UNITS: Readonly<Record<string, number>> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

function parseTime(text: string | undefined): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text ?? '');
  return m ? Number(m[1]) * (TIME_UNITS[m[2] as string] ?? NaN) : NaN;
}

export function parseWrk(out: string): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const transfer = /Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB)/.exec(out);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    rps,
    p50Ms: parseTime(/^\s+50%\s+(\S+)/m.exec(out)?.[1]),
    p99Ms: parseTime(/^\s+99%\s+(\S+)/m.exec(out)?.[1]),
    bytesPerSec: transfer ? Number(transfer[1]) * (SIZE_UNITS[transfer[2] as string] ?? NaN) : NaN,
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN),
    errors: non2xx + socketErrors,
    non2xx,
    socketErrors,
  };
}

/** Run wrk pinned to `cpu`; bounded by its own duration plus a margin. */
export function runWrk(cpu: number, args: readonly string[], durationS: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(cpu), 'wrk', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(
      () => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'),
      (durationS + 15) * 1000,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`wrk ${args.join(' ')} exited ${code}: ${out}`));
    });
  });
}

export interface Measured extends WrkResult {
  /** CPU the proxy used during the measured run, in % of one core (NaN without a proxy). */
  readonly proxyCpu: number;
  /** Proxy CPU time per request, in microseconds (NaN without a proxy). */
  readonly cpuUsPerRequest: number;
  /** How busy the proxy's CPU was over the run, in % (the proxy, the kernel and anything else there). */
  readonly proxyCpuBusy: number;
}

/** A warm-up wrk run, then the measured one (wrk on `cpu`), with the proxy's CPU use over it. */
export async function measure(
  url: string,
  options: { cpu: number; connections: number; warmupS: number; durationS: number; proxyCpu?: number },
  proxyPid: number | undefined,
): Promise<Measured> {
  const base = ['-t1', `-c${options.connections}`, '--latency'];
  await runWrk(options.cpu, [...base, `-d${options.warmupS}s`, url], options.warmupS);
  const jiffies0 = cpuJiffies(options.proxyCpu ?? 1);
  const cpu0 = proxyPid === undefined ? 0 : cpuSeconds(proxyPid);
  const t0 = performance.now();
  const out = await runWrk(options.cpu, [...base, `-d${options.durationS}s`, url], options.durationS);
  const seconds = (performance.now() - t0) / 1000;
  const used = proxyPid === undefined ? NaN : cpuSeconds(proxyPid) - cpu0;
  const jiffies1 = cpuJiffies(options.proxyCpu ?? 1);
  const result = parseWrk(out);
  return {
    ...result,
    proxyCpu: Math.round((used / seconds) * 100),
    cpuUsPerRequest: Math.round(((used * 1e6) / result.requests) * 10) / 10,
    proxyCpuBusy: Math.round(((jiffies1.busy - jiffies0.busy) / (jiffies1.total - jiffies0.total)) * 100),
  };
}

export function median(values: readonly number[]): number {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
