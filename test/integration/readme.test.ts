import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO, startUpProcess, switchyardArgv, type NodeProcess } from '../helpers/cli-process';

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
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-readme-'));
    node = await startUpProcess(dir, ['--no-lb', '--example', join(REPO, 'examples', 'cluster.yaml')]);
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
      .replace(/-p 8053/g, `-p ${node.dnsAddress.split(':')[1] ?? ''}`);
    const { stdout } = await run('bash', ['-c', `set -o pipefail; ${command}`], {
      cwd: REPO,
      env: { ...process.env, SWITCHYARD_SERVER: node.grpcAddress, SWITCHYARD_DATA: dir },
      timeout: 20000,
    });
    expect(stdout.length).toBeGreaterThan(0);
  });
});
