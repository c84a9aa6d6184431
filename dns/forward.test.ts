import dgram from 'node:dgram';
import { createRegistry, type Registry } from '../lib';
import { Forwarder } from './forward';
import { parseQuery } from './query';
import { startDnsServer, type DnsServer } from './start';
import { dig } from './testing/dig';
import { network, node, task } from './testing/fixtures';

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function queriesSeen(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric('switchyard_dns_queries_total')?.get();
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

/** A UDP socket that swallows queries: an upstream that is down without saying so. */
async function blackHole(): Promise<{ port: number; received: () => number }> {
  const socket = dgram.createSocket('udp4');
  let count = 0;
  socket.on('message', () => count++);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { port: socket.address().port, received: () => count };
}

let upstream: DnsServer;
let upstreamRegistry: Registry;
let dead: { port: number; received: () => number };
let server: DnsServer;

beforeAll(async () => {
  upstreamRegistry = createRegistry();
  upstream = await startDnsServer({
    port: 0,
    httpPort: false,
    forwarding: false,
    registry: upstreamRegistry,
    snapshot: {
      networks: [network({ mesosDomain: 'example.org' })],
      nodes: [node('node-s1', '198.18.1.1')],
      tasks: [
        task('u-1', { app: 'web', ips: ['198.18.40.1'] }),
        task('u-2', { app: 'api', ips: ['198.18.40.2'] }),
      ],
      services: [],
      revision: 9,
      options: { ttl: 30 },
    },
  });
  cleanups.push(() => upstream.close());
  dead = await blackHole();
  server = await startDnsServer({
    port: 0,
    httpPort: false,
    snapshot: { networks: [network()], nodes: [], tasks: [], services: [] },
    upstreams: [`127.0.0.1:${dead.port}`, `127.0.0.1:${upstream.udpAddress.port}`],
    forwardTimeoutMs: 300,
  });
  cleanups.push(() => server.close());
});

describe('forwarding out-of-zone names to upstreams on loopback', () => {
  it('fails over from a silent upstream to a live one (UDP)', async () => {
    const result = await dig(server.udpAddress.port, ['web.marathon.example.org', 'A']);
    expect(result.status).toBe('NOERROR');
    expect(result.answer).toEqual(['web.marathon.example.org. 30 IN A 198.18.40.1']);
    expect(result.flags).toContain('ra');
    expect(dead.received()).toBe(1);
  });

  it('starts from the upstream that answered last', async () => {
    const result = await dig(server.udpAddress.port, ['api.marathon.example.org', 'A']);
    expect(result.answer).toEqual(['api.marathon.example.org. 30 IN A 198.18.40.2']);
    expect(dead.received()).toBe(1);
  });

  it('answers repeated queries from its cache', async () => {
    const before = await queriesSeen(upstreamRegistry);
    const again = await dig(server.udpAddress.port, ['WEB.marathon.example.org', 'A']);
    expect(again.answer).toEqual(['WEB.marathon.example.org. 30 IN A 198.18.40.1']);
    expect(await queriesSeen(upstreamRegistry)).toBe(before);
  });

  it('forwards over TCP when asked over TCP and relays NXDOMAIN', async () => {
    const result = await dig(server.tcpAddress.port, ['nope.example.org', 'A', '+tcp']);
    expect(result.status).toBe('NXDOMAIN');
    expect(result.authority).toEqual([
      'example.org. 30 IN SOA ns1.example.org. hostmaster.example.org. 9 60 600 86400 30',
    ]);
  });

  it('answers SERVFAIL when every upstream fails', async () => {
    const lonely = await startDnsServer({
      port: 0,
      httpPort: false,
      snapshot: { networks: [network()], nodes: [], tasks: [], services: [] },
      upstreams: [`127.0.0.1:${dead.port}`],
      forwardTimeoutMs: 100,
    });
    cleanups.push(() => lonely.close());
    const result = await dig(lonely.udpAddress.port, ['web.marathon.example.org', 'A']);
    expect(result.status).toBe('SERVFAIL');
  });
});

describe('Forwarder cache', () => {
  function query(id: number, name: string): Buffer {
    const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
    const header = Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
  }

  it('counts TTLs down and expires entries on the injected clock', async () => {
    let now = 1_000_000;
    const forwarder = new Forwarder([{ host: '127.0.0.1', port: upstream.udpAddress.port }], {
      now: () => now,
      timeoutMs: 500,
    });
    cleanups.push(() => forwarder.close());
    const ask = async (id: number): Promise<{ ttl: number; cached: boolean; id: number }> => {
      const request = query(id, 'api.marathon.example.org');
      const parsed = parseQuery(request);
      if (parsed.kind !== 'query') throw new Error('bad test query');
      const reply = await forwarder.forward(request, parsed.query, 'udp', 512);
      if (reply === undefined) throw new Error('no reply');
      // The A record's TTL sits 6 bytes after its 2-byte compressed owner name and type/class.
      const answerAt = request.length;
      return {
        ttl: reply.wire.readUInt32BE(answerAt + 6),
        cached: reply.cached,
        id: reply.wire.readUInt16BE(0),
      };
    };
    const before = await queriesSeen(upstreamRegistry);
    expect(await ask(1)).toEqual({ ttl: 30, cached: false, id: 1 });
    now += 10_000;
    expect(await ask(2)).toEqual({ ttl: 20, cached: true, id: 2 });
    expect(await queriesSeen(upstreamRegistry)).toBe(before + 1);
    now += 21_000;
    expect(await ask(3)).toEqual({ ttl: 30, cached: false, id: 3 });
    expect(await queriesSeen(upstreamRegistry)).toBe(before + 2);
  });
});
