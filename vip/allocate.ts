// Method: hash the VIP object name into the service CIDR, then linear probing (DC/OS l4lb
// `add_mapping`, with sha-256 instead of erlang:phash2). Cost: O(V log V) to sort V requests,
// plus per new VIP O(1) expected probes (O(taken + reserved ranges) worst case).
import { createHash } from 'node:crypto';
import { cidrContainsIp, cidrLast, formatIp, parseCidr, parseIp, type Cidr } from '../lib';
import type { StoredObject } from '../state';
import { VIP_ERROR_CODES, VipError } from './errors';

/**
 * Pure, deterministic allocation of VIP addresses: every API server (or controller) given the
 * same requests and the same stored addresses computes the same answer, whatever the order of
 * its inputs. Stored addresses are kept (stable across restarts); explicit ones are checked.
 */

/** Where addresses come from. */
export interface AddressPool {
  /** The service CIDR new addresses are hashed into. */
  readonly cidr: Cidr;
  /** The Network it belongs to. */
  readonly network: string;
  /** Every Network's service CIDR: explicit and stored addresses may come from any of them. */
  readonly cidrs: readonly { readonly cidr: Cidr; readonly network: string }[];
  /** Ranges inside `cidr` hashing never hands out (sorted, disjoint); explicit addresses may use them. */
  readonly reserved: readonly Range[];
}

export interface Range {
  readonly first: bigint;
  readonly last: bigint;
}

export interface AllocationRequest {
  /** The VIP object name (`web.marathon`): what is hashed. */
  readonly vip: string;
  /** An address asked for by name (an IP VIP label, a Service's spec.vip.address). */
  readonly explicit?: string;
  /** The address the stored VIP object holds: kept when still usable. */
  readonly current?: string;
  /** A VIP waiting out its grace period: it keeps `current` or gets nothing, never a new address. */
  readonly keepOnly?: boolean;
}

export interface AllocationResult {
  /** VIP object name → address, for every request that got one. */
  readonly addresses: ReadonlyMap<string, string>;
  /** One per request that got none: SY_VIP_ADDRESS_INVALID, SY_VIP_ADDRESS_CONFLICT, SY_VIP_EXHAUSTED. */
  readonly problems: readonly VipError[];
  /** Addresses hashing could still hand out. */
  readonly free: bigint;
}

/**
 * The pool of the Network named `network`, else of the Network first by name. Reserved entries
 * (CIDRs, already parsed) are clipped to the pool; entries outside it are reported and ignored.
 */
export function buildPool(
  networks: readonly StoredObject<'Network'>[],
  options: { readonly network?: string; readonly reserved?: readonly Cidr[] } = {},
): { pool?: AddressPool; problems: VipError[] } {
  const cidrs = [...networks]
    .sort((a, b) => compare(a.name, b.name))
    .map((n) => ({ cidr: parseCidr(n.spec.serviceCIDR), network: n.name }));
  const chosen = options.network === undefined ? cidrs[0] : cidrs.find((c) => c.network === options.network);
  if (chosen === undefined) {
    const what =
      options.network === undefined ? 'no Network exists' : `no Network "${options.network}" exists`;
    return { problems: [new VipError(VIP_ERROR_CODES.NO_NETWORK, `${what} to allocate VIP addresses from`)] };
  }
  const problems: VipError[] = [];
  const ranges: Range[] = [];
  for (const reserved of options.reserved ?? []) {
    const first = reserved.network > chosen.cidr.network ? reserved.network : chosen.cidr.network;
    const last = cidrLast(reserved) < cidrLast(chosen.cidr) ? cidrLast(reserved) : cidrLast(chosen.cidr);
    if (reserved.family !== chosen.cidr.family || first > last) {
      const reason = `reserved range ${reserved.text} lies outside the service CIDR ${chosen.cidr.text} of Network "${chosen.network}"; ignored`;
      problems.push(new VipError(VIP_ERROR_CODES.INVALID_CONFIG, reason, { field: 'reserved', reason }));
      continue;
    }
    ranges.push({ first, last });
  }
  return {
    pool: { cidr: chosen.cidr, network: chosen.network, cidrs, reserved: mergeRanges(ranges) },
    problems,
  };
}

/**
 * `held`: addresses claimed outside VIP objects (a Service's spec.vip.address with no VIP of its
 * own), address → who holds it: never handed out, and refused to explicit requests.
 */
export function allocateAddresses(
  requests: readonly AllocationRequest[],
  pool: AddressPool,
  held: ReadonlyMap<string, string> = new Map(),
): AllocationResult {
  const sorted = [...requests].sort((a, b) => compare(a.vip, b.vip));
  const state = new Allocator(pool);
  for (const [address, holder] of [...held].sort(([a], [b]) => compare(a, b))) state.hold(address, holder);
  const problems: VipError[] = [];
  // Explicit addresses first, then stored ones, then hashing: each pass in name order.
  for (const request of sorted) {
    if (request.explicit !== undefined) {
      const problem = state.claimExplicit(request.vip, request.explicit);
      if (problem !== undefined) problems.push(problem);
    }
  }
  for (const request of sorted) {
    if (request.explicit === undefined && request.current !== undefined)
      state.keepCurrent(request.vip, request.current);
  }
  for (const request of sorted) {
    if (request.explicit !== undefined || request.keepOnly === true || state.addresses.has(request.vip))
      continue;
    const problem = state.hash(request.vip);
    if (problem !== undefined) problems.push(problem);
  }
  return { addresses: state.addresses, problems, free: state.free() };
}

