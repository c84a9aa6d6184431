import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const REPO = join(__dirname, '..', '..');
const REGISTER = join(REPO, 'test', 'helpers', 'ts-register.js');
const MAIN = join(REPO, 'cli', 'main.ts');

/** argv that runs the `switchyard` command from source (TypeScript compiled on load by swc). */
export function switchyardArgv(args: string[]): string[] {
  return ['-r', REGISTER, MAIN, ...args];
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `switchyard ARGS…` to completion (bounded by `timeoutMs`). */
export function runSwitchyard(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, switchyardArgv(args), {
      cwd: options.cwd ?? REPO,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

export interface NodeProcess {
  child: ChildProcess;
  httpUrl: string;
  grpcAddress: string;
  /** `host:port` of the DNS server (UDP and TCP). */
  dnsAddress: string;
  /** The DNS server's Mesos-DNS HTTP API. */
  dnsHttpUrl: string;
  /** The proxy's admin endpoint (stats page, JSON, /metrics), when it runs. */
  lbAdminUrl?: string;
  output: () => string;
  /** SIGTERM (or the given signal) and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Start `switchyard up` on free loopback ports and wait until it says where it listens. */
export function startUpProcess(
  dataDir: string,
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<NodeProcess> {
  const child = spawn(
    process.execPath,
    switchyardArgv([
      '--data',
      dataDir,
      'up',
      '--http',
      '127.0.0.1:0',
      '--grpc',
      '127.0.0.1:0',
      '--dns',
      '127.0.0.1:0',
      '--dns-http',
      '127.0.0.1:0',
      '--lb-admin',
      '127.0.0.1:0',
      '--ingress-port',
      '0',
      '--log-level',
      'warn',
      ...extraArgs,
    ]),
    { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`switchyard up did not start in time:\n${out}`));
    }, 20000);
    const onData = (): void => {
      const m = /REST (http:\/\/\S+)\s+gRPC (\S+)/.exec(out);
      const dns =
        /DNS\s+udp\+tcp (\S+)\s+API (\S+)/.exec(out) ??
        (extraArgs.includes('--no-dns') ? ['', '', ''] : null);
      if (!m || !dns || !out.includes('Press Ctrl-C')) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      resolve({
        child,
        httpUrl: m[1] as string,
        grpcAddress: m[2] as string,
        dnsAddress: dns[1] as string,
        dnsHttpUrl: dns[2] as string,
        ...lbAdmin(out),
        output: () => out,
        stop: async (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`switchyard up exited with ${code}:\n${out}`));
    });
  });
}

function lbAdmin(out: string): { lbAdminUrl?: string } {
  const url = /proxy\s+stats (\S+)\//.exec(out)?.[1];
  return url === undefined ? {} : { lbAdminUrl: url };
}
