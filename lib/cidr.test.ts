import {
  CidrParseError,
  cidrContains,
  cidrContainsIp,
  cidrLast,
  cidrOverlaps,
  cidrSize,
  formatIp,
  nthSubnet,
  parseCidr,
  parseIp,
} from './cidr';

describe('parseIp', () => {
  it.each([
    { desc: 'IPv4 dotted decimal', input: '198.18.0.1', family: 4, value: 0xc6120001n },
    { desc: 'IPv4 zero', input: '0.0.0.0', family: 4, value: 0n },
    { desc: 'IPv4 broadcast', input: '255.255.255.255', family: 4, value: 0xffffffffn },
    { desc: 'IPv6 loopback', input: '::1', family: 6, value: 1n },
    { desc: 'IPv6 upper case', input: 'FD00::1', family: 6, value: (0xfd00n << 112n) | 1n },
    {
      desc: 'IPv4-mapped IPv6',
      input: '::ffff:198.18.0.1',
      family: 6,
      value: (0xffffn << 32n) | 0xc6120001n,
    },
  ])('accepts $desc', ({ input, family, value }) => {
    expect(parseIp(input)).toEqual({ family, value });
  });

  it.each([
    { desc: 'empty string', input: '' },
    { desc: 'three parts', input: '10.0.1' },
    { desc: 'octet over 255', input: '10.0.0.256' },
    { desc: 'leading zero (octal in some parsers)', input: '010.0.0.1' },
    { desc: 'hex part', input: '0x0a.0.0.1' },
    { desc: 'a single integer', input: '167772161' },
    { desc: 'surrounding space', input: ' 10.0.0.1' },
    { desc: 'IPv6 with a zone', input: 'fe80::1%eth0' },
    { desc: 'IPv6 with two "::"', input: '1::2::3' },
    { desc: 'IPv6 with a hex embedded IPv4 tail', input: '::ffff:0x1.1.1.1' },
    { desc: 'IPv6 with a leading-zero embedded IPv4 tail', input: '::ffff:010.1.1.1' },
    { desc: 'a CIDR', input: '10.0.0.0/8' },
  ])('refuses $desc', ({ input }) => {
    expect(() => parseIp(input)).toThrow(CidrParseError);
  });
});

describe('formatIp', () => {
  it.each([
    { desc: 'IPv4', family: 4 as const, value: 0xc6120001n, text: '198.18.0.1' },
    { desc: 'IPv6 compressed', family: 6 as const, value: 0xfd00n << 112n, text: 'fd00::' },
    { desc: 'IPv6 all zero', family: 6 as const, value: 0n, text: '::' },
  ])('formats $desc', ({ family, value, text }) => {
    expect(formatIp(family, value)).toBe(text);
  });

  it.each([
    { desc: 'IPv4', input: '198.18.7.9' },
    { desc: 'IPv6', input: '2001:db8::1:0:0:1' },
  ])('round-trips $desc through parseIp', ({ input }) => {
    const ip = parseIp(input);
    expect(formatIp(ip.family, ip.value)).toBe(input);
  });
});

describe('parseCidr', () => {
  it.each([
    { desc: 'IPv4 /16', input: '10.244.0.0/16', family: 4, prefix: 16, bits: 32, text: '10.244.0.0/16' },
    { desc: 'IPv4 /0', input: '0.0.0.0/0', family: 4, prefix: 0, bits: 32, text: '0.0.0.0/0' },
    { desc: 'IPv4 host /32', input: '198.18.0.1/32', family: 4, prefix: 32, bits: 32, text: '198.18.0.1/32' },
    {
      desc: 'IPv6 canonicalised',
      input: 'FD00:0:0::/64',
      family: 6,
      prefix: 64,
      bits: 128,
      text: 'fd00::/64',
    },
    { desc: 'IPv6 /128', input: '::1/128', family: 6, prefix: 128, bits: 128, text: '::1/128' },
  ])('parses $desc', ({ input, family, prefix, bits, text }) => {
    expect(parseCidr(input)).toMatchObject({ family, prefix, bits, text });
  });

  it.each([
    { desc: 'no prefix', input: '10.0.0.0', reason: 'missing "/prefix"' },
    { desc: 'IPv4 prefix over 32', input: '10.0.0.0/33', reason: 'prefix length must be 0-32' },
    { desc: 'IPv6 prefix over 128', input: 'fd00::/129', reason: 'prefix length must be 0-128' },
    { desc: 'negative prefix', input: '10.0.0.0/-1', reason: 'prefix length must be 0-32' },
    { desc: 'empty prefix', input: '10.0.0.0/', reason: 'prefix length must be 0-32' },
    { desc: 'bad address', input: '10.0.0/8', reason: 'not a valid IPv4 address' },
    {
      desc: 'IPv4 host bits set',
      input: '10.0.0.1/8',
      reason: 'host bits are set; did you mean 10.0.0.0/8?',
    },
    { desc: 'IPv6 host bits set', input: 'fd00::1/64', reason: 'host bits are set; did you mean fd00::/64?' },
  ])('refuses $desc', ({ input, reason }) => {
    expect(() => parseCidr(input)).toThrow(
      expect.objectContaining({ reason: expect.stringContaining(reason) }),
    );
  });
});

