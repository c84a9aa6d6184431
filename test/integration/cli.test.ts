import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { silentLogger } from '../../lib';
import { createGrpcStateClient } from '../../state';
import { buildProgram, formatError, startNode, type CliIo, type RunningNode } from '../../cli';
import { eventually } from '../helpers/eventually';

// The CLI against a real all-in-one node (embedded store on disk, real gRPC and REST on loopback).
const EXAMPLE = join(__dirname, '..', '..', 'examples', 'cluster.yaml');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function capture(): { io: CliIo; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { io: { stdout, stderr, stdin: new PassThrough() }, out: () => out, err: () => err };
}

describe('switchyard CLI against an all-in-one node', () => {
  let dir: string;
  let node: RunningNode;
  let token: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-cli-'));
    node = await startNode(
      { dataDir: dir, http: '127.0.0.1:0', grpc: '127.0.0.1:0', token: 'test-token-123' },
      silentLogger(),
    );
    token = 'test-token-123';
  });
  afterAll(async () => {
    await node?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function cli(args: string[], options: { token?: string; stdin?: string } = {}): Promise<Run> {
    const c = capture();
    if (options.stdin !== undefined) (c.io.stdin as PassThrough).end(options.stdin);
    const result = { exitCode: 0 };
    const program = buildProgram(c.io, result, (o) =>
      createGrpcStateClient({ address: o.server ?? node.grpcAddress, token: options.token ?? token }),
    );
    let code: number;
    try {
      await program.parseAsync(['node', 'switchyard', ...args]);
      code = result.exitCode;
    } catch (err) {
      c.io.stderr.write(`${formatError(err)}\n`);
      code = 1;
    }
    return { code, stdout: c.out(), stderr: c.err() };
  }

  it('applies the example cluster, then reports every object unchanged the second time', async () => {
    const first = await cli(['apply', '-f', EXAMPLE]);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toContain('network/default created');
    expect(first.stdout).toContain('task/web.a1b2c3d4-0001 created');
    const second = await cli(['apply', '-f', EXAMPLE]);
    expect(second.code).toBe(0);
    expect(
      second.stdout
        .trim()
        .split('\n')
        .every((l) => l.endsWith(' unchanged')),
    ).toBe(true);
  });

  it('allocates the named VIP of the example app from the service CIDR, with both tasks as backends', async () => {
    const vip = await eventually(async () => {
      const run = await cli(['get', 'vip', 'web.marathon', '-o', 'json']);
      expect(run.code).toBe(0);
      return JSON.parse(run.stdout) as { spec: { address: string; backends: unknown[] } };
    });
    expect(vip.spec.address).toMatch(/^127\.77\./);
    expect(vip.spec.backends).toHaveLength(2);
    const table = await cli(['get', 'vips']);
    expect(table.stdout).toMatch(/^NAME\s+ADDRESS\s+PORTS\s+BACKENDS/);
    expect(table.stdout).toContain('web.marathon');
  });

  it('gets tasks as an aligned table, filtered by a label selector', async () => {
    const run = await cli(['get', 'tasks', '-l', 'app=web']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+APP\s+FRAMEWORK\s+NODE\s+STATE\s+HEALTH\s+IPS\s+PORTS$/);
    expect(lines).toHaveLength(3);
    // Aligned: every row starts its NAME column where the header does.
    const nameAt = (lines[0] as string).indexOf('NAME ');
    for (const l of lines.slice(1)) expect(l.slice(nameAt)).toMatch(/^web\.a1b2c3d4-000[12] /);
    const none = await cli(['get', 'tasks', '-l', 'app=nothing']);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('No task objects found');
  });

  it('prints json and yaml that apply reads back', async () => {
    const json = await cli(['get', 'services', 'web', '-o', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ kind: 'Service', name: 'web', namespace: 'default' });
    const yaml = await cli(['get', 'tasks', '-o', 'yaml']);
    expect(yaml.stdout).toContain('kind: TaskList');
    const reapply = await cli(['apply', '-f', '-'], { stdin: yaml.stdout });
    expect(reapply.code).toBe(0);
    expect(reapply.stdout).toContain('task/default/web.a1b2c3d4-0001 unchanged');
  });

  it('describes a service with the tasks behind it', async () => {
    const run = await cli(['describe', 'service', 'web']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Name:\s+web$/m);
    expect(run.stdout).toContain('web.a1b2c3d4-0001  running/healthy');
  });

  it('reports a bad object in one line with the field and code, applies the good ones, exits 1', async () => {
    const file = join(dir, 'mixed.yaml');
    writeFileSync(
      file,
      [
        'kind: Task\nname: bad-port\nspec: {app: web, framework: marathon, node: node-1, state: running,',
        '  networkMode: host, ports: [{containerPort: 70000, hostPort: 80}]}',
        '---',
        'kind: Node\nname: node-2\nspec: {address: 127.0.0.2}',
      ].join('\n'),
    );
    const run = await cli(['apply', '-f', file]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(
      /^error: task\/bad-port: spec\.ports\[0\]\.containerPort: .*\(SY_STATE_INVALID\)$/m,
    );
    expect(run.stdout).toContain('node/node-2 created');
    expect((await cli(['get', 'tasks', 'bad-port'])).code).toBe(1);
  });

  it('refuses writes with a wrong token and changes nothing', async () => {
    const before = await cli(['get', 'nodes', '-o', 'json']);
    const run = await cli(['delete', 'node', 'node-2'], { token: 'wrong' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('SY_STATE_UNAUTHENTICATED');
    expect((await cli(['get', 'nodes', '-o', 'json'])).stdout).toBe(before.stdout);
  });

  it('deletes by name, and a second delete is a clear not-found error', async () => {
    expect((await cli(['delete', 'node', 'node-2'])).stdout).toBe('node/node-2 deleted\n');
    const again = await cli(['delete', 'node', 'node-2']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('SY_STATE_NOT_FOUND');
  });

  it('rejects an unknown kind and says what it expected', async () => {
    const run = await cli(['get', 'pods']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('unknown kind "pods"');
  });

  it('says clearly when the state API cannot be reached', async () => {
    const run = await cli(['--server', '127.0.0.1:1', 'get', 'tasks']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot reach the state API at 127.0.0.1:1');
  });
});
