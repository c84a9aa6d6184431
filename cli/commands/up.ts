import { readFileSync } from 'node:fs';
import { createLogger, type Logger } from '../../lib';
import type { ObjectInput, StateApi } from '../../state';
import { startDemoBackends } from '../demo';
import { startNode, type NodeOptions, type RunningNode } from '../node';
import { formatError } from '../errors';
import type { CliIo } from '../io';
import { parseManifests } from '../manifest';
import { describeRef } from './apply';

export interface UpOptions extends NodeOptions {
  /** Manifests applied at start, before DNS and the proxy start (idempotent). */
  examples: string[];
  /** Start a tiny HTTP server for each example task that would run on this machine. */
  demo?: boolean;
  logLevel?: string;
}

/**
 * Starts the node — with the example manifests applied before the consumers start, so DNS and
 * the proxy come up with them — and prints where each part listens (and, the first time, the
 * generated write token).
 */
export async function startUp(o: UpOptions, io: CliIo, logger: Logger): Promise<RunningNode> {
  const manifests = o.examples.map((file) => ({
    file,
    objects: parseManifests(readFileSync(file, 'utf8'), file),
  }));
  const demo = o.demo
    ? await startDemoBackends(
        manifests.flatMap((m) => m.objects),
        logger,
      )
    : undefined;
  let node: RunningNode;
  try {
    node = await startNode(o, logger, { seed: (store) => applyExamples(store, manifests, io) });
  } catch (err) {
    await demo?.close();
    throw err;
  }
  if (node.token.generated) {
    io.stdout.write(
      `Generated a write token (shown once; stored in ${node.token.path}):\n  ${node.token.token}\n`,
    );
  }
  const lines = [...node.lines, ...(demo?.lines ?? [])];
  io.stdout.write(
    [`Switchyard is up (data in ${node.dataDir})`, ...lines, 'Press Ctrl-C to stop.', ''].join('\n'),
  );
  return demo === undefined ? node : { ...node, close: () => node.close().then(() => demo.close()) };
}

async function applyExamples(
  store: Pick<StateApi, 'apply'>,
  manifests: { file: string; objects: ObjectInput[] }[],
  io: CliIo,
): Promise<void> {
  for (const { file, objects } of manifests) {
    let applied = 0;
    for (const input of objects) {
      try {
        await store.apply(input);
        applied++;
      } catch (err) {
        io.stderr.write(`${formatError(err, `${file}: ${describeRef(input)}`)}\n`);
      }
    }
    io.stdout.write(`Applied ${applied} of ${objects.length} objects from ${file}\n`);
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
