import dgram from 'node:dgram';
import net from 'node:net';
import { createRegistry } from '../lib';
import type { ZoneSnapshot } from './compile';
import { startDnsServer, type DnsServer } from './start';
import { dig } from './testing/dig';
import { network, node, service, task, vip } from './testing/fixtures';

const bigTasks = Array.from({ length: 60 }, (_, i) =>
  task(`big-${i}`, { app: 'big', ips: [`198.18.30.${i + 1}`] }),
);

const snapshot: ZoneSnapshot = {
  networks: [network()],
  nodes: [node('node-s1', '198.18.1.1'), node('node-s2', '198.18.1.2')],
  tasks: [
    task('web-1', {
      id: 'web.1',
      app: 'group/web',
      ips: ['198.18.10.5'],
      ports: [{ name: 'http', containerPort: 8080, protocol: 'tcp' }],
    }),
    task('web-2', {
      id: 'web.2',
      app: 'group/web',
      ips: ['198.18.10.6'],
      ports: [{ name: 'http', containerPort: 8080, protocol: 'tcp' }],
    }),
    task('v6-1', { app: 'six', ips: ['fd00::6'] }),
    task('db-1', {
      id: 'db.1',
      app: 'db',
      node: 'node-s2',
      networkMode: 'port-mapped',
      ports: [{ name: 'pg', containerPort: 5432, hostPort: 31000, protocol: 'tcp' }],
    }),
    ...bigTasks,
  ],
  services: [
    service(
      'web',
      {
        selector: { app: 'group/web' },
        vip: { name: '/web', address: '198.19.0.10' },
        ports: [{ name: 'http', port: 80, protocol: 'tcp' }],
      },
      { namespace: 'prod', labels: { 'switchyard.io/framework': 'marathon' } },
    ),
    service('db', {
      selector: { app: 'db' },
      headless: true,
      ports: [{ name: 'pg', port: 5432, protocol: 'tcp' }],
    }),
  ],
  // What the VIP controller writes for the Service above (its framework label joins the app's name).
  vips: [
    vip('web', 'marathon', '198.19.0.10', {
      owners: [{ kind: 'service', namespace: 'prod', name: 'web', source: 'spec.vip' }],
    }),
  ],
  revision: 7,
  options: { masters: { addresses: ['198.18.0.1'], leader: '198.18.0.1' } },
};

let server: DnsServer;
const registry = createRegistry();

beforeAll(async () => {
  server = await startDnsServer({
    port: 0,
    httpPort: false,
    snapshot,
    forwarding: false,
    registry,
    tcpIdleTimeoutMs: 300,
  });
});
afterAll(async () => {
  await server.close();
});

const SOA_MESOS = 'mesos. 5 IN SOA ns1.mesos. hostmaster.mesos. 7 60 600 86400 5';

