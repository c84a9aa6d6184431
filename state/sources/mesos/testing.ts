// Test helpers: loopback "Mesos masters" serving the recorded state (there is no Mesos here).
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export const LEADER_FIXTURE = readFileSync(join(__dirname, 'testdata', 'state-leader.json'), 'utf8');
export const STANDBY_FIXTURE = readFileSync(join(__dirname, 'testdata', 'state-standby.json'), 'utf8');

/** What a fake master does with a request for its state. */
export type MasterBehaviour =
  /** The leader: serves `state` at /master/state with `leader` naming itself. */
  | { kind: 'leader'; state?: unknown; legacyOnly?: boolean }
  /** A standby in a newer Mesos: 307 to the leader. */
  | { kind: 'redirect'; to: () => string }
  /** A standby in an older Mesos: answers its own (empty) state naming the leader. */
  | { kind: 'standby'; leader: () => string }
  | { kind: 'status'; code: number }
  | { kind: 'body'; text: string }
  /** Accepts the request and never answers. */
  | { kind: 'hang' };

export interface FakeMaster {
  readonly address: string;
  /** `METHOD path` of every request, in order. */
  readonly requests: string[];
  readonly headers: IncomingMessage['headers'][];
  behaviour: MasterBehaviour;
  close(): Promise<void>;
}

function withLeader(state: unknown, leader: string): string {
  const doc = structuredClone(state ?? JSON.parse(LEADER_FIXTURE)) as Record<string, unknown>;
  doc.leader = `master@${leader}`;
  delete doc.leader_info;
  return JSON.stringify(doc);
}

function respond(master: FakeMaster, req: IncomingMessage, res: ServerResponse): void {
  const b = master.behaviour;
  const path = req.url ?? '';
  const json = (text: string): void => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(text);
  };
  switch (b.kind) {
    case 'leader': {
      const served = b.legacyOnly === true ? '/master/state.json' : '/master/state';
      if (path !== served) res.writeHead(404).end('Not Found');
      else json(withLeader(b.state, master.address));
      return;
    }
    case 'redirect':
      res.writeHead(307, { location: `//${b.to()}${path}` }).end();
      return;
    case 'standby':
      json(withLeader(JSON.parse(STANDBY_FIXTURE), b.leader()));
      return;
    case 'status':
      res.writeHead(b.code).end('Service Unavailable');
      return;
    case 'body':
      json(b.text);
      return;
    case 'hang':
      return;
  }
}

export async function startFakeMaster(behaviour: MasterBehaviour): Promise<FakeMaster> {
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((req, res) => {
    master.requests.push(`${req.method} ${req.url}`);
    master.headers.push(req.headers);
    respond(master, req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const master: FakeMaster = {
    address: `127.0.0.1:${port}`,
    requests: [],
    headers: [],
    behaviour,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return master;
}

/** A loopback port nothing listens on (bound, then closed). */
export async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

/** The recorded leader state, parsed, for tests that edit it. */
export function leaderState(): Record<string, unknown> {
  return JSON.parse(LEADER_FIXTURE) as Record<string, unknown>;
}

/** Lookups for the host names in the fixture (no real DNS in tests). */
export const FIXTURE_LOOKUP = async (host: string): Promise<readonly string[]> =>
  ({ 'agent-3.example.org': ['198.18.1.3'], 'spark-driver.example.org': ['198.18.0.20'] })[host] ?? [];
