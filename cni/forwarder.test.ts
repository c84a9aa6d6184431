import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The exec'd executables (cni/bin): a module-free perl forwarder. No root needed: a fake agent on a
// unix socket checks what arrives and answers like the real one.
const BIN = join(__dirname, 'bin');

function call(
  exe: string,
  env: Record<string, string>,
  stdin: string,
): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile(join(BIN, exe), [], { env }, (error, stdout) =>
      resolve({ code: error === null ? 0 : Number(error.code), stdout }),
    );
    child.stdin?.end(stdin);
  });
}

describe('cni/bin forwarders', () => {
  let dir: string;
  let server: Server;
  let seen: { url?: string; headers?: IncomingMessage['headers']; body?: string } = {};
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-fwd-'));
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen = { url: req.url ?? '', headers: req.headers, body };
        const fail = req.headers['cni-command'] === 'DEL';
        res.writeHead(fail ? 400 : 200, { 'content-type': 'application/json' });
        res.end(fail ? '{"cniVersion":"1.0.0","code":11,"msg":"busy"}' : '{"cniVersion":"1.0.0","ips":[]}');
      });
    });
    await new Promise<void>((r) => server.listen(join(dir, 'cni.sock'), r));
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    { desc: 'switchyard-cni → /v1/cni/plugin', exe: 'switchyard-cni', url: '/v1/cni/plugin' },
    { desc: 'switchyard-ipam → /v1/cni/ipam', exe: 'switchyard-ipam', url: '/v1/cni/ipam' },
  ])('$desc with the CNI_* env as headers and stdin as body; 200 → exit 0', async ({ exe, url }) => {
    const env = {
      SWITCHYARD_CNI_SOCKET: join(dir, 'cni.sock'),
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'c1',
      CNI_NETNS: '/run/netns/p',
      CNI_IFNAME: 'eth0',
      CNI_ARGS: 'A=1;B=2',
      CNI_PATH: '/x:/y',
    };
    const out = await call(exe, env, '{"cniVersion":"1.0.0","name":"n"}');
    expect(out).toEqual({ code: 0, stdout: '{"cniVersion":"1.0.0","ips":[]}' });
    expect(seen.url).toBe(url);
    expect(seen.body).toBe('{"cniVersion":"1.0.0","name":"n"}');
    expect(seen.headers).toMatchObject({
      'cni-command': 'ADD',
      'cni-containerid': 'c1',
      'cni-netns': '/run/netns/p',
      'cni-ifname': 'eth0',
      'cni-args': 'A=1;B=2',
      'cni-path': '/x:/y',
    });
  });

  it('an error answer prints the error object and exits 1', async () => {
    const out = await call(
      'switchyard-cni',
      { SWITCHYARD_CNI_SOCKET: join(dir, 'cni.sock'), CNI_COMMAND: 'DEL' },
      '{}',
    );
    expect(out).toEqual({ code: 1, stdout: '{"cniVersion":"1.0.0","code":11,"msg":"busy"}' });
  });

  it.each([
    {
      desc: 'ADD → code 11 "try again later"',
      command: 'ADD',
      code: 1,
      json: { code: 11, msg: 'switchyard agent unreachable' },
    },
    {
      desc: 'VERSION → answered locally',
      command: 'VERSION',
      code: 0,
      json: { cniVersion: '1.1.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] },
    },
  ])('with no agent listening: $desc', async ({ command, code, json }) => {
    const out = await call(
      'switchyard-cni',
      { SWITCHYARD_CNI_SOCKET: join(dir, 'missing.sock'), CNI_COMMAND: command },
      '{}',
    );
    expect(out.code).toBe(code);
    expect(JSON.parse(out.stdout)).toMatchObject(json);
  });
});
