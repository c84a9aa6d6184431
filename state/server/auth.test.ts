import { createTokenCheck, isLocalOnlyAddress, isLoopbackHost } from './auth';

describe('createTokenCheck', () => {
  const check = createTokenCheck('s3cret-token');
  it.each([
    { desc: 'the right token', header: 'Bearer s3cret-token', want: true },
    { desc: 'case-insensitive scheme', header: 'bearer s3cret-token', want: true },
    { desc: 'a wrong token', header: 'Bearer s3cret-tokem', want: false },
    { desc: 'a prefix of the token', header: 'Bearer s3cret', want: false },
    { desc: 'no header', header: undefined, want: false },
    { desc: 'another scheme', header: 'Basic s3cret-token', want: false },
    { desc: 'an empty bearer', header: 'Bearer ', want: false },
  ])('$desc → $want', ({ header, want }) => {
    expect(check(header)).toBe(want);
  });
});

describe('loopback detection (open reads)', () => {
  it.each([
    { desc: 'IPv4 loopback', host: '127.0.0.1', want: true },
    { desc: 'anywhere in 127/8', host: '127.3.2.1', want: true },
    { desc: 'IPv6 loopback', host: '::1', want: true },
    { desc: 'bracketed IPv6 loopback', host: '[::1]', want: true },
    { desc: 'localhost', host: 'localhost', want: true },
    { desc: 'all IPv4 interfaces', host: '0.0.0.0', want: false },
    { desc: 'all IPv6 interfaces', host: '::', want: false },
    { desc: 'a LAN address', host: '198.18.0.1', want: false },
  ])('$desc', ({ host, want }) => {
    expect(isLoopbackHost(host)).toBe(want);
  });

  it.each([
    { desc: 'unix socket', address: 'unix:///run/switchyard/state.sock', want: true },
    { desc: 'loopback TCP', address: '127.0.0.1:7443', want: true },
    { desc: 'IPv6 loopback TCP', address: '[::1]:7443', want: true },
    { desc: 'all interfaces', address: '0.0.0.0:7443', want: false },
  ])('gRPC address: $desc', ({ address, want }) => {
    expect(isLocalOnlyAddress(address)).toBe(want);
  });
});