describe('record families over UDP and TCP (real dig)', () => {
  const cases = [
    {
      desc: 'task A (two instances)',
      q: ['web-group.marathon.mesos', 'A'],
      status: 'NOERROR',
      answer: [
        'web-group.marathon.mesos. 5 IN A 198.18.10.5',
        'web-group.marathon.mesos. 5 IN A 198.18.10.6',
      ],
    },
    {
      desc: 'task AAAA',
      q: ['six.marathon.mesos', 'AAAA'],
      status: 'NOERROR',
      answer: ['six.marathon.mesos. 5 IN AAAA fd00::6'],
    },
    {
      desc: '.slave. name',
      q: ['db.marathon.slave.mesos', 'A'],
      status: 'NOERROR',
      answer: ['db.marathon.slave.mesos. 5 IN A 198.18.1.2'],
    },
    {
      desc: 'legacy dotted Marathon name',
      q: ['web.group.marathon.mesos', 'A'],
      status: 'NOERROR',
      answer: [
        'web.group.marathon.mesos. 5 IN A 198.18.10.5',
        'web.group.marathon.mesos. 5 IN A 198.18.10.6',
      ],
    },
    {
      desc: 'named-port SRV with additional A',
      q: ['_pg._db._tcp.marathon.mesos', 'SRV'],
      status: 'NOERROR',
      answer: ['_pg._db._tcp.marathon.mesos. 5 IN SRV 0 1 31000 db-f3ink-s2.marathon.slave.mesos.'],
      additional: ['db-f3ink-s2.marathon.slave.mesos. 5 IN A 198.18.1.2'],
    },
    {
      desc: 'leader',
      q: ['leader.mesos', 'A'],
      status: 'NOERROR',
      answer: ['leader.mesos. 5 IN A 198.18.0.1'],
    },
    {
      desc: 'master0',
      q: ['master0.mesos', 'A'],
      status: 'NOERROR',
      answer: ['master0.mesos. 5 IN A 198.18.0.1'],
    },
    {
      desc: 'slave.mesos',
      q: ['slave.mesos', 'A'],
      status: 'NOERROR',
      answer: ['slave.mesos. 5 IN A 198.18.1.1', 'slave.mesos. 5 IN A 198.18.1.2'],
    },
    {
      desc: 'Kubernetes service VIP',
      q: ['web.prod.svc.cluster.local', 'A'],
      status: 'NOERROR',
      answer: ['web.prod.svc.cluster.local. 5 IN A 198.19.0.10'],
    },
    {
      desc: 'Kubernetes SRV',
      q: ['_http._tcp.web.prod.svc.cluster.local', 'SRV'],
      status: 'NOERROR',
      answer: ['_http._tcp.web.prod.svc.cluster.local. 5 IN SRV 0 100 80 web.prod.svc.cluster.local.'],
      additional: ['web.prod.svc.cluster.local. 5 IN A 198.19.0.10'],
    },
    {
      desc: 'headless service endpoints',
      q: ['db.default.svc.cluster.local', 'A'],
      status: 'NOERROR',
      answer: ['db.default.svc.cluster.local. 5 IN A 198.18.1.2'],
    },
    {
      desc: 'PTR of a service VIP',
      q: ['-x', '198.19.0.10'],
      status: 'NOERROR',
      answer: ['10.0.19.198.in-addr.arpa. 5 IN PTR web.prod.svc.cluster.local.'],
    },
    {
      desc: 'PTR of a task',
      q: ['-x', '198.18.10.5'],
      status: 'NOERROR',
      answer: ['5.10.18.198.in-addr.arpa. 5 IN PTR web-group-e844k-s1.marathon.mesos.'],
    },
    {
      desc: 'named VIP',
      q: ['web.marathon.l4lb.thisdcos.directory', 'A'],
      status: 'NOERROR',
      answer: ['web.marathon.l4lb.thisdcos.directory. 5 IN A 198.19.0.10'],
    },
    {
      desc: 'named VIP port SRV',
      q: ['_80._tcp.web.marathon.l4lb.thisdcos.directory', 'SRV'],
      status: 'NOERROR',
      answer: [
        '_80._tcp.web.marathon.l4lb.thisdcos.directory. 5 IN SRV 0 1 80 web.marathon.l4lb.thisdcos.directory.',
      ],
      additional: ['web.marathon.l4lb.thisdcos.directory. 5 IN A 198.19.0.10'],
    },
    {
      desc: 'dns-version TXT',
      q: ['dns-version.cluster.local', 'TXT'],
      status: 'NOERROR',
      answer: ['dns-version.cluster.local. 5 IN TXT "1.1.0"'],
    },
    { desc: 'apex SOA', q: ['mesos', 'SOA'], status: 'NOERROR', answer: [SOA_MESOS] },
    { desc: 'apex NS', q: ['mesos', 'NS'], status: 'NOERROR', answer: ['mesos. 5 IN NS ns1.mesos.'] },
    {
      desc: 'NXDOMAIN carries the SOA',
      q: ['nope.marathon.mesos', 'A'],
      status: 'NXDOMAIN',
      answer: [],
      authority: [SOA_MESOS],
    },
    {
      desc: 'NODATA (name exists, no AAAA) carries the SOA',
      q: ['leader.mesos', 'AAAA'],
      status: 'NOERROR',
      answer: [],
      authority: [SOA_MESOS],
    },
    {
      desc: 'empty non-terminal is NODATA',
      q: ['marathon.mesos', 'A'],
      status: 'NOERROR',
      answer: [],
      authority: [SOA_MESOS],
    },
    {
      desc: 'out of zone with forwarding off is REFUSED',
      q: ['example.org', 'A'],
      status: 'REFUSED',
      answer: [],
    },
  ];
  for (const transport of ['udp', 'tcp'] as const) {
    it.each(cases)(`${transport}: $desc`, async ({ q, status, answer, ...rest }) => {
      const result = await dig(server.udpAddress.port, [...q, ...(transport === 'tcp' ? ['+tcp'] : [])]);
      expect(result.status).toBe(status);
      expect(result.answer.sort()).toEqual(answer);
      if ('additional' in rest) expect(result.additional).toEqual(rest.additional);
      if ('authority' in rest) expect(result.authority).toEqual(rest.authority);
      if (status !== 'REFUSED') expect(result.flags).toContain('aa');
    });
  }
});

