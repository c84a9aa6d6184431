import type { PortMapping } from './types';

/**
 * Port mappings (and per-container masquerade) as ONE nftables table, compiled from every live
 * attachment on the host (pure). Applying the text replaces the whole table in one transaction:
 * `table …` (create if absent) + `delete table …` + the new table.
 *
 * - prerouting (dstnat) and output (-100): traffic to a local address jumps to `hostports`, so a
 *   host port works from other hosts, from containers and from the host itself, 127.0.0.1 included
 *   (the bridge needs `route_localnet=1` for that).
 * - postrouting (srcnat): DNAT'ed traffic from the node subnet (hairpin, container → a host port on
 *   its own host) and from 127.0.0.0/8 is masqueraded so replies come back through the host;
 *   `ipMasq` containers are masqueraded when they leave the pod CIDR.
 */
export interface NatAttachment {
  /** The container address, without prefix. */
  ip: string;
  portMappings: readonly PortMapping[];
  ipMasq: boolean;
}

export interface NatInput {
  table: string;
  /** The node subnet (`198.18.1.0/24`). */
  nodeSubnet: string;
  /** The cluster pod CIDR (`198.18.0.0/16`). */
  podCIDR: string;
  attachments: readonly NatAttachment[];
}

function dnatRule(ip: string, m: PortMapping): string {
  const daddr = m.hostIP === undefined || m.hostIP === '0.0.0.0' ? '' : `ip daddr ${m.hostIP} `;
  return `${daddr}${m.protocol} dport ${m.hostPort} dnat to ${ip}:${m.containerPort}`;
}

function byIp(a: NatAttachment, b: NatAttachment): number {
  return a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0;
}

export function compileNatRuleset(input: NatInput): string {
  if (!/^[A-Za-z0-9_-]+$/.test(input.table)) throw new Error(`bad nftables table name ${input.table}`);
  const sorted = [...input.attachments].sort(byIp);
  // Mappings with a hostIP first, so a specific address wins over the wildcard for the same port.
  const specific: string[] = [];
  const wildcard: string[] = [];
  for (const a of sorted) {
    for (const m of a.portMappings)
      (m.hostIP && m.hostIP !== '0.0.0.0' ? specific : wildcard).push(dnatRule(a.ip, m));
  }
  const masq = sorted
    .filter((a) => a.ipMasq)
    .map((a) => `ip saddr ${a.ip} ip daddr != ${input.podCIDR} masquerade`);
  const t = input.table;
  const lines = [
    `table ip ${t}`,
    `delete table ip ${t}`,
    `table ip ${t} {`,
    '\tchain prerouting {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    '\t\tfib daddr type local jump hostports',
    '\t}',
    '\tchain output {',
    '\t\ttype nat hook output priority -100; policy accept;',
    '\t\tfib daddr type local jump hostports',
    '\t}',
    '\tchain hostports {',
    ...[...specific, ...wildcard].map((r) => `\t\t${r}`),
    '\t}',
    '\tchain postrouting {',
    '\t\ttype nat hook postrouting priority srcnat; policy accept;',
    `\t\tct status dnat ip saddr ${input.nodeSubnet} masquerade`,
    '\t\tct status dnat ip saddr 127.0.0.0/8 masquerade',
    ...masq.map((r) => `\t\t${r}`),
    '\t}',
    '}',
  ];
  return lines.join('\n') + '\n';
}

/** Host ports already taken by another attachment: `tcp/8080` → the holder's ip. */
export function hostPortClashes(wanted: readonly PortMapping[], others: readonly NatAttachment[]): string[] {
  const taken = new Map<string, string>();
  for (const a of others)
    for (const m of a.portMappings) taken.set(`${m.protocol}/${m.hostIP ?? '*'}/${m.hostPort}`, a.ip);
  const clashes: string[] = [];
  for (const m of wanted) {
    const holders = [`${m.protocol}/${m.hostIP ?? '*'}/${m.hostPort}`, `${m.protocol}/*/${m.hostPort}`];
    if (m.hostIP === undefined) {
      for (const key of taken.keys())
        if (key.startsWith(`${m.protocol}/`) && key.endsWith(`/${m.hostPort}`)) holders.push(key);
    }
    const hit = holders.find((k) => taken.has(k));
    if (hit !== undefined) clashes.push(`${m.protocol}/${m.hostPort} (held by ${taken.get(hit) ?? '?'})`);
  }
  return clashes;
}
