import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger, createRegistry, type Logger } from '../../lib';
import { ensureToken, openEmbeddedStore, startStateServer, type StateServer } from '../../state';
import { parseHostPort } from '../defaults';
import { formatError } from '../errors';
import type { CliIo } from '../io';
import { parseManifests } from '../manifest';
import { describeRef } from './apply';

export interface UpOptions {
  dataDir: string;
  http: string;
  grpc: string;
  token?: string;
  /** Manifests applied at start (idempotent: unchanged objects stay unchanged). */
  examples: string[];
  logLevel?: string;
}

export interface RunningNode {
  dataDir: string;
  httpUrl: string;
  grpcAddress: string;
  socketPath: string;
  close(): Promise<void>;
}

/**
 * The all-in-one node: the embedded store and the state API (REST, gRPC on TCP and on a unix
 * socket in the data dir). The other parts join here as they land. Prints where each part listens.
 */
export async function startNode(o: UpOptions, io: CliIo, logger: Logger): Promise<RunningNode> {
  const dataDir = resolve(o.dataDir);
  const registry = createRegistry({ processMetrics: true });
  const store = await openEmbeddedStore({
    dir: join(dataDir, 'state'),
    logger: logger.child({ room: 'state' }),
    registry,
  });
  const closers: Array<() => Promise<void>> = [() => store.close()];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse())
      await close().catch((err: unknown) => logger.error({ err }, 'Close failed'));
  };
  try {
    const token = ensureToken(dataDir, o.token ?? process.env.SWITCHYARD_TOKEN);
    const socketPath = join(dataDir, 'run', 'state.sock');
    const server: StateServer = await startStateServer({
      api: store,
      token: token.token,
      http: parseHostPort(o.http, '--http'),
      grpc: { address: [o.grpc, `unix://${socketPath}`] },
      logger: logger.child({ room: 'state' }),
      registry,
      ready: () => true,
    });
    closers.push(() => server.close());
    const httpUrl = `http://${formatHost(server.httpAddress?.host ?? '')}:${server.httpAddress?.port ?? 0}`;
    const grpcAddress = server.grpcAddress ?? o.grpc;
    if (token.generated) {
      io.stdout.write(`Generated a write token (shown once; stored in ${token.path}):\n  ${token.token}\n`);
    }
    await applyExamples(store, o.examples, io);
    io.stdout.write(
      [
        `Switchyard is up (data in ${dataDir})`,
        `  state API  REST ${httpUrl}  gRPC ${grpcAddress}  socket unix://${socketPath}`,
        `  metrics    ${httpUrl}/metrics   health ${httpUrl}/healthz`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    return { dataDir, httpUrl, grpcAddress, socketPath, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function applyExamples(
  store: { apply: (i: ReturnType<typeof parseManifests>[number]) => Promise<{ revision: number }> },
  files: string[],
  io: CliIo,
): Promise<void> {
  for (const file of files) {
    const objects = parseManifests(readFileSync(file, 'utf8'), file);
    for (const input of objects) {
      try {
        await store.apply(input);
      } catch (err) {
        io.stderr.write(`${formatError(err, `${file}: ${describeRef(input)}`)}\n`);
      }
    }
    io.stdout.write(`Applied ${objects.length} objects from ${file}\n`);
  }
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** `switchyard up`: start, then wait for Ctrl-C (or SIGTERM) and shut everything down cleanly. */
export async function runUp(o: UpOptions, io: CliIo): Promise<number> {
  const logger = createLogger(o.logLevel === undefined ? {} : { level: o.logLevel });
  // Handlers go in before anything starts: a signal during start-up still shuts down cleanly.
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const node = await startNode(o, io, logger);
  const signal = await stopped;
  io.stdout.write(`\nReceived ${signal}, shutting down…\n`);
  process.once('SIGINT', () => process.exit(130)); // a second Ctrl-C does not wait
  await node.close();
  io.stdout.write('Stopped.\n');
  return 0;
}
