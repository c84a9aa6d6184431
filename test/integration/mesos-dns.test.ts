import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO, switchyardArgv } from '../helpers/cli-process';
import { eventually } from '../helpers/eventually';

// `switchyard dns --mesos-dns-config config.json` as a drop-in Mesos-DNS: a Mesos master (a
// loopback HTTP server serving a recorded-format state; there is no Mesos here) feeds an
// in-process state, and DNS answers from it. Every address is an IP literal, so nothing is looked
// up outside the machine.
const run = promisify(execFile);

function mesosState(tasks: { name: string; ip: string }[], self: string): Record<string, unknown> {
  return {
    version: '1.11.0',
    id: 'master-1',
    pid: `master@${self}`,
    hostname: '127.0.0.1',
    leader: `master@${self}`,
    slaves: [{ id: 'S1', pid: 'slave(1)@127.0.0.1:5051', hostname: '127.0.0.1', port: 5051, active: true }],
    frameworks: [
      {
        id: 'F1',
        name: 'marathon',
        pid: `scheduler@${self}`,
        hostname: '127.0.0.1',
        active: true,
        tasks: tasks.map((t, i) => ({
          id: `${t.name}.0000000${i}`,
          name: t.name,
          framework_id: 'F1',
          slave_id: 'S1',
          state: 'TASK_RUNNING',
          resources: { ports: '[31000-31000]' },
          statuses: [
            {
              state: 'TASK_RUNNING',
              timestamp: 1700000000 + i,
              container_status: { network_infos: [{ ip_addresses: [{ ip_address: t.ip }] }] },
            },
          ],
        })),
      },
    ],
  };
}

describe('switchyard dns --mesos-dns-config', () => {
  let dir: string;
  let master: Server;
  let tasks: { name: string; ip: string }[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-mesos-dns-'));
    tasks = [{ name: 'web', ip: '198.18.1.7' }];
    master = createServer((req, res) => {
      const self = `127.0.0.1:${(master.address() as AddressInfo).port}`;
      if (req.url !== '/master/state') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(mesosState(tasks, self)));
    });
    await new Promise<void>((resolve) => master.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => master.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows the master and answers for its tasks, dropping a task once Mesos drops it', async () => {
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        masters: [`127.0.0.1:${(master.address() as AddressInfo).port}`],
        refreshSeconds: 1,
        ttl: 60,
        domain: 'mesos',
        port: 8053,
        externalon: false,
        httpon: false,
        IPSources: ['netinfo', 'mesos', 'host'],
      }),
    );
    const child = spawn(
      process.execPath,
      switchyardArgv(['dns', '--mesos-dns-config', config, '--listen', '127.0.0.1:0', '--log-level', 'warn']),
      { cwd: REPO, env: { ...process.env, SWITCHYARD_SERVER: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    try {
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
      await eventually(
        async () => expect((await dig('web.marathon.mesos')).stdout.trim()).toBe('198.18.1.7'),
        10000,
      );
      tasks = [];
      await eventually(async () => expect((await dig('web.marathon.mesos')).stdout.trim()).toBe(''), 10000);
    } finally {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      expect(await exited).toBe(0);
      clearTimeout(killer);
    }
  });
});
