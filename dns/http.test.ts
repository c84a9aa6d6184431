import { createRegistry } from '../lib';
import { startDnsServer, type DnsServer } from './start';
import { dig } from './testing/dig';
import { network, node, task } from './testing/fixtures';

let server: DnsServer;
const registry = createRegistry();
let base: string;

beforeAll(async () => {
  server = await startDnsServer({
    port: 0,
    httpPort: 0,
    forwarding: false,
    registry,
    snapshot: {
      networks: [network()],
      nodes: [node('node-s2', '198.18.1.2')],
      tasks: [
        task('cache-1', {
          id: 'cache.5d0e7a22-4444-11ee-8a00-0242ac110001',
          app: 'cache',
          node: 'node-s2',
          networkMode: 'port-mapped',
          ports: [{ containerPort: 6379, hostPort: 31200, protocol: 'tcp' }],
        }),
        task('six-1', { app: 'six', node: 'node-s2', ips: ['fd00::6'] }),
      ],
      services: [],
    },
  });
  base = `http://127.0.0.1:${server.httpAddress?.port}`;
});
afterAll(async () => {
  await server.close();
});

async function get(path: string): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(base + path);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

describe('Mesos-DNS HTTP API', () => {
  const cases = [
    {
      desc: 'hosts: A records, name normalised',
      path: '/v1/hosts/Cache.Marathon.Mesos.',
      want: [{ host: 'cache.marathon.mesos.', ip: '198.18.1.2' }],
    },
    {
      desc: 'hosts: AAAA too',
      path: '/v1/hosts/six.marathon.mesos',
      want: [{ host: 'six.marathon.mesos.', ip: 'fd00::6' }],
    },
    { desc: 'hosts: unknown', path: '/v1/hosts/nope.mesos', want: [{ host: '', ip: '' }] },
    {
      desc: 'services: SRV target, first A, port as a string, service echoed raw',
      path: '/v1/services/_cache._tcp.marathon.mesos',
      want: [
        {
          service: '_cache._tcp.marathon.mesos',
          host: 'cache-em3sp-s2.marathon.slave.mesos.',
          ip: '198.18.1.2',
          port: '31200',
        },
      ],
    },
    {
      desc: 'services: unknown',
      path: '/v1/services/_nope._tcp.marathon.mesos',
      want: [{ service: '', host: '', ip: '', port: '' }],
    },
  ];
  it.each(cases)('$desc', async ({ path, want }) => {
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json');
    expect(JSON.parse(res.body)).toEqual(want);
    expect(res.body).toMatch(/^\[\n \{/);
  });

  it('version, config, ports, unknown paths', async () => {
    expect(JSON.parse((await get('/v1/version')).body)).toMatchObject({ Version: expect.any(String) });
    const config = JSON.parse((await get('/v1/config')).body) as Record<string, unknown>;
    expect(config).toMatchObject({
      Domain: 'mesos',
      ExternalOn: false,
      TTL: 5,
      EnforceRFC952: false,
      Resolvers: [],
    });
    expect((await get('/v1/hosts/x.mesos/ports')).status).toBe(501);
    expect(await get('/v1/nope')).toMatchObject({ status: 404, body: '404: Page Not Found' });
  });

  it('health, readiness and metrics', async () => {
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
    await dig(server.udpAddress.port, ['cache.marathon.mesos', 'A']);
    const metrics = await get('/metrics');
    expect(metrics.body).toMatch(
      /switchyard_dns_queries_total\{type="A",rcode="NOERROR",transport="udp"\} 1/,
    );
    expect(metrics.body).toMatch(/switchyard_dns_request_duration_seconds_count\{transport="udp"\} 1/);
    expect(metrics.body).toMatch(/switchyard_dns_records \d+/);
  });
});
