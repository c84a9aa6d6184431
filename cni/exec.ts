import { spawn } from 'node:child_process';
import { writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Running the host's network tools. Node cannot move one operation into another network namespace,
 * so container-side work runs as `nsenter --net=<path> ip -batch -` and host-side work as
 * `ip -batch -` in the agent's own namespace; nftables rulesets go through a temp file, since
 * `nft -f -` cannot open /dev/stdin on Node's socketpair stdio.
 */
export interface CommandResult {
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly file: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${file} ${args.join(' ')} exited ${String(exitCode)}: ${stderr.trim()}`);
    this.name = 'CommandError';
  }
}

export type CommandRunner = (file: string, args: readonly string[], input?: string) => Promise<CommandResult>;

/** The real runner: spawn, feed `input` on stdin, collect output; non-zero exit → CommandError. */
export const runCommand: CommandRunner = (file, args, input) =>
  new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (code === 0) resolve({ stdout, stderr });
      else reject(new CommandError(file, args, code, stderr));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });

const NAMED_NETNS = /^\/(?:var\/)?run\/netns\/([^/]+)$/;

/** argv that runs `ip ARGS` in the namespace at `netns`: `ip -n NAME` for named ones (one exec), else nsenter. */
export function ipIn(netns: string, args: readonly string[]): [string, string[]] {
  const named = NAMED_NETNS.exec(netns)?.[1];
  return named === undefined
    ? ['nsenter', [`--net=${netns}`, 'ip', ...args]]
    : ['ip', ['-n', named, ...args]];
}

/** `ip -batch -` in this namespace, or in the namespace at `netns`. */
export function ipBatch(
  run: CommandRunner,
  lines: readonly string[],
  netns?: string,
): Promise<CommandResult> {
  const input = lines.join('\n') + '\n';
  if (netns === undefined) return run('ip', ['-batch', '-'], input);
  const [file, args] = ipIn(netns, ['-batch', '-']);
  return run(file, args, input);
}

/** Applies one nftables ruleset text in one transaction (`nft -f <temp file>`). */
export async function nftApply(run: CommandRunner, ruleset: string, tempDir: string): Promise<void> {
  const file = join(tempDir, `nft-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2)}.nft`);
  await writeFile(file, ruleset, { mode: 0o600 });
  try {
    await run('nft', ['-f', file]);
  } finally {
    await rm(file, { force: true });
  }
}
