import { createTokenCheck } from './auth';
import { startGrpcFrontDoor, type GrpcFrontDoor } from './grpc-server';
import { startHttpFrontDoor, type HttpFrontDoor } from './http-server';
import { createServerMetrics } from './metrics';
import { resolveServerOptions, type StateServerOptions } from './options';
import { WatchTracker } from './watches';

export interface StateServer {
  /** The REST listener's address, with the real port. */
  readonly httpAddress?: { host: string; port: number };
  /** The gRPC address as clients dial it: `host:port` with the real port, or `unix:///path`. */
  readonly grpcAddress?: string;
  /** Every gRPC address, in the order given. */
  readonly grpcAddresses: readonly string[];
  /** Open watches across both transports. */
  readonly activeWatches: number;
  /**
   * Ends every open watch stream cleanly; clients resume from their last revision. For draining
   * before a handover, and for tests that cut streams.
   */
  endWatches(): number;
  /** Ends watches, stops listening, and resolves once every connection is gone. */
  close(): Promise<void>;
}

/**
 * Starts the state API's front doors: REST/JSON on node:http and/or gRPC, over one StateApi.
 * Binds both before resolving; if the second fails, the first is closed again.
 */
export async function startStateServer(options: StateServerOptions): Promise<StateServer> {
  const resolved = resolveServerOptions(options);
  const metrics = createServerMetrics(resolved.registry);
  const watches = new WatchTracker(resolved.limits.maxWatches, metrics);
  const deps = { options: resolved, metrics, watches, checkToken: createTokenCheck(resolved.token) };
  let http: HttpFrontDoor | undefined;
  const grpc: GrpcFrontDoor[] = [];
  try {
    if (resolved.http !== undefined) http = await startHttpFrontDoor(deps, resolved.http);
    for (const address of resolved.grpc?.addresses ?? []) grpc.push(await startGrpcFrontDoor(deps, address));
  } catch (error) {
    await Promise.all([http?.close(), ...grpc.map((g) => g.close())]);
    throw error;
  }
  let closing: Promise<void> | undefined;
  const grpcAddresses = grpc.map((g) => g.address);
  resolved.logger.info({ http: http?.address, grpc: grpcAddresses }, 'State API listening');
  return {
    httpAddress: http?.address,
    grpcAddress: grpcAddresses[0],
    grpcAddresses,
    get activeWatches() {
      return watches.size;
    },
    endWatches: () => watches.endAll(),
    close: () => {
      closing ??= (async () => {
        watches.endAll();
        await Promise.all([http?.close(), ...grpc.map((g) => g.close())]);
        resolved.logger.info('State API stopped');
      })();
      return closing;
    },
  };
}
