// A data-dir lock: a file created with O_EXCL holding the owner's PID, so two processes never
// write one directory's files (the store's WAL, the agent's IPAM journal). A lock whose PID is
// dead (the owner was killed) is stale and taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from './logger';

export const LOCK_FILE = 'LOCK';

export interface DirLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

/** Why a lock could not be taken: a live process holds it, or another process raced us. */
export type DirLockRefusal = { readonly heldBy: number; readonly path: string } | { readonly raced: true };

/**
 * Take the lock in `dir`, or say who holds it. Callers turn a refusal into their own typed error.
 */
export function acquireDirLock(dir: string, logger: Logger): DirLock | DirLockRefusal {
  const path = join(dir, LOCK_FILE);
  // Two rounds: the second follows the removal of a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryCreate(path)) return makeLock(path);
    const owner = readOwner(path);
    if (owner !== undefined && (owner === process.pid || isAlive(owner))) return { heldBy: owner, path };
    logger.warn({ path, stalePid: owner }, 'Taking over a stale data-dir lock');
    removeIfPresent(path);
  }
  return { raced: true };
}

export function isDirLock(result: DirLock | DirLockRefusal): result is DirLock {
  return 'release' in result;
}

function tryCreate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The PID in the lock, or undefined when the file is empty or unreadable (a crash mid-create). */
function readOwner(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function makeLock(path: string): DirLock {
  let held = true;
  return {
    path,
    release(): void {
      if (!held) return;
      held = false;
      if (readOwner(path) === process.pid) removeIfPresent(path);
    },
  };
}
