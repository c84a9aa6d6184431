import { parseIp } from '../lib';
import type { CniResult } from './types';
import { versionAtLeast } from './version';

/**
 * Results in the shape of the requested spec version (pure). 1.0.0 and 1.1.0 share one shape;
 * 0.3.x and 0.4.0 add `ips[].version`. `cniVersion` comes first, as the reference plugins print it.
 */
export function formatResult(result: CniResult, cniVersion: string): Record<string, unknown> {
  const legacy = !versionAtLeast(cniVersion, '1.0.0');
  const ips = result.ips.map((ip) => {
    if (!legacy) return { ...ip };
    const family = ip.address.includes(':') ? '6' : '4';
    return { version: family, ...ip };
  });
  const out: Record<string, unknown> = { cniVersion };
  if (result.interfaces !== undefined) out.interfaces = result.interfaces.map((i) => ({ ...i }));
  out.ips = ips;
  if (result.routes !== undefined) out.routes = result.routes.map((r) => ({ ...r }));
  out.dns = { ...(result.dns ?? {}) };
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The addresses listed in a prevResult (any version), or [] when there is none or it is malformed. */
export function prevResultAddresses(config: Readonly<Record<string, unknown>>): string[] {
  const prev = config.prevResult;
  if (!isObject(prev) || !Array.isArray(prev.ips)) return [];
  const out: string[] = [];
  for (const ip of prev.ips as unknown[]) {
    if (!isObject(ip) || typeof ip.address !== 'string') continue;
    const host = ip.address.split('/')[0] ?? '';
    try {
      parseIp(host);
      out.push(host);
    } catch {
      // a malformed entry is not ours to judge on DEL
    }
  }
  return out;
}