describe('sizes and ranges', () => {
  it.each([
    { desc: 'IPv4 /24', cidr: '198.18.1.0/24', size: 256n, last: '198.18.1.255' },
    { desc: 'IPv4 /32', cidr: '198.18.1.7/32', size: 1n, last: '198.18.1.7' },
    { desc: 'IPv6 /120', cidr: 'fd00::/120', size: 256n, last: 'fd00::ff' },
  ])('$desc', ({ cidr, size, last }) => {
    const c = parseCidr(cidr);
    expect(cidrSize(c)).toBe(size);
    expect(formatIp(c.family, cidrLast(c))).toBe(last);
  });
});

describe('cidrOverlaps', () => {
  it.each([
    { desc: 'identical', a: '10.0.0.0/16', b: '10.0.0.0/16', overlaps: true },
    { desc: 'one inside the other', a: '10.0.0.0/8', b: '10.96.0.0/12', overlaps: true },
    { desc: 'the other way round', a: '10.96.0.0/12', b: '10.0.0.0/8', overlaps: true },
    { desc: 'adjacent, not overlapping', a: '10.0.0.0/24', b: '10.0.1.0/24', overlaps: false },
    { desc: 'last address shared', a: '10.0.0.0/24', b: '10.0.0.255/32', overlaps: true },
    { desc: 'disjoint', a: '10.244.0.0/16', b: '10.96.0.0/12', overlaps: false },
    { desc: 'different families never overlap', a: '0.0.0.0/0', b: '::/0', overlaps: false },
  ])('$desc', ({ a, b, overlaps }) => {
    expect(cidrOverlaps(parseCidr(a), parseCidr(b))).toBe(overlaps);
  });
});

describe('cidrContains', () => {
  it.each([
    { desc: 'a subnet', outer: '10.244.0.0/16', inner: '10.244.3.0/24', contains: true },
    { desc: 'itself', outer: '10.244.0.0/16', inner: '10.244.0.0/16', contains: true },
    { desc: 'a larger block', outer: '10.244.0.0/16', inner: '10.0.0.0/8', contains: false },
    { desc: 'a block outside', outer: '10.244.0.0/16', inner: '10.245.0.0/24', contains: false },
    { desc: 'the last subnet', outer: '10.244.0.0/16', inner: '10.244.255.0/24', contains: true },
    { desc: 'another family', outer: '::/0', inner: '10.0.0.0/8', contains: false },
  ])('$desc', ({ outer, inner, contains }) => {
    expect(cidrContains(parseCidr(outer), parseCidr(inner))).toBe(contains);
  });

  it.each([
    { desc: 'first address', cidr: '198.18.0.0/24', ip: '198.18.0.0', contains: true },
    { desc: 'last address', cidr: '198.18.0.0/24', ip: '198.18.0.255', contains: true },
    { desc: 'one past the end', cidr: '198.18.0.0/24', ip: '198.18.1.0', contains: false },
    { desc: 'another family', cidr: '::/0', ip: '198.18.0.1', contains: false },
  ])('cidrContainsIp: $desc', ({ cidr, ip, contains }) => {
    expect(cidrContainsIp(parseCidr(cidr), parseIp(ip))).toBe(contains);
  });
});

describe('nthSubnet', () => {
  it.each([
    { desc: 'first /24 of a /16', cidr: '10.244.0.0/16', prefix: 24, index: 0n, text: '10.244.0.0/24' },
    { desc: 'third /24 of a /16', cidr: '10.244.0.0/16', prefix: 24, index: 3n, text: '10.244.3.0/24' },
    { desc: 'last /24 of a /16', cidr: '10.244.0.0/16', prefix: 24, index: 255n, text: '10.244.255.0/24' },
    { desc: 'same size', cidr: '10.244.0.0/16', prefix: 16, index: 0n, text: '10.244.0.0/16' },
    { desc: 'IPv6 /64 of a /48', cidr: 'fd00::/48', prefix: 64, index: 2n, text: 'fd00:0:0:2::/64' },
  ])('$desc', ({ cidr, prefix, index, text }) => {
    const subnet = nthSubnet(parseCidr(cidr), prefix, index);
    expect(subnet.text).toBe(text);
    expect(parseCidr(subnet.text)).toEqual(subnet);
  });

  it.each([
    { desc: 'index past the end', prefix: 24, index: 256n },
    { desc: 'negative index', prefix: 24, index: -1n },
    { desc: 'prefix shorter than the block', prefix: 15, index: 0n },
    { desc: 'prefix longer than the family', prefix: 33, index: 0n },
  ])('refuses $desc', ({ prefix, index }) => {
    expect(() => nthSubnet(parseCidr('10.244.0.0/16'), prefix, index)).toThrow(RangeError);
  });
});
