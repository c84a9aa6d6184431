import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../helpers/eventually';

/**
 * Builds simulated hosts in network namespaces (DESIGN.md "Network tests"): a `lan` namespace holds
 * a bridge; each host namespace joins it with a veth pair; pods are namespaces of their own. Every
 * name carries a per-run prefix so leftovers can be found; `destroy()` removes all of it and stops
 * the processes started here, by PID. Nothing is added to the machine's own namespace.
 */
export const REPO = join(__dirname, '..', '..');
export const PLUGIN = join(REPO, 'cni', 'bin', 'switchyard-cni');
export const IPAM = join(REPO, 'cni', 'bin', 'switchyard-ipam');
const REGISTER = join(REPO, 'test', 'helpers', 'ts-register.js');
const exec = promisify(execFile);

export async function sh(file: string, args: string[], input?: string): Promise<string> {
  if (input === undefined) return (await exec(file, args, { maxBuffer: 16 << 20 })).stdout;
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    );
    child.stdin?.end(input);
  });
}

/** Root-suite gate: skip with a reason, or fail when SWITCHYARD_REQUIRE_ROOT_TESTS=1. */
export function rootOrSkip(suite: string): boolean {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root) return true;
  const reason = `${suite}: skipped, needs root to create network namespaces`;
  if (process.env.SWITCHYARD_REQUIRE_ROOT_TESTS === '1')
    throw new Error(`${reason} (SWITCHYARD_REQUIRE_ROOT_TESTS=1)`);
  process.stderr.write(`${reason}\n`);
  return false;
}

/** What the root namespace looks like, to compare before and after. */
export async function rootSnapshot(): Promise<string> {
  const strip = (json: string): unknown =>
    (JSON.parse(json) as Array<Record<string, unknown>>).map((l) => {
      const { stats64: _s, operstate: _o, ...rest } = l;
      return rest;
    });
  const [link, addr, route, nft, netns] = await Promise.all([
    sh('ip', ['-j', 'link']),
    sh('ip', ['-j', 'addr']),
    sh('ip', ['-j', 'route', 'show', 'table', 'all']),
    sh('nft', ['list', 'ruleset']),
    sh('ip', ['netns', 'list']),
  ]);
  return JSON.stringify({
    link: strip(link),
    addr: strip(addr),
    route: JSON.parse(route) as unknown,
    nft,
    netns: netns.split('\n').filter((l) => l.startsWith('sy')),
  });
}

export interface CniCall {
  command: string;
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: string;
  path?: string;
  config: object | string;
}

export interface CniAnswer {
  code: number;
  stdout: string;
  json: Record<string, unknown>;
}

export class World {
  readonly prefix: string;
  readonly dir: string;
  private readonly namespaces: string[] = [];
  private readonly children = new Set<ChildProcess>();

  constructor(tag: string) {
    this.prefix = `sy${tag}${process.pid % 10000}`;
    this.dir = mkdtempSync(join('/tmp', `${this.prefix}-`));
  }

  ns(name: string): string {
    return `${this.prefix}-${name}`;
  }

  async addNamespace(name: string): Promise<string> {
    const ns = this.ns(name);
    await sh('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** The shared L2 segment: a bridge inside the `lan` namespace. */
  async addLan(): Promise<void> {
    const lan = await this.addNamespace('lan');
    await sh('ip', ['-n', lan, 'link', 'add', 'lan0', 'type', 'bridge']);
    await sh('ip', ['-n', lan, 'link', 'set', 'lan0', 'up']);
  }

  /** A host namespace with `eth1` at `address/24` on the lan. */
  async addHost(name: string, address: string): Promise<string> {
    const host = await this.addNamespace(name);
    const lan = this.ns('lan');
    const port = `p-${name}`.slice(0, 15);
    await sh('ip', ['-n', lan, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', host]);
    await sh('ip', ['-n', lan, 'link', 'set', port, 'master', 'lan0', 'up']);
    await sh('ip', ['-n', host, 'addr', 'add', `${address}/24`, 'dev', 'eth1']);
    await sh('ip', ['-n', host, 'link', 'set', 'eth1', 'up']);
    return host;
  }

  /** Runs a long-lived process inside `ns`; stopped by PID in destroy(). */
  spawnIn(ns: string, argv: string[], env: NodeJS.ProcessEnv = {}): ChildProcess & { output: () => string } {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20000)));
    child.stderr?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20000)));
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return Object.assign(child, { output: () => out });
  }

  /** Starts an agent inside host namespace `ns` with the given config (written to a file). */
  async startAgent(
    ns: string,
    config: Record<string, unknown>,
  ): Promise<ChildProcess & { output: () => string; socket: string }> {
    const file = join(this.dir, `${ns}-agent.json`);
    writeFileSync(file, JSON.stringify(config));
    const child = this.spawnIn(
      ns,
      [process.execPath, '-r', REGISTER, join(REPO, 'agent', 'main.ts'), '--config', file],
      { SWITCHYARD_LOG_LEVEL: 'warn' },
    );
    const socket = String(config.socketPath);
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`agent exited ${child.exitCode}: ${child.output()}`);
        return (await sh('curl', ['-sf', '--unix-socket', socket, 'http://agent/readyz'])).includes('ready');
      },
      20000,
      50,
    );
    return Object.assign(child, { socket });
  }

  async stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise((resolve) => child.once('exit', resolve));
    // `ip netns exec` execs the command in place, so the PID is the agent's own.
    if (child.pid !== undefined) process.kill(child.pid, signal);
    await done;
  }

  /** Calls a CNI executable inside host `ns` exactly as a runtime does: env + stdin. */
  async cni(ns: string, exe: string, socket: string, call: CniCall): Promise<CniAnswer> {
    const env = [
      `CNI_COMMAND=${call.command}`,
      `CNI_CONTAINERID=${call.containerId ?? ''}`,
      `CNI_NETNS=${call.netns ?? ''}`,
      `CNI_IFNAME=${call.ifname ?? 'eth0'}`,
      `CNI_ARGS=${call.args ?? ''}`,
      `CNI_PATH=${call.path ?? '/usr/lib/cni'}`,
      `SWITCHYARD_CNI_SOCKET=${socket}`,
    ];
    const input = typeof call.config === 'string' ? call.config : JSON.stringify(call.config);
    return new Promise((resolve, reject) => {
      const child = execFile('ip', ['netns', 'exec', ns, 'env', ...env, exe], (error, stdout) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        if (code === -1) return reject(error ?? new Error('no exit code'));
        let json: Record<string, unknown> = {};
        try {
          json = stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>);
        } catch {
          json = { unparsed: stdout };
        }
        resolve({ code, stdout, json });
      });
      child.stdin?.end(input);
    });
  }

  async destroy(): Promise<void> {
    for (const child of [...this.children]) await this.stop(child, 'SIGKILL').catch(() => undefined);
    for (const ns of this.namespaces.reverse()) await sh('ip', ['netns', 'del', ns]).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  mkdir(name: string, mode = 0o700): string {
    const dir = join(this.dir, name);
    mkdirSync(dir, { recursive: true, mode });
    return dir;
  }
}