describe('protocol behaviour', () => {
  it('matches names case-insensitively and echoes the question as sent', async () => {
    const result = await dig(server.udpAddress.port, ['LeAdEr.MeSoS', 'A']);
    expect(result.status).toBe('NOERROR');
    expect(result.question).toEqual(['LeAdEr.MeSoS. IN A']);
    expect(result.answer).toEqual(['LeAdEr.MeSoS. 5 IN A 198.18.0.1']);
  });

  it('echoes OPT with our buffer size and fits the answer to the client budget', async () => {
    const edns = await dig(server.udpAddress.port, ['big.marathon.mesos', 'A', '+bufsize=4096', '+ignore']);
    expect(edns.ednsUdp).toBe(1232);
    expect(edns.flags).not.toContain('tc');
    expect(edns.answer).toHaveLength(60);
    const small = await dig(server.udpAddress.port, ['big.marathon.mesos', 'A', '+bufsize=700', '+ignore']);
    expect(small.flags).toContain('tc');
    expect(small.answer.length).toBeGreaterThan(30);
    expect(small.answer.length).toBeLessThan(60);
  });

  it('truncates to 512 bytes with TC=1 without EDNS, and TCP carries everything', async () => {
    const udp = await dig(server.udpAddress.port, ['big.marathon.mesos', 'A', '+noedns', '+ignore']);
    expect(udp.flags).toContain('tc');
    expect(udp.ednsUdp).toBeUndefined();
    // 12 header + 24 question + 16 per compressed A record: 29 fit in 512.
    expect(udp.answer).toHaveLength(29);
    const tcp = await dig(server.udpAddress.port, ['big.marathon.mesos', 'A', '+tcp', '+noedns']);
    expect(tcp.flags).not.toContain('tc');
    expect(tcp.answer).toHaveLength(60);
  });

  it('rotates multi-record answers', async () => {
    const firsts = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const result = await dig(server.udpAddress.port, ['big.marathon.mesos', 'A', '+bufsize=1232']);
      firsts.add(result.answer[0] as string);
    }
    expect(firsts.size).toBeGreaterThan(1);
  });

  it('answers several queries on one TCP connection (dig +keepopen)', async () => {
    const result = await dig(server.tcpAddress.port, [
      '+tcp',
      '+keepopen',
      'leader.mesos',
      'A',
      'slave.mesos',
      'A',
      'nope.mesos',
      'A',
    ]);
    expect(result.raw.match(/status: NOERROR/g)).toHaveLength(2);
    expect(result.raw.match(/status: NXDOMAIN/g)).toHaveLength(1);
  });
});

function rawQuery(id: number, name: string, type = 1): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(1, 3);
  return Buffer.concat([header, ...labels, tail]);
}

function framed(messages: Buffer[]): Buffer {
  return Buffer.concat(messages.flatMap((m) => [Buffer.from([m.length >> 8, m.length & 255]), m]));
}

