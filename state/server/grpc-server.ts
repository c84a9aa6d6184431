import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { StateError, invalid } from '../errors';
import { isKind } from '../model';
import {
  asStateError,
  loadStateProto,
  optionalString,
  toGrpcStatus,
  toWireObject,
  wireToInput,
  wireToRef,
  type StateServiceHandlers,
} from '../proto';
import { isLocalOnlyAddress, unauthenticated, type TokenCheck } from './auth';
import { serveWatch } from './grpc-watch';
import type { ServerMetrics } from './metrics';
import type { ResolvedServerOptions } from './options';
import type { WatchTracker } from './watches';

export interface GrpcFrontDoor {
  /** The bound address, with the real port for `host:0`. */
  address: string;
  close(): Promise<void>;
}

interface GrpcDeps {
  options: ResolvedServerOptions;
  metrics: ServerMetrics;
  watches: WatchTracker;
  checkToken: TokenCheck;
}

type Method = 'Get' | 'List' | 'Apply' | 'Delete' | 'Watch';

function statusName(code: grpc.status): string {
  return grpc.status[code] ?? String(code);
}

function authorization(metadata: grpc.Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  return typeof value === 'string' ? value : undefined;
}

function createHandlers(deps: GrpcDeps, readsNeedToken: boolean): StateServiceHandlers {
  const { api, logger } = deps.options;
  const authorize = (metadata: grpc.Metadata, write: boolean): void => {
    if ((write || readsNeedToken) && !deps.checkToken(authorization(metadata))) throw unauthenticated();
  };
  /** Wraps one unary method: auth, error mapping to status + trailers, metrics. */
  function unary<Req, Res>(
    method: Method,
    write: boolean,
    run: (request: Req) => Promise<Res>,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const started = process.hrtime.bigint();
      const done = (code: grpc.status): void => {
        deps.metrics.grpcRequests.inc({ method, code: statusName(code) });
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        deps.metrics.requestDuration.observe({ transport: 'grpc', operation: method.toLowerCase() }, seconds);
      };
      Promise.resolve()
        .then(() => {
          authorize(call.metadata, write);
          return run(call.request);
        })
        .then(
          (response) => {
            done(grpc.status.OK);
            callback(null, response);
          },
          (error: unknown) => {
            if (!(error instanceof StateError))
              logger.error({ err: error }, 'gRPC request failed unexpectedly');
            const status = toGrpcStatus(asStateError(error));
            done(status.code ?? grpc.status.UNKNOWN);
            callback(status);
          },
        );
    };
  }
  return {
    Get: unary('Get', false, async (request) => toWireObject(await api.get(wireToRef(request.ref)))),
    List: unary('List', false, async (request) => {
      if (!isKind(request.kind)) throw invalid('kind', `unknown kind ${JSON.stringify(request.kind)}`);
      const result = await api.list({
        kind: request.kind,
        namespace: optionalString(request.namespace),
        selector: optionalString(request.selector),
      });
      return { items: result.items.map(toWireObject), revision: result.revision };
    }),
    Apply: unary('Apply', true, async (request) => {
      const options =
        request.expectedRevision === undefined ? {} : { expectedRevision: request.expectedRevision };
      return toWireObject(await api.apply(wireToInput(request.object), options));
    }),
    Delete: unary('Delete', true, async (request) => {
      const options =
        request.expectedRevision === undefined ? {} : { expectedRevision: request.expectedRevision };
      return toWireObject(await api.delete(wireToRef(request.ref), options));
    }),
    Watch: (call) => serveWatch(call, deps, () => authorize(call.metadata, false)),
  };
}

/** `unix:///dir/sock`: the directory is created 0700, or must already deny group and others. */
async function prepareUnixSocket(address: string): Promise<string> {
  const socketPath = address.replace(/^unix:(\/\/)?/, '');
  const dir = path.dirname(socketPath);
  if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mode = fs.statSync(dir).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw invalid('grpc.address', `socket directory ${dir} has mode ${mode.toString(8)}; it must be 0700`);
  }
  if (fs.existsSync(socketPath)) {
    const live = await new Promise<boolean>((resolve) => {
      const probe = net.connect(socketPath, () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (live) throw invalid('grpc.address', `another server is listening on ${socketPath}`);
    fs.unlinkSync(socketPath); // a stale socket from a crashed server
  }
  return socketPath;
}

function bind(server: grpc.Server, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => {
      if (error) reject(error);
      else resolve(port);
    });
  });
}

/** The gRPC front door (service switchyard.state.v1.State) on TCP or a unix socket. */
export async function startGrpcFrontDoor(deps: GrpcDeps, address: string): Promise<GrpcFrontDoor> {
  const { limits, anonymousReads } = deps.options;
  const readsNeedToken = !isLocalOnlyAddress(address) && !anonymousReads;
  const socketPath = address.startsWith('unix:') ? await prepareUnixSocket(address) : undefined;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': limits.maxBodyBytes,
    'grpc.max_send_message_length': limits.maxSendMessageBytes,
    // Pings find half-open connections under long, idle watches.
    'grpc.keepalive_time_ms': limits.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
  });
  server.addService(loadStateProto().service, createHandlers(deps, readsNeedToken));
  const port = await bind(server, address);
  const resolved = socketPath === undefined ? address.replace(/:\d+$/, `:${port}`) : address;
  return {
    address: resolved,
    close: async () => {
      await new Promise<void>((resolve) => {
        const grace = setTimeout(() => server.forceShutdown(), limits.closeGraceMs);
        server.tryShutdown(() => {
          clearTimeout(grace);
          resolve();
        });
      });
      if (socketPath !== undefined) fs.rmSync(socketPath, { force: true });
    },
  };
}
