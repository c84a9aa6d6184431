import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSwitchyard, startUpProcess, type NodeProcess } from '../helpers/cli-process';

// `switchyard up` as a real process: durability across kill -9, clean shutdown on SIGTERM/SIGINT.
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
