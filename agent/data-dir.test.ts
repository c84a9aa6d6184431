import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore } from '../state';
import { startAgent, type Agent } from './agent';
import { parseAgentConfig } from './config';

// One agent per data dir: its IPAM journal must have one writer. Runs without root: the agent's
// host commands go to a recorder, and with no Network object it never leases or touches the host.

const dirs: string[] = [];
const agents: Agent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function start(dir: string, name: string): Promise<Agent> {
  const config = parseAgentConfig({
    nodeName: name,
    nodeAddress: '198.18.0.1',
    dataDir: join(dir, 'data'),
    socketPath: join(dir, `${name}.sock`),
    hostGatewayRoutes: false,
    bindVips: false,
    reportTasks: false,
  });
  const run = (): Promise<{ stdout: string; stderr: string; code: number }> =>
    Promise.resolve({ stdout: '', stderr: '', code: 0 });
  return startAgent({ config, api: createMemoryStore(), run, writeSysctl: () => Promise.resolve() });
}

test('a second agent on the same data dir is refused until the first one stops', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-agent-lock-'));
  dirs.push(dir);
  const first = await start(dir, 'one');
  agents.push(first);
  await expect(start(dir, 'two')).rejects.toMatchObject({
    code: 'SY_AGENT_DATA_DIR_LOCKED',
    message: expect.stringContaining(`running process ${process.pid}`),
  });
  await agents.pop()?.close();
  agents.push(await start(dir, 'three'));
});
