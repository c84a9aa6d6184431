import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TOKEN_FILE = 'token';

export interface TokenResult {
  token: string;
  /** True when this call generated the token (print it once, then never again). */
  generated: boolean;
  path: string;
}

/**
 * The bearer token for writes lives with the data (`<dir>/token`, mode 0600), so it survives
 * restarts. An explicit token (flag or env) wins and is stored, so the CLI on this host finds it.
 */
export function ensureToken(dir: string, explicit?: string): TokenResult {
  const path = join(dir, TOKEN_FILE);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (explicit !== undefined && explicit !== '') {
    writeFileSync(path, `${explicit}\n`, { mode: 0o600 });
    return { token: explicit, generated: false, path };
  }
  const existing = readTokenFile(dir);
  if (existing !== undefined) return { token: existing, generated: false, path };
  const token = randomBytes(32).toString('base64url');
  // 'wx' fails if another process created it first; then that one's token is the token.
  try {
    writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const raced = readTokenFile(dir);
    if (raced !== undefined) return { token: raced, generated: false, path };
    throw err;
  }
  return { token, generated: true, path };
}

/** The stored token, or undefined when there is none (or it is unreadable). */
export function readTokenFile(dir: string): string | undefined {
  try {
    const text = readFileSync(join(dir, TOKEN_FILE), 'utf8').trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}
