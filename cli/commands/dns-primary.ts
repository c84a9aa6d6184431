import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRegistry, type Logger, type Registry } from '../../lib';
import { startStateServer, type StateApi } from '../../state';
import type { CliIo } from '../io';
import { CliError, CliErrorCode } from '../manifest';
import { serveClusterMetrics } from './dns-cluster-metrics';
import {
  commandLogger,
  listeningLine,
  readMesos,
  serverOptions,
  startMesos,
  untilSignal,
  type DnsCommandOptions,
} from './dns-serve';
import { WorkerPool } from './dns-workers';

export const MAX_WORKERS = 256;
/** How long workers get to stop on SIGTERM before they are killed. */
export const STOP_GRACE_MS = 5000;

/** `--workers N|auto`: 1…MAX_WORKERS, or `auto` for the CPUs this process may use. */
export function parseWorkers(text: string): number {
  if (text === 'auto') return Math.min(availableParallelism(), MAX_WORKERS);
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_WORKERS) {
    throw new CliError(
      CliErrorCode.USAGE,
      `--workers: expected a number of processes from 1 to ${MAX_WORKERS}, or auto; got "${text}"`,
      '--workers',
    );
  }
  return n;
}

/**
 * The primary of `switchyard dns --workers N`: it serves no DNS itself. It runs the Mesos source
 * (if configured: once for all workers, not once per worker), and when the state lives in this
 * process it serves that state to the workers over a private unix socket (the state API's own
 * gRPC server, as `switchyard up` serves its socket). Then it forks the workers, which share the
 * UDP socket, the TCP listener and the HTTP API port through node:cluster, restarts any that die,
 * answers their /metrics with the cluster-wide view, and on SIGINT/SIGTERM stops them and exits.
 */
export async function runDnsPrimary(api: StateApi, o: DnsCommandOptions, io: CliIo): Promise<number> {
  const count = o.workers ?? 1;
  const logger = commandLogger(o);
  const registry = createRegistry({ processMetrics: true });
  registry.setDefaultLabels({ worker: 'primary' });
  const stopped = untilSignal();
  const config = o.mesosDnsConfig === undefined ? undefined : await readMesos(o.mesosDnsConfig, logger);
  serverOptions(o, config); // a bad --listen or --http fails here, once, before any fork
  const parts: Array<() => Promise<void>> = [];
  try {
    if (config !== undefined) {
      const source = await startMesos(api, config, logger, registry);
      parts.push(() => source.stop());
    }
    const state = o.localState === true ? await serveLocalState(api, logger, registry) : undefined;
    if (state !== undefined) parts.push(() => state.close());
    const pool = new WorkerPool({
      count,
      logger,
      ...(state === undefined ? {} : { state: state.address }),
      onRestarted: (slot, pid) => io.stdout.write(`  worker ${slot} pid ${pid} (restarted)\n`),
    });
    parts.push(() => pool.stop(STOP_GRACE_MS));
    const stopMetrics = serveClusterMetrics({ registry, workers: () => pool.serving() });
    parts.push(async () => stopMetrics());
    const starting = pool.start();
    starting.catch(() => undefined); // handled by the race below, unless a signal won it
    const addresses = await Promise.race([starting, stopped.then(() => undefined)]);
    if (addresses !== undefined) {
      io.stdout.write(`${listeningLine(addresses)} (${count} workers)\n`);
      for (const { slot, pid } of pool.pids()) io.stdout.write(`  worker ${slot} pid ${pid}\n`);
      await stopped;
    }
  } finally {
    for (const close of parts.reverse()) {
      await close().catch((err: unknown) => logger.error({ err }, 'A part failed to stop'));
    }
  }
  return 0;
}

/**
 * The in-process state, served read-only to the workers: gRPC on a unix socket in a fresh 0700
 * directory, with a random write token nobody is told (the workers only list and watch).
 */
async function serveLocalState(
  api: StateApi,
  logger: Logger,
  registry: Registry,
): Promise<{ address: string; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-dns-'));
  const address = `unix://${join(dir, 'state.sock')}`;
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const server = await startStateServer({
      api,
      token: randomBytes(32).toString('hex'),
      grpc: { address },
      logger,
      registry,
    });
    return {
      address,
      close: async () => {
        await server.close();
        await remove();
      },
    };
  } catch (err) {
    await remove();
    throw err;
  }
}
