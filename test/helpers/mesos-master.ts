import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A stand-in Mesos master on loopback: `/master/state` answers a recorded-format state with one
 * agent and one Marathon framework running `tasks()` (read on every request, so a test changes
 * what Mesos reports by changing what it returns). There is no Mesos here.
 */
export interface MesosMaster {
  /** `127.0.0.1:<port>`, as a Mesos-DNS config's `masters` entry. */
  readonly address: string;
  close(): Promise<void>;
}

export function mesosState(tasks: { name: string; ip: string }[], self: string): Record<string, unknown> {
  return {
    version: '1.11.0',
    id: 'master-1',
    pid: `master@${self}`,
    hostname: '127.0.0.1',
    leader: `master@${self}`,
    slaves: [{ id: 'S1', pid: 'slave(1)@127.0.0.1:5051', hostname: '127.0.0.1', port: 5051, active: true }],
    frameworks: [
      {
        id: 'F1',
        name: 'marathon',
        pid: `scheduler@${self}`,
        hostname: '127.0.0.1',
        active: true,
        tasks: tasks.map((t, i) => ({
          id: `${t.name}.0000000${i}`,
          name: t.name,
          framework_id: 'F1',
          slave_id: 'S1',
          state: 'TASK_RUNNING',
          resources: { ports: '[31000-31000]' },
          statuses: [
            {
              state: 'TASK_RUNNING',
              timestamp: 1700000000 + i,
              container_status: { network_infos: [{ ip_addresses: [{ ip_address: t.ip }] }] },
            },
          ],
        })),
      },
    ],
  };
}

export async function startMesosMaster(tasks: () => { name: string; ip: string }[]): Promise<MesosMaster> {
  const server: Server = createServer((req, res) => {
    const self = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url !== '/master/state') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(mesosState(tasks(), self)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A Mesos-DNS config.json in `dir` pointing at `master` (refresh 1 s), as the drop-in tests use it; its path. */
export function writeMesosDnsConfig(dir: string, master: MesosMaster): string {
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      masters: [master.address],
      refreshSeconds: 1,
      ttl: 60,
      domain: 'mesos',
      port: 8053,
      externalon: false,
      httpon: false,
      IPSources: ['netinfo', 'mesos', 'host'],
    }),
  );
  return config;
}
