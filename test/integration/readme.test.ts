import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO, startUpProcess, switchyardArgv, type NodeProcess } from '../helpers/cli-process';
import { eventually } from '../helpers/eventually';
import { freePort } from '../helpers/net';

// Every "$ " line of the README's "Try it" block runs against a real `switchyard up` with the
// example cluster, the way a newcomer types it (with the ports this test's node got).
const run = promisify(execFile);

function readmeExamples(): string[] {
  const text = readFileSync(join(REPO, 'README.md'), 'utf8');
  const start = text.indexOf('<!-- readme-example');
  const block = text.slice(start).split('```')[1] ?? '';
  return block
    .split('\n')
    .filter((l) => l.startsWith('$ '))
    .map((l) => l.slice(2));
}

describe('README examples', () => {
  let dir: string;
  let node: NodeProcess;
  let ingressPort: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-readme-'));
    ingressPort = await freePort();
    node = await startUpProcess(dir, [
      '--demo',
      '--ingress-port',
      String(ingressPort),
      '--example',
      join(REPO, 'examples', 'cluster.yaml'),
    ]);
    // The proxy sends traffic to the demo backends once their health checks pass.
    await eventually(async () => expect((await fetch('http://127.0.0.1:8000/')).status).toBe(200), 20000);
    // …and the named VIP once its pool's checks pass.
    const [host, port] = node.dnsAddress.split(':') as [string, string];
    await eventually(async () => {
      const { stdout } = await run('dig', [
        '+short',
        '-p',
        port,
        `@${host}`,
        'web.marathon.l4lb.thisdcos.directory',
      ]);
      expect((await fetch(`http://${stdout.trim()}:8000/`)).status).toBe(200);
    }, 20000);
  });
  afterAll(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const examples = readmeExamples();
  it('finds the examples', () => expect(examples.length).toBeGreaterThanOrEqual(5));

  it.each(examples.map((line) => ({ line })))('$line', async ({ line }) => {
    const sy = [process.execPath, ...switchyardArgv([])].map((a) => `'${a}'`).join(' ');
    const command = line
      .replace(/^npx switchyard/, sy)
      .replace(/http:\/\/127\.0\.0\.1:7480/g, node.httpUrl)
      .replace(/http:\/\/127\.0\.0\.1:8123/g, node.dnsHttpUrl)
      .replace(/http:\/\/127\.0\.0\.1:8080/g, `http://127.0.0.1:${ingressPort}`)
      .replace(/http:\/\/127\.0\.0\.1:9090/g, node.lbAdminUrl ?? '')
      .replace(/-p 8053/g, `-p ${node.dnsAddress.split(':')[1] ?? ''}`);
    const { stdout } = await run('bash', ['-c', `set -o pipefail; ${command}`], {
      cwd: REPO,
      env: { ...process.env, SWITCHYARD_SERVER: node.grpcAddress, SWITCHYARD_DATA: dir },
      timeout: 20000,
    });
    expect(stdout.length).toBeGreaterThan(0);
    if (/:8000\/|web\.example\.org/.test(line)) expect(stdout).toMatch(/^hello from web\.a1b2c3d4-000[12]/);
  });
});
