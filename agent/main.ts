import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { createLogger, createRegistry } from '../lib';
import { createGrpcStateClient } from '../state';
import { startAgent } from './agent';
import { parseAgentConfig } from './config';
import { AgentError, AgentErrorCode } from './errors';

/**
 * `node agent/main.js --config agent.yaml`: runs the agent against the state API's gRPC listener
 * until SIGTERM/SIGINT. (`switchyard agent` is meant to call `runAgentMain` too.)
 */
export async function runAgentMain(argv: readonly string[]): Promise<() => Promise<void>> {
  const at = argv.indexOf('--config');
  const path = at >= 0 ? argv[at + 1] : undefined;
  if (path === undefined)
    throw new AgentError(AgentErrorCode.CONFIG, 'usage: agent --config <file.json|file.yaml>');
  const config = parseAgentConfig(parseYaml(await readFile(path, 'utf8')));
  if (config.state === undefined)
    throw new AgentError(AgentErrorCode.CONFIG, 'state.address is required to run the agent', {
      field: 'state',
    });
  const token =
    config.state.token ??
    (config.state.tokenFile
      ? (await readFile(config.state.tokenFile, 'utf8')).trim()
      : process.env.SWITCHYARD_TOKEN);
  const api = createGrpcStateClient(
    token === undefined ? { address: config.state.address } : { address: config.state.address, token },
  );
  const logger = createLogger({ level: process.env.SWITCHYARD_LOG_LEVEL ?? 'info', destination: 2 });
  const agent = await startAgent({ config, api, logger, registry: createRegistry({ processMetrics: true }) });
  return async () => {
    await agent.close();
    api.close();
  };
}

if (require.main === module) {
  runAgentMain(process.argv.slice(2)).then(
    (stop) => {
      const shutdown = (): void => {
        stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    },
    (error: unknown) => {
      process.stderr.write(`switchyard agent: ${(error as Error).message}\n`);
      process.exit(2);
    },
  );
}
