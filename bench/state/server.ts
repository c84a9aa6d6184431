/**
 * The state API server alone, in its own process, for bench:state — as etcd runs in its own
 * process: the embedded store on disk behind gRPC. Prints `listening <address>` when ready and
 * stops on SIGTERM. Usage: node dist/bench/state/server.js DATA_DIR TOKEN
 */
import { openEmbeddedStore, startStateServer } from '../../state';

async function main(): Promise<void> {
  const [dir, token] = process.argv.slice(2);
  if (dir === undefined || token === undefined) throw new Error('usage: server.js DATA_DIR TOKEN');
  const store = await openEmbeddedStore({ dir });
  const server = await startStateServer({
    api: store,
    token,
    grpc: { address: '127.0.0.1:0' },
    limits: { maxWatches: 5000 },
  });
  process.stdout.write(`listening ${server.grpcAddress ?? ''}\n`);
  process.once('SIGTERM', () => {
    void server
      .close()
      .then(() => store.close())
      .then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench state server: ${String(err)}\n`);
  process.exit(1);
});
