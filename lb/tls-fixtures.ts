/**
 * Test helpers for TLS (imported by *.test.ts only): self-signed certificates made with the
 * `openssl` CLI, as an operator would make them. Without openssl the suites fail, naming it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Throws a clear error when the openssl CLI is missing (the suites need it; CI installs it). */
export function requireOpenssl(): void {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(
      `These tests make their certificates with the openssl CLI, which is not available ` +
        `(${(err as Error).message}). Install it (Debian: apt-get install openssl).`,
    );
  }
}

export interface TestCertificate {
  /** The certificate, PEM: what a client trusts (`ca`), self-signed. */
  readonly cert: string;
  /** The private key, PEM. */
  readonly key: string;
  /** Certificate then key: one HAProxy-style `.pem`. */
  readonly pem: string;
}

/** A self-signed P-256 certificate for `cn`, with `names` (default: the CN) as SAN DNS entries. */
export function makeCertificate(cn: string, names: readonly string[] = [cn]): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'sy-cert-'));
  try {
    const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    args.push('-days', '2', '-subj', `/CN=${cn}`, '-keyout', join(dir, 'k'), '-out', join(dir, 'c'));
    if (names.length > 0) args.push('-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`);
    execFileSync('openssl', args, { stdio: 'pipe' });
    const cert = readFileSync(join(dir, 'c'), 'utf8');
    const key = readFileSync(join(dir, 'k'), 'utf8');
    return { cert, key, pem: cert + key };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
