import { readFileSync } from 'node:fs';
import { createLogger, type Logger } from '../../lib';
import type { StateApi } from '../../state';
import { startNode, type NodeOptions, type RunningNode } from '../node';
import { formatError } from '../errors';
import type { CliIo } from '../io';
import { parseManifests } from '../manifest';
import { describeRef } from './apply';

export interface UpOptions extends NodeOptions {
  /** Manifests applied at start (idempotent: unchanged objects stay unchanged). */
  examples: string[];
  logLevel?: string;
}

/**
 * Starts the node, applies the example manifests, and prints where each part listens (and, the
 * first time, the generated write token).
 */
export async function startUp(o: UpOptions, io: CliIo, logger: Logger): Promise<RunningNode> {
  const node = await startNode(o, logger);
  try {
    if (node.token.generated) {
      io.stdout.write(
        `Generated a write token (shown once; stored in ${node.token.path}):\n  ${node.token.token}\n`,
      );
    }
    await applyExamples(node.store, o.examples, io);
  } catch (err) {
    await node.close();
    throw err;
  }
  io.stdout.write(
    [`Switchyard is up (data in ${node.dataDir})`, ...node.lines, 'Press Ctrl-C to stop.', ''].join('\n'),
  );
  return node;
}

async function applyExamples(store: Pick<StateApi, 'apply'>, files: string[], io: CliIo): Promise<void> {
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

/** `switchyard up`: start, then wait for Ctrl-C (or SIGTERM) and shut everything down cleanly. */
export async function runUp(o: UpOptions, io: CliIo): Promise<number> {
  const logger = createLogger(o.logLevel === undefined ? {} : { level: o.logLevel });
  // Handlers go in before anything starts: a signal during start-up still shuts down cleanly.
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const node = await startUp(o, io, logger);
  const signal = await stopped;
  io.stdout.write(`\nReceived ${signal}, shutting down…\n`);
  process.once('SIGINT', () => process.exit(130)); // a second Ctrl-C does not wait
  await node.close();
  io.stdout.write('Stopped.\n');
  return 0;
}
