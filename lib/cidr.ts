import ipaddr from 'ipaddr.js';

/**
 * CIDR math on integers: ipaddr.js parses and formats at the edges (strictly: no legacy hex or
 * octal IPv4 forms), everything in between is bigint arithmetic so IPv4 and IPv6 share one path.
 */
export interface Cidr {
  readonly family: 4 | 6;
  /** The first address, as an integer. */
  readonly network: bigint;
  readonly prefix: number;
  /** 32 or 128. */
  readonly bits: number;
  /** Canonical text, e.g. `10.244.0.0/16`. */
  readonly text: string;
}

export class CidrParseError extends Error {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`${JSON.stringify(input)}: ${reason}`);
    this.name = 'CidrParseError';
  }
}

const V4_DOTTED = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function parseIp(input: string): { family: 4 | 6; value: bigint } {
  if (typeof input !== 'string' || input.length === 0)
    throw new CidrParseError(String(input), 'not an IP address');
  if (input.includes(':')) {
    // ipaddr.js accepts legacy forms in an embedded IPv4 tail (`::ffff:0x1.1.1.1`); hold it to dotted decimal.
    const tail = input.slice(input.lastIndexOf(':') + 1);
    if (!ipaddr.IPv6.isValid(input) || input.includes('%') || (tail.includes('.') && !V4_DOTTED.test(tail))) {
      throw new CidrParseError(input, 'not a valid IPv6 address');
    }
    const bytes = ipaddr.IPv6.parse(input).toByteArray();
    return { family: 6, value: bytesToBigint(bytes) };
  }
  if (!V4_DOTTED.test(input)) {
    throw new CidrParseError(input, 'not a valid IPv4 address (four decimal parts, 0-255)');
  }
  return { family: 4, value: bytesToBigint(ipaddr.IPv4.parse(input).toByteArray()) };
}

export function formatIp(family: 4 | 6, value: bigint): string {
  const len = family === 4 ? 4 : 16;
  const bytes: number[] = new Array<number>(len);
  let v = value;
  for (let i = len - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

/** Parse `a.b.c.d/n` or `x::/n`; host bits must be zero (`10.0.0.1/8` is refused, with a hint). */
export function parseCidr(input: string): Cidr {
  if (typeof input !== 'string') throw new CidrParseError(String(input), 'not a string');
  const slash = input.indexOf('/');
  if (slash < 0) throw new CidrParseError(input, 'missing "/prefix"');
  const addr = input.slice(0, slash);
  const prefixText = input.slice(slash + 1);
  const { family, value } = parseIp(addr);
  const bits = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    throw new CidrParseError(input, `prefix length must be 0-${bits}`);
  }
  const prefix = Number(prefixText);
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  if ((value & hostMask) !== 0n) {
    const network = value & ~hostMask;
    throw new CidrParseError(
      input,
      `host bits are set; did you mean ${formatIp(family, network)}/${prefix}?`,
    );
  }
  return { family, network: value, prefix, bits, text: `${formatIp(family, value)}/${prefix}` };
}

export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(c.bits - c.prefix);
}

export function cidrLast(c: Cidr): bigint {
  return c.network + cidrSize(c) - 1n;
}

export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  return a.network <= cidrLast(b) && b.network <= cidrLast(a);
}

/** True when `inner` lies wholly inside `outer`. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family &&
    inner.prefix >= outer.prefix &&
    inner.network >= outer.network &&
    cidrLast(inner) <= cidrLast(outer)
  );
}

export function cidrContainsIp(c: Cidr, ip: { family: 4 | 6; value: bigint }): boolean {
  return c.family === ip.family && ip.value >= c.network && ip.value <= cidrLast(c);
}

/** The `index`-th subnet of length `prefix` inside `c` (index 0 is the first). */
export function nthSubnet(c: Cidr, prefix: number, index: bigint): Cidr {
  if (prefix < c.prefix || prefix > c.bits)
    throw new RangeError(`prefix /${prefix} does not fit in ${c.text}`);
  const count = 1n << BigInt(prefix - c.prefix);
  if (index < 0n || index >= count) throw new RangeError(`subnet index ${index} out of range for ${c.text}`);
  const network = c.network + (index << BigInt(c.bits - prefix));
  return {
    family: c.family,
    network,
    prefix,
    bits: c.bits,
    text: `${formatIp(c.family, network)}/${prefix}`,
  };
}

function bytesToBigint(bytes: number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}
