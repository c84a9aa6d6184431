import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  REPO,
  runSwitchyard,
  startUpProcess,
  switchyardArgv,
  type NodeProcess,
} from '../helpers/cli-process';
import { eventually } from '../helpers/eventually';
import { freePort, startBackend, type TestBackend } from '../helpers/net';

// `switchyard lb` as a process against `switchyard up` (started with --no-lb, so the standalone
// proxy is the only one binding the service port on 127.0.0.1).
describe('switchyard lb (process)', () => {
  let dir: string;
  let node: NodeProcess | undefined;
  let backend: TestBackend | undefined;
  let lb: ChildProcess | undefined;
  let lbExited: Promise<number | null> | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sy-lb-'));
  });
  afterAll(async () => {
    if (lb !== undefined && lb.exitCode === null && lb.signalCode === null) {
      lb.kill('SIGKILL');
      await lbExited;
    }
    await node?.stop('SIGKILL');
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('routes a service to its task, serves lb metrics, and exits 0 on SIGTERM', async () => {
    backend = await startBackend('standalone');
    node = await startUpProcess(dir, ['--no-lb', '--no-dns']);
    const servicePort = await freePort();
    const manifest = [
      // A loopback service CIDR: should a VIP appear, the proxy would bind it on loopback only.
      'kind: Network\nname: default\nspec: {podCIDR: 198.18.0.0/16, nodeSubnetPrefix: 24, serviceCIDR: 127.77.0.0/16}',
      'kind: Node\nname: node-1\nspec: {address: 127.0.0.1}',
      'kind: Task\nname: echo-1\nlabels: {app: echo}\nspec: {app: echo, framework: marathon, node: node-1, ' +
        `state: running, health: healthy, networkMode: host, ports: [{name: http, containerPort: ${backend.port}, hostPort: ${backend.port}}]}`,
      `kind: Service\nname: echo\nspec: {selector: {app: echo}, ports: [{name: http, port: ${servicePort}, targetPort: http, mode: http}], ` +
        // Checks every 200 ms, UP after one pass: the backend joins quickly.
        'loadBalancing: {healthCheck: {type: http, path: /, intervalMs: 200, rise: 1, fall: 2}}}',
    ].join('\n---\n');
    const applied = await runSwitchyard(['--server', node.grpcAddress, '--data', dir, 'apply', '-f', '-'], {
      stdin: manifest,
    });
    expect(applied).toMatchObject({ code: 0, stderr: '' });

    const adminPort = await freePort();
    const child = spawn(
      process.execPath,
      switchyardArgv([
        'lb',
        '--server',
        node.grpcAddress,
        '--listen-host',
        '127.0.0.1',
        '--admin',
        `127.0.0.1:${adminPort}`,
        '--no-ingress',
        '--no-access-log',
      ]),
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    lb = child;
    lbExited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));

    // The state was there before the proxy started, so the service's frontend is bound at start.
    await eventually(() => out.includes('Load balancer listening'), 15000);
    expect(out).toContain(`http 127.0.0.1:${servicePort}`);
    expect(out).toContain(`admin http://127.0.0.1:${adminPort}`);

    // The backend starts DOWN and takes traffic after its first passing check.
    await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${servicePort}/`);
      expect(await res.text()).toBe('standalone');
    }, 15000);

    const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    expect(metrics).toContain('switchyard_lb_backend_up{');
    expect(metrics).toContain('switchyard_lb_frontend_requests_total{');

    child.kill('SIGTERM');
    expect(await lbExited).toBe(0);
    expect(out).toContain('Stopped.');
  });

  it('rejects a bad flag value with one line and exit code 1, before connecting', async () => {
    // No state API listens at this address: the flag is checked first.
    const run = await runSwitchyard(['--server', '127.0.0.1:1', 'lb', '--admin', 'localhost']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'error: --admin: expected host:port (e.g. 127.0.0.1:7480), got "localhost" (SY_CLI_USAGE)\n',
    );
  });
});
