import { cidrContains, cidrOverlaps, formatIp, nthSubnet, parseCidr, type Cidr } from '../lib';

/**
 * Node subnet choice, the flannel way (pure): keep a previous subnet if it is still free, else pick
 * at random among the first 100 free `prefix`-bit slices of the pod CIDR (the first slice, whose
 * `.0` is the pod CIDR's network address, is skipped like flannel's default SubnetMin).
 * Cost: O(candidates × taken) with at most 100 + taken candidates inspected.
 */
export interface ChooseSubnetInput {
  podCIDR: string;
  prefix: number;
  /** Subnets leased to other nodes. */
  taken: readonly string[];
  /** The subnet this node had before (local file), tried first. */
  previous?: string;
  random: () => number;
}

const MAX_CANDIDATES = 100;

export function isNodeSubnetOf(subnet: string, podCIDR: string, prefix: number): boolean {
  try {
    const s = parseCidr(subnet);
    return s.prefix === prefix && cidrContains(parseCidr(podCIDR), s);
  } catch {
    return false;
  }
}

export function chooseSubnet(input: ChooseSubnetInput): string | undefined {
  const pod = parseCidr(input.podCIDR);
  const taken: Cidr[] = input.taken.map((t) => parseCidr(t));
  const free = (c: Cidr): boolean => !taken.some((t) => cidrOverlaps(t, c));
  if (input.previous !== undefined && isNodeSubnetOf(input.previous, input.podCIDR, input.prefix)) {
    const prev = parseCidr(input.previous);
    if (free(prev)) return prev.text;
  }
  const count = 1n << BigInt(input.prefix - pod.prefix);
  const candidates: Cidr[] = [];
  const start = count > 1n ? 1n : 0n;
  for (let i = start; i < count && candidates.length < MAX_CANDIDATES; i++) {
    const c = nthSubnet(pod, input.prefix, i);
    if (free(c)) candidates.push(c);
  }
  if (candidates.length === 0) return undefined;
  const pick = candidates[Math.min(candidates.length - 1, Math.floor(input.random() * candidates.length))];
  return pick?.text;
}

/** The usable container range of a node subnet: after the `.1` gateway, before broadcast. */
export interface AddressRange {
  family: 4 | 6;
  first: bigint;
  last: bigint;
  gateway: bigint;
  prefix: number;
  subnet: string;
}

export function addressRange(subnet: string): AddressRange {
  const c = parseCidr(subnet);
  const size = 1n << BigInt(c.bits - c.prefix);
  if (size < 4n) throw new Error(`node subnet ${subnet} is too small (needs at least a /${c.bits - 2})`);
  return {
    family: c.family,
    first: c.network + 2n,
    last: c.network + size - 2n,
    gateway: c.network + 1n,
    prefix: c.prefix,
    subnet: c.text,
  };
}

export function gatewayOf(subnet: string): string {
  const r = addressRange(subnet);
  return formatIp(r.family, r.gateway);
}
