import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO, switchyardArgv } from '../helpers/cli-process';
import { eventually } from '../helpers/eventually';
import { startMesosMaster, writeMesosDnsConfig, type MesosMaster } from '../helpers/mesos-master';

// `switchyard dns --mesos-dns-config config.json` as a drop-in Mesos-DNS: a Mesos master (a
// loopback HTTP server serving a recorded-format state; there is no Mesos here) feeds an
// in-process state, and DNS answers from it. Every address is an IP literal, so nothing is looked
// up outside the machine.
const run = promisify(execFile);

describe('switchyard dns --mesos-dns-config', () => {
  let dir: string;
  let master: MesosMaster;
  let tasks: { name: string; ip: string }[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-mesos-dns-'));
    tasks = [{ name: 'web', ip: '198.18.1.7' }];
    master = await startMesosMaster(() => tasks);
  });
  afterEach(async () => {
    await master.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows the master and answers for its tasks, dropping a task once Mesos drops it', async () => {
    const config = writeMesosDnsConfig(dir, master);
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