function readFramed(socket: net.Socket, count: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const out: Buffer[] = [];
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        out.push(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
        buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
      }
      if (out.length >= count) resolve(out);
    });
  });
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('robustness', () => {
  it('pipelined TCP queries in one write all get answers with their IDs', async () => {
    const socket = await connect(server.tcpAddress.port);
    try {
      const replies = readFramed(socket, 3);
      socket.write(
        framed([rawQuery(101, 'leader.mesos'), rawQuery(102, 'slave.mesos'), rawQuery(103, 'nope.mesos')]),
      );
      const got = await replies;
      expect(got.map((r) => r.readUInt16BE(0)).sort()).toEqual([101, 102, 103]);
      expect(got.map((r) => r.readUInt16BE(2) & 15).sort()).toEqual([0, 0, 3]);
    } finally {
      socket.destroy();
    }
  });

  it('closes an idle TCP connection', async () => {
    const socket = await connect(server.tcpAddress.port);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await closed;
    expect(socket.destroyed).toBe(true);
  });

  it('survives garbage over UDP and still answers', async () => {
    const socket = dgram.createSocket('udp4');
    const replies: Buffer[] = [];
    socket.on('message', (m) => replies.push(m));
    const port = server.udpAddress.port;
    const valid = rawQuery(7, 'leader.mesos');
    const loop = Buffer.concat([valid.subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
    const noQuestion = Buffer.from([0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    let seed = 1;
    const garbage: Buffer[] = [loop, noQuestion, Buffer.from([1, 2, 3])];
    for (let i = 0; i < 300; i++) {
      const b = Buffer.alloc(1 + (i % 80));
      for (let j = 0; j < b.length; j++) b[j] = (seed = (seed * 48271) % 2147483647) & 255;
      b[2] = (b[2] as number) & 0x7f; // mostly queries, so the parser is exercised past the QR check
      garbage.push(b, valid.subarray(0, i % valid.length));
    }
    try {
      for (const g of garbage) socket.send(g, port, '127.0.0.1');
      const after = await dig(port, ['leader.mesos', 'A']);
      expect(after.answer).toEqual(['leader.mesos. 5 IN A 198.18.0.1']);
      const tcp = await dig(port, ['leader.mesos', 'A', '+tcp']);
      expect(tcp.answer).toEqual(['leader.mesos. 5 IN A 198.18.0.1']);
      // The compression-loop and no-question packets got FORMERR, not silence.
      const formerr = replies.filter((r) => (r.readUInt16BE(2) & 15) === 1);
      expect(formerr.length).toBeGreaterThanOrEqual(2);
      const panics = await registry.getSingleMetricAsString('switchyard_dns_panics_total');
      expect(panics).toMatch(/switchyard_dns_panics_total 0/);
    } finally {
      socket.close();
    }
  });

  it('drops a TCP stream with a bad length prefix and keeps serving', async () => {
    const bad = await connect(server.tcpAddress.port);
    const closed = new Promise<void>((resolve) => bad.on('close', () => resolve()));
    bad.on('error', () => undefined);
    bad.write(Buffer.from([0, 3, 1, 2, 3]));
    await closed;
    const huge = await connect(server.tcpAddress.port);
    huge.write(Buffer.from([0xff, 0xff, 1, 2, 3]));
    huge.destroy();
    const result = await dig(server.tcpAddress.port, ['leader.mesos', 'A', '+tcp']);
    expect(result.answer).toEqual(['leader.mesos. 5 IN A 198.18.0.1']);
  });

  it('counts queries by type and rcode', async () => {
    const text = await registry.getSingleMetricAsString('switchyard_dns_queries_total');
    expect(text).toMatch(/switchyard_dns_queries_total\{type="A",rcode="NXDOMAIN",transport="udp"\} \d+/);
    expect(text).toMatch(/switchyard_dns_queries_total\{type="SRV",rcode="NOERROR",transport="tcp"\} \d+/);
  });
});
