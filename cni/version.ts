/**
 * CNI spec versions: which ones this plugin speaks and how results differ between them (pure).
 * 0.3.x/0.4.0 results carry `ips[].version`; 1.0.0 dropped it; 1.1.0 added GC and STATUS.
 */
export const SUPPORTED_VERSIONS: readonly string[] = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];
export const LATEST_VERSION = '1.1.0';

function parts(version: string): number[] {
  return version.split('.').map((p) => Number(p));
}

/** Negative, zero or positive as `a` is older, equal or newer than `b`. */
export function compareVersions(a: string, b: string): number {
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function isSupportedVersion(version: unknown): version is string {
  return typeof version === 'string' && SUPPORTED_VERSIONS.includes(version);
}

export function versionAtLeast(version: string, minimum: string): boolean {
  return compareVersions(version, minimum) >= 0;
}

/** The command → the oldest spec version that defines it. */
export const COMMAND_SINCE: Readonly<Record<string, string>> = {
  ADD: '0.3.0',
  DEL: '0.3.0',
  VERSION: '0.3.0',
  CHECK: '0.4.0',
  GC: '1.1.0',
  STATUS: '1.1.0',
};
