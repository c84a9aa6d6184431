import { parseLbFlags, type LbFlags } from './lb';

// The process itself is tested in test/integration/lb-command.test.ts.
describe('parseLbFlags', () => {
  const base: LbFlags = { ingress: true, vips: true, accessLog: true };

  it.each([
    {
      desc: 'defaults are those of the proxy in `switchyard up`',
      flags: base,
      want: {
        listenHost: '127.0.0.1',
        ingressPort: 8080,
        admin: { host: '127.0.0.1', port: 9090 },
        serveVips: true,
        accessLog: true,
      },
    },
    {
      desc: 'an edge proxy on every address without ingress, admin, VIPs or access log',
      flags: {
        listenHost: '0.0.0.0',
        ingress: false,
        admin: false,
        vips: false,
        accessLog: false,
        logLevel: 'warn',
      } satisfies LbFlags,
      want: {
        listenHost: '0.0.0.0',
        ingressPort: null,
        admin: false,
        serveVips: false,
        accessLog: false,
        logLevel: 'warn',
      },
    },
    {
      desc: 'an IPv6 listen host and admin address',
      flags: { ...base, listenHost: '::1', admin: '[::1]:9191', ingressPort: 8081 },
      want: { listenHost: '::1', ingressPort: 8081, admin: { host: '::1', port: 9191 } },
    },
  ])('$desc', ({ flags, want }) => {
    expect(parseLbFlags(flags)).toMatchObject(want);
  });

  it.each([
    { desc: 'a listen host that is not an IP address', flags: { ...base, listenHost: 'example.org' } },
    { desc: 'an admin address without a port', flags: { ...base, admin: '127.0.0.1' } },
    { desc: 'an admin port out of range', flags: { ...base, admin: '127.0.0.1:70000' } },
    { desc: '--ingress-port with --no-ingress', flags: { ...base, ingress: false, ingressPort: 8081 } },
  ])('rejects $desc with SY_CLI_USAGE', ({ flags }) => {
    expect(() => parseLbFlags(flags)).toThrow(expect.objectContaining({ code: 'SY_CLI_USAGE' }));
  });
});
