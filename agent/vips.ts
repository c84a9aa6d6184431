import { formatIp, parseIp } from '../lib';
import type { StoredObject } from '../state';

/**
 * VIP addresses on the host (pure parts). The agent puts every VIP object's address on an
 * interface it owns (`sy-vip0`) as a host address (/32, /128), so the address is local and the
 * proxy on this host listens on VIP:port itself: no NAT, no port mapping, the proxy sees the
 * address the client dialled. Loopback VIPs (127.0.0.0/8, ::1: the all-in-one node's range)
 * already answer on `lo` and are left alone.
 *
 * `compileVipAddresses` and `diffVipAddresses` are pure; the agent applies the diff with one
 * `ip -force -batch` (new addresses first, then the removal of stale ones).
 */

/** `198.19.0.10/32` (or `fd00::a/128`) → the VIP object names that use it, for logs. */
export type VipAddressTable = ReadonlyMap<string, readonly string[]>;

function hostPrefix(address: string): string | undefined {
  let ip: { family: 4 | 6; value: bigint };
  try {
    ip = parseIp(address);
  } catch {
    return undefined;
  }
  if (ip.family === 4) return ip.value >> 24n === 127n ? undefined : `${formatIp(4, ip.value)}/32`;
  return ip.value === 1n ? undefined : `${formatIp(6, ip.value)}/128`;
}

export function compileVipAddresses(objects: readonly StoredObject[]): VipAddressTable {
  const table = new Map<string, string[]>();
  for (const object of objects) {
    if (object.kind !== 'VIP') continue;
    const prefix = hostPrefix((object as StoredObject<'VIP'>).spec.address);
    if (prefix === undefined) continue;
    const names = table.get(prefix) ?? [];
    names.push(object.name);
    table.set(prefix, names.sort());
  }
  return new Map([...table].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `ip -batch` lines turning `applied` into `next` on `ifname`: additions first, then removals. */
export function diffVipAddresses(
  applied: ReadonlySet<string>,
  next: ReadonlySet<string>,
  ifname: string,
): string[] {
  const lines: string[] = [];
  for (const prefix of [...next].sort()) {
    // IPv6: no duplicate address detection, so the address is usable at once.
    if (!applied.has(prefix))
      lines.push(`addr replace ${prefix} dev ${ifname}${prefix.includes(':') ? ' nodad' : ''}`);
  }
  for (const prefix of [...applied].sort())
    if (!next.has(prefix)) lines.push(`addr del ${prefix} dev ${ifname}`);
  return lines;
}

/** `ip -j addr show dev IF` → its host addresses (`/32`, `/128`; link-local ones left out). */
export function parseAddressList(json: string): Set<string> {
  const out = new Set<string>();
  const links = JSON.parse(json === '' ? '[]' : json) as Array<{
    addr_info?: Array<{ local?: string; prefixlen?: number; scope?: string }>;
  }>;
  for (const link of links) {
    for (const a of link.addr_info ?? []) {
      if (a.local === undefined || a.scope === 'link') continue;
      out.add(`${a.local}/${a.prefixlen ?? (a.local.includes(':') ? 128 : 32)}`);
    }
  }
  return out;
}
