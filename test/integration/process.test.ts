import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import {
  REPO,
  runSwitchyard,
  startUpProcess,
  switchyardArgv,
  type NodeProcess,
} from '../helpers/cli-process';
import { eventually } from '../helpers/eventually';
import { freePort, startBackend } from '../helpers/net';

const run = promisify(execFile);

describe('switchyard up (process)', () => {
  let dir: string;
  let node: NodeProcess | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sy-up-'));
  });
  afterEach(async () => {
    await node?.stop('SIGKILL');
    node = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const sy = (args: string[], stdin?: string) =>
    runSwitchyard(
      ['--server', node?.grpcAddress ?? '', '--data', dir, ...args],
      stdin === undefined ? {} : { stdin },
    );

  it('keeps an acknowledged apply across kill -9 and a restart', async () => {
    node = await startUpProcess(dir);
    expect(node.output()).toContain('Generated a write token');
    const applied = await sy(
      ['apply', '-f', '-'],
      'kind: Node\nname: survivor\nspec: {address: 127.0.0.9}\n',
    );
    expect(applied).toMatchObject({ code: 0, stdout: 'node/survivor created\n' });

    await node.stop('SIGKILL');
    node = await startUpProcess(dir);
    // The token is generated once: a restart reuses it and does not print it again.
    expect(node.output()).not.toContain('Generated a write token');
    const got = await sy(['get', 'node', 'survivor', '-o', 'json']);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({ name: 'survivor', spec: { address: '127.0.0.9' } });
  });

  it('serves the example cluster over DNS, and a change through the CLI reaches DNS without a restart', async () => {
    node = await startUpProcess(dir, ['--no-lb', '--example', join(REPO, 'examples', 'cluster.yaml')]);
    const [host, port] = node.dnsAddress.split(':') as [string, string];
    const dig = (name: string, type = 'A') =>
      run('dig', ['+short', '+tries=1', '+time=2', '-p', port, `@${host}`, name, type]);
    // Host-mode tasks answer with their node's address, ip-per-container ones with their own.
    expect((await dig('web.marathon.mesos')).stdout.trim()).toBe('127.0.0.1');
    expect((await dig('cache.marathon.mesos')).stdout.trim()).toBe('198.18.1.2');
    expect((await dig('_web._tcp.marathon.mesos', 'SRV')).stdout).toMatch(/ 3100[12] /);
    await sy(['delete', 'task', 'cache.e5f6a7b8-0001']);
    await eventually(async () => expect((await dig('cache.marathon.mesos')).stdout.trim()).toBe(''));
  });

  it('runs `switchyard dns` alone against the state API over gRPC', async () => {
    node = await startUpProcess(dir, ['--no-lb', '--example', join(REPO, 'examples', 'cluster.yaml')]);
    const child = spawn(
      process.execPath,
      switchyardArgv([
        '--server',
        node.grpcAddress,
        'dns',
        '--listen',
        '127.0.0.1:0',
        '--no-http',
        '--no-recursion',
      ]),
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const address = await eventually(() => /udp\+tcp (\S+):(\d+)/.exec(out) ?? false, 15000);
      if (address === false) throw new Error('unreachable');
      const dig = (name: string) =>
        run('dig', [
          '+short',
          '+tries=1',
          '+time=2',
          '-p',
          address[2] as string,
          `@${address[1] as string}`,
          name,
        ]);
      await eventually(async () =>
        expect((await dig('cache.marathon.mesos')).stdout.trim()).toBe('198.18.1.2'),
      );
      // Recursion is off: a name outside the zones is refused, not forwarded.
      const refused = await run('dig', [
        '+tries=1',
        '+time=2',
        '-p',
        address[2] as string,
        `@${address[1] as string}`,
        'example.org',
      ]);
      expect(refused.stdout).toContain('status: REFUSED');
    } finally {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      expect(await exited).toBe(0); // a clean exit on SIGTERM
      clearTimeout(killer);
    }
  });

  it('routes a service through the embedded proxy to the tasks applied with the CLI', async () => {
    const backends = await Promise.all(['one', 'two'].map((id) => startBackend(id)));
    try {
      node = await startUpProcess(dir, ['--no-dns']);
      const servicePort = await freePort();
      const manifest = [
        'kind: Network\nname: default\nspec: {podCIDR: 198.18.0.0/16, nodeSubnetPrefix: 24, serviceCIDR: 198.19.0.0/16}',
        'kind: Node\nname: node-1\nspec: {address: 127.0.0.1}',
        ...backends.map(
          (b) =>
            `kind: Task\nname: echo-${b.id}\nlabels: {app: echo}\nspec: {app: echo, framework: marathon, node: node-1, ` +
            `state: running, health: healthy, networkMode: host, ports: [{name: http, containerPort: ${b.port}, hostPort: ${b.port}}]}`,
        ),
        `kind: Service\nname: echo\nspec: {selector: {app: echo}, ports: [{name: http, port: ${servicePort}, targetPort: http, mode: http}], ` +
          'loadBalancing: {healthCheck: {type: http, path: /, intervalMs: 200, rise: 1, fall: 2}}}',
      ].join('\n---\n');
      expect((await sy(['apply', '-f', '-'], manifest)).code).toBe(0);
      // Backends start DOWN and join after their first passing check; then round-robin over both.
      const seen = await eventually(async () => {
        const ids = new Set<string>();
        for (let i = 0; i < 4; i++) ids.add(await (await fetch(`http://127.0.0.1:${servicePort}/`)).text());
        expect([...ids].sort()).toEqual(['one', 'two']);
        return ids;
      }, 15000);
      expect(seen.size).toBe(2);
      const stats = await (await fetch(`${node.lbAdminUrl ?? ''}/stats.json`)).text();
      expect(stats).toContain('echo-one');
    } finally {
      await Promise.all(backends.map((b) => b.close()));
    }
  });

  it.each([{ signal: 'SIGTERM' as const }, { signal: 'SIGINT' as const }])(
    'shuts down cleanly on $signal and can start again on the same data',
    async ({ signal }) => {
      node = await startUpProcess(dir);
      expect(await node.stop(signal)).toBe(0);
      expect(node.output()).toContain('Stopped.');
      node = await startUpProcess(dir);
    },
  );
});
