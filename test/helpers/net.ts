import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestBackend {
  id: string;
  port: number;
  close(): Promise<void>;
}

/** A small HTTP server on 127.0.0.1 that answers every request with its id. */
export async function startBackend(id: string): Promise<TestBackend> {
  const server = createServer((_req, res) => res.end(id));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { id, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A loopback port that was free a moment ago (bind it soon). */
export async function freePort(): Promise<number> {
  const probe = await startBackend('probe');
  await probe.close();
  return probe.port;
}
