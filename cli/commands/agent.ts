import { runAgentMain } from '../../agent';
import type { CliIo } from '../io';

/**
 * `switchyard agent --config FILE`: the per-host agent (node lease, routes, the CNI service on its
 * unix socket) until Ctrl-C or SIGTERM. The config file names the state API (`state.address`).
 */
export async function runAgent(configPath: string, io: CliIo): Promise<number> {
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const stop = await runAgentMain(['--config', configPath]);
  io.stdout.write(`Agent running (config ${configPath}); Ctrl-C to stop.\n`);
  const signal = await stopped;
  io.stdout.write(`Received ${signal}, stopping the agent…\n`);
  await stop();
  return 0;
}
