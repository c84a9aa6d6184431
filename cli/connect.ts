import { join } from 'node:path';
import { createGrpcStateClient, readTokenFile, type StateApi } from '../state';
import { DEFAULTS, env } from './defaults';

export interface ConnectOptions {
  server?: string;
  token?: string;
  data?: string;
}

/**
 * The state API a client command talks to: `--server` (or SWITCHYARD_SERVER) over gRPC, with the
 * token from `--token`, SWITCHYARD_TOKEN, or the local node's data dir — so on the host running
 * `switchyard up`, writes just work.
 */
export function connect(o: ConnectOptions): StateApi & { close(): void } {
  const address = o.server ?? env('SWITCHYARD_SERVER') ?? DEFAULTS.server;
  const token =
    o.token ?? env('SWITCHYARD_TOKEN') ?? readTokenFile(o.data ?? env('SWITCHYARD_DATA') ?? DEFAULTS.dataDir);
  return createGrpcStateClient({ address, ...(token === undefined ? {} : { token }) });
}

export function defaultDataDir(): string {
  return env('SWITCHYARD_DATA') ?? join(process.cwd(), DEFAULTS.dataDir);
}
