import { createLogger } from '../../lib';
import { startLoadBalancer } from '../../lb';
import { createGrpcStateClient, createInformer } from '../../state';

/**
 * The proxy of one simulated host, for the netns suites: run inside the host namespace with
 * `ip netns exec HOST node -r test/helpers/ts-register.js test/netns/lb-main.ts`, it follows the
 * shared state server over gRPC (SY_STATE, SY_TOKEN) and serves what it compiles, VIPs included.
 * SY_LISTEN is the Service frontends' address; health checks are fast (SY_CHECK_MS, default 200).
 * Prints `proxy ready` once the first table is bound; SIGTERM closes it.
 */
async function main(): Promise<void> {
  const address = process.env.SY_STATE;
  if (address === undefined) throw new Error('SY_STATE (the gRPC address of the state API) is required');
  const token = process.env.SY_TOKEN;
  const api = createGrpcStateClient(token === undefined ? { address } : { address, token });
  const logger = createLogger({ level: process.env.SWITCHYARD_LOG_LEVEL ?? 'warn', destination: 2 });
  const stop = new AbortController();
  const checkMs = Number(process.env.SY_CHECK_MS ?? 200);
  const lb = await startLoadBalancer({
    informer: createInformer({ api, logger, signal: stop.signal }),
    listenHost: process.env.SY_LISTEN ?? '127.0.0.1',
    ingressPort: null,
    admin: false,
    accessLog: false,
    bindRetryMs: 50,
    healthDefaults: { type: 'tcp', intervalMs: checkMs, timeoutMs: checkMs, rise: 1, fall: 2 },
    logger,
  });
  process.stdout.write('proxy ready\n');
  process.once('SIGTERM', () => {
    stop.abort();
    void lb.close({ graceMs: 0 }).finally(() => {
      api.close();
      process.exit(0);
    });
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`lb-main: ${(error as Error).message}\n`);
  process.exit(2);
});