/** The address hashing starts probing from for `vip` (before collisions): for tests and tools. */
export function hashSlot(vip: string, pool: AddressPool): string {
  const { first, count } = usableSpan(pool.cidr);
  return formatIp(pool.cidr.family, first + (count === 0n ? 0n : hashOf(vip) % count));
}

class Allocator {
  readonly addresses = new Map<string, string>();
  private readonly taken = new Map<bigint, string>();
  private readonly span: { first: bigint; count: bigint };
  private readonly reservedCount: bigint;
  /** Taken addresses hashing could otherwise have handed out. */
  private takenFromPool = 0n;

  constructor(private readonly pool: AddressPool) {
    this.span = usableSpan(pool.cidr);
    this.reservedCount = pool.reserved.reduce((sum, r) => sum + this.clip(r), 0n);
  }

  claimExplicit(vip: string, address: string): VipError | undefined {
    const ip = parseIp(address);
    const where = this.pool.cidrs.find((c) => cidrContainsIp(c.cidr, ip));
    const details = { vip, address };
    if (where === undefined || !isUsable(where.cidr, ip.value)) {
      const reason =
        where === undefined
          ? `${address} is not inside the service CIDR of any Network: ${this.pool.cidrs.map((c) => `${c.cidr.text} (Network "${c.network}")`).join(', ')}`
          : `${address} is the ${ip.value === where.cidr.network ? 'network' : 'broadcast'} address of ${where.cidr.text} (Network "${where.network}")`;
      return new VipError(VIP_ERROR_CODES.ADDRESS_INVALID, `VIP ${vip}: ${reason}`, { reason, details });
    }
    const holder = this.taken.get(ip.value);
    if (holder !== undefined) {
      const reason = `${address} is already the address of ${holder}`;
      return new VipError(VIP_ERROR_CODES.ADDRESS_CONFLICT, `VIP ${vip}: ${reason}`, {
        reason,
        details: { ...details, conflictsWith: holder },
      });
    }
    this.take(vip, ip.value, address);
    return undefined;
  }

  keepCurrent(vip: string, address: string): void {
    let ip: { family: 4 | 6; value: bigint };
    try {
      ip = parseIp(address);
    } catch {
      return;
    }
    const usable = this.pool.cidrs.some((c) => cidrContainsIp(c.cidr, ip) && isUsable(c.cidr, ip.value));
    if (usable && !this.taken.has(ip.value)) this.take(vip, ip.value, address);
  }

  hash(vip: string): VipError | undefined {
    if (this.free() <= 0n) {
      const reason = `no free address left in ${this.pool.cidr.text} (Network "${this.pool.network}"): ${this.span.count} usable, ${this.reservedCount} reserved, ${this.takenFromPool} taken`;
      return new VipError(
        VIP_ERROR_CODES.EXHAUSTED,
        `VIP ${vip}: ${reason}; widen the service CIDR or free VIPs`,
        {
          reason,
          details: { vip },
        },
      );
    }
    const { first, count } = this.span;
    const end = first + count - 1n;
    let candidate = first + (hashOf(vip) % count);
    // free() > 0 guarantees an end; each step passes a taken address or a reserved range.
    for (;;) {
      const range = this.pool.reserved.find((r) => candidate >= r.first && candidate <= r.last);
      if (range !== undefined) candidate = range.last + 1n;
      else if (this.taken.has(candidate)) candidate += 1n;
      else break;
      if (candidate > end) candidate = first;
    }
    this.take(vip, candidate, formatIp(this.pool.cidr.family, candidate));
    return undefined;
  }

  free(): bigint {
    return this.span.count - this.reservedCount - this.takenFromPool;
  }

  /** An address someone other than a VIP holds; ignored unless it is usable. */
  hold(address: string, holder: string): void {
    let ip: { family: 4 | 6; value: bigint };
    try {
      ip = parseIp(address);
    } catch {
      return;
    }
    const usable = this.pool.cidrs.some((c) => cidrContainsIp(c.cidr, ip) && isUsable(c.cidr, ip.value));
    if (usable && !this.taken.has(ip.value)) this.mark(ip.value, holder);
  }

  private take(vip: string, value: bigint, address: string): void {
    this.mark(value, `VIP ${vip}`);
    this.addresses.set(vip, address);
  }

  private mark(value: bigint, holder: string): void {
    this.taken.set(value, holder);
    const inSpan = value >= this.span.first && value < this.span.first + this.span.count;
    if (inSpan && !this.pool.reserved.some((r) => value >= r.first && value <= r.last))
      this.takenFromPool += 1n;
  }

  /** How many addresses of a reserved range hashing could otherwise hand out. */
  private clip(r: Range): bigint {
    const lo = r.first > this.span.first ? r.first : this.span.first;
    const end = this.span.first + this.span.count - 1n;
    const hi = r.last < end ? r.last : end;
    return hi >= lo ? hi - lo + 1n : 0n;
  }
}

/** Every address but the first (network) and the last (broadcast). */
function usableSpan(cidr: Cidr): { first: bigint; count: bigint } {
  const size = cidrLast(cidr) - cidr.network + 1n;
  return { first: cidr.network + 1n, count: size > 2n ? size - 2n : 0n };
}

function isUsable(cidr: Cidr, value: bigint): boolean {
  return value > cidr.network && value < cidrLast(cidr);
}

/** 128 bits of sha-256: uniform enough for any CIDR, and the same in every process. */
function hashOf(vip: string): bigint {
  return BigInt(`0x${createHash('sha256').update(vip).digest('hex').slice(0, 32)}`);
}

function mergeRanges(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.first <= last.last + 1n) {
      out[out.length - 1] = { first: last.first, last: r.last > last.last ? r.last : last.last };
    } else out.push(r);
  }
  return out;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
