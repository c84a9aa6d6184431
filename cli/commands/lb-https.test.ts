import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildProgram } from '../program';
import { parseHttpsFlags, parseLbFlags, type LbFlags } from './lb';

// --https-port and --certs, for `switchyard lb` and `switchyard up`: both or neither, checked
// before anything starts. The TLS frontend itself is tested in lb/https.test.ts.
describe('HTTPS flags', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sy-cli-certs-'));
    writeFileSync(join(dir, 'file.pem'), '');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base: LbFlags = { ingress: true, vips: true, accessLog: true };

  it('off by default', () => {
    expect(parseLbFlags(base)).toMatchObject({ httpsPort: null });
    expect(parseLbFlags(base).certificates).toBeUndefined();
  });

  it('a port and a certificate directory (made absolute)', () => {
    expect(parseLbFlags({ ...base, httpsPort: 8443, certs: relative(process.cwd(), dir) })).toMatchObject({
      httpsPort: 8443,
      certificates: dir,
    });
  });

  it.each([
    { desc: '--https-port without --certs', port: 8443, certs: undefined, flag: '--https-port' },
    { desc: '--certs without --https-port', port: undefined, certs: '.', flag: '--certs' },
    { desc: '--certs that does not exist', port: 8443, certs: '/nonexistent/certs', flag: '--certs' },
    { desc: '--certs that is a file', port: 8443, certs: 'file.pem', flag: '--certs' },
  ])('rejects $desc with SY_CLI_USAGE naming the flag', ({ port, certs, flag }) => {
    const path = certs === 'file.pem' ? join(dir, certs) : certs;
    expect(() => parseHttpsFlags(port, path)).toThrow(
      expect.objectContaining({ code: 'SY_CLI_USAGE', field: flag }),
    );
  });

  it.each([['lb'], ['up']])(
    '`switchyard %s` takes --https-port and --certs and checks them first',
    async (verb) => {
      const io = { stdout: { write: () => true }, stderr: { write: () => true } };
      const run = (...args: string[]): Promise<unknown> =>
        buildProgram(io as never, { exitCode: 0 }, () => {
          throw new Error('must not connect');
        }).parseAsync(['node', 'switchyard', verb, ...args]);
      await expect(run('--https-port', '8443')).rejects.toThrow(
        expect.objectContaining({ code: 'SY_CLI_USAGE', field: '--https-port' }),
      );
      await expect(run('--certs', dir)).rejects.toThrow(
        expect.objectContaining({ code: 'SY_CLI_USAGE', field: '--certs' }),
      );
      await expect(run('--https-port', 'x', '--certs', dir)).rejects.toThrow(
        expect.objectContaining({ code: 'SY_CLI_USAGE', field: '--https-port' }),
      );
    },
  );
});
