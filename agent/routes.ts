import type { StoredObject } from '../state';

/**
 * Host-gateway routes (flannel host-gw): every other node's pod subnet via that node's address.
 * `compileRoutes` and `diffRoutes` are pure; the agent applies the diff with one `ip -batch`.
 * Routes carry `proto <routeProtocol>` so a restarted agent finds and removes the stale ones.
 */
export type RouteTable = ReadonlyMap<string, string>;

export function compileRoutes(nodes: readonly StoredObject[], self: string): RouteTable {
  const table = new Map<string, string>();
  for (const node of [...nodes].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const spec = (node as StoredObject<'Node'>).spec;
    if (node.kind !== 'Node' || node.name === self || spec.podSubnet === undefined) continue;
    table.set(spec.podSubnet, spec.address);
  }
  return table;
}

export function diffRoutes(applied: RouteTable, next: RouteTable, proto: number): string[] {
  const lines: string[] = [];
  for (const [subnet, via] of next) {
    if (applied.get(subnet) !== via) lines.push(`route replace ${subnet} via ${via} proto ${proto}`);
  }
  for (const subnet of applied.keys())
    if (!next.has(subnet)) lines.push(`route del ${subnet} proto ${proto}`);
  return lines;
}

/** `ip -j route show proto N` output → the table it describes. */
export function parseRouteList(json: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of JSON.parse(json === '' ? '[]' : json) as Array<{ dst?: string; gateway?: string }>) {
    if (r.dst !== undefined && r.gateway !== undefined) out.set(r.dst, r.gateway);
  }
  return out;
}
