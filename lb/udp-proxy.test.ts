import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import type { StoredObject, VipBackend, VipPort } from '../state';
import { resolveLbConfig, type LbConfigInput } from './config';
import { startLoadBalancer, type LoadBalancer } from './server';
import { renderStatsPage } from './stats-page';
import { Cleanup, eventually, FakeInformer, startBackend } from './test-fixtures';

// The UDP proxy on real loopback sockets: VIP objects with UDP ports served on 127.77.0.0/16
// addresses (every 127/8 address answers on lo), UDP echo backends on 127.0.0.1, real clients.
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface UdpBackend {
  readonly name: string;
  readonly port: number;
  hits: number;
}

/** A UDP echo backend: answers `<name>:<payload>` to whoever sent the datagram. */
async function startUdpBackend(name: string): Promise<UdpBackend> {
  const socket = dgram.createSocket('udp4');
  const backend = { name, port: 0, hits: 0 };
  socket.on('message', (msg, rinfo) => {
    backend.hits++;
    socket.send(`${name}:${msg.toString()}`, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  backend.port = socket.address().port;
  cleanup.add(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return backend;
}

/** A UDP port on 127.0.0.1 nobody listens on (the kernel answers ICMP port unreachable). */
async function closedUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** A port free for both TCP and UDP on `host` a moment ago. */
async function freePortOn(host: string): Promise<number> {
  for (;;) {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, host, resolve));
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    const server = net.createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, host, () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
  }
}

/** Whether a UDP socket can bind `host:port` now (it is closed again at once). */
function canBindUdp(host: string, port: number): Promise<boolean> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}

interface Reply {
  readonly text: string;
  readonly from: string;
}

/** A UDP client on its own 127.0.0.1 port: one client address:port, one proxy session. */
class UdpClient {
  readonly replies: Reply[] = [];
  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (msg, rinfo) =>
      this.replies.push({ text: msg.toString(), from: `${rinfo.address}:${rinfo.port}` }),
    );
  }

  static async open(): Promise<UdpClient> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    cleanup.add(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    return new UdpClient(socket);
  }

  send(host: string, port: number, payload: string): void {
    this.socket.send(payload, port, host);
  }

  /** Send and wait for the reply. */
  async ask(host: string, port: number, payload: string): Promise<Reply> {
    const before = this.replies.length;
    this.send(host, port, payload);
    await eventually(() => this.replies.length > before, 2000, `a reply to ${payload}`);
    return this.replies[before] as Reply;
  }
}

/** The backend name of a fresh client's first reply. */
async function backendOfNewClient(host: string, port: number): Promise<string> {
  const client = await UdpClient.open();
  return (await client.ask(host, port, 'hi')).text.split(':')[0] ?? '';
}

let revision = 9000;
function udpVip(
  address: string,
  port: number,
  backends: ReadonlyArray<{ name: string; port: number }>,
  weights: number[] = [],
  tcp?: { name: string; port: number },
): StoredObject<'VIP'> {
  revision++;
  const list: VipBackend[] = backends.map((b, i) => ({
    task: `Task/default/${b.name}`,
    vipPort: port,
    protocol: 'udp',
    address: '127.0.0.1',
    port: b.port,
    weight: weights[i] ?? 1,
  }));
  const ports: VipPort[] = [{ port, protocol: 'udp', mode: 'tcp' }];
  if (tcp) {
    ports.push({ port, protocol: 'tcp', mode: 'tcp' });
    list.push({
      task: `Task/default/${tcp.name}`,
      vipPort: port,
      protocol: 'tcp',
      address: '127.0.0.1',
      port: tcp.port,
      weight: 1,
    });
  }
  return {
    kind: 'VIP',
    name: 'echo.marathon',
    labels: {},
    revision,
    createRevision: 1,
    spec: {
      name: 'echo',
      framework: 'marathon',
      address,
      ports,
      backends: list,
      owners: [{ kind: 'app', namespace: 'default', name: 'echo', source: 'VIP_0' }],
    },
  };
}

async function start(informer: FakeInformer, options: LbConfigInput = {}): Promise<LoadBalancer> {
  const lb = await startLoadBalancer({
    informer,
    listenHost: '127.0.0.1',
    ingressPort: null,
    admin: false,
    accessLog: false,
    bindRetryMs: 20,
    healthDefaults: { type: 'tcp', intervalMs: 50, timeoutMs: 50, rise: 1, fall: 1 },
    ...options,
  });
  cleanup.add(() => lb.close({ graceMs: 0 }));
  return lb;
}

function backendRow(lb: LoadBalancer, name: string) {
  return lb.stats().pools[0]?.backends.find((row) => row.id.startsWith(`Task/default/${name}@`));
}

function udpRow(lb: LoadBalancer) {
  return lb.stats().frontends.find((f) => f.mode === 'udp')?.udp;
}

describe('the UDP proxy serves a VIP’s UDP ports', () => {
  test('one client sticks to one backend, clients spread, replies come from the VIP; stats and metrics count', async () => {
    const [a, b] = await Promise.all([startUdpBackend('a'), startUdpBackend('b')]);
    if (!a || !b) throw new Error('no backends');
    const vipHost = '127.77.0.11';
    const port = await freePortOn(vipHost);
    const lb = await start(new FakeInformer([udpVip(vipHost, port, [a, b])]));
    expect(lb.frontends.map((f) => `${f.mode} ${f.host}:${f.port}`)).toEqual([`udp ${vipHost}:${port}`]);
    expect(lb.stats().pools[0]?.backends.map((row) => row.status)).toEqual(['UP', 'UP']);

    const client = await UdpClient.open();
    const replies: Reply[] = [];
    for (let i = 0; i < 5; i++) replies.push(await client.ask(vipHost, port, `m${i}`));
    const first = replies[0]?.text.split(':')[0];
    expect(replies.map((r) => r.text)).toEqual([0, 1, 2, 3, 4].map((i) => `${first}:m${i}`));
    expect(new Set(replies.map((r) => r.from))).toEqual(new Set([`${vipHost}:${port}`]));

    const others = new Set<string>();
    for (let i = 0; i < 4; i++) others.add(await backendOfNewClient(vipHost, port));
    expect([...others].sort()).toEqual(['a', 'b']);

    expect(udpRow(lb)).toMatchObject({
      sessions: 5,
      currentSessions: 5,
      datagramsIn: 9,
      datagramsOut: 9,
      dropped: {},
    });
    const rows = [backendRow(lb, 'a'), backendRow(lb, 'b')];
    expect(rows.reduce((n, r) => n + (r?.datagramsIn ?? 0), 0)).toBe(9);
    expect(rows.reduce((n, r) => n + (r?.requests ?? 0), 0)).toBe(5);
    const metrics = await lb.registry.metrics();
    const frontend = `${vipHost}:${port}/udp`;
    expect(metrics).toContain(`switchyard_lb_udp_sessions_total{frontend="${frontend}"} 5`);
    expect(metrics).toContain(`switchyard_lb_udp_datagrams_total{frontend="${frontend}",direction="out"} 9`);
    expect(metrics).toMatch(/switchyard_lb_backend_datagrams_total\{pool="VIP\/echo.marathon:\d+\/udp"/);
    const page = renderStatsPage(lb.stats());
    expect(page).toContain('<h2>UDP frontends</h2>');
    expect(page).toContain('none (passive only)');
  });

  test('weight 0 takes no new sessions, its open sessions stay; a new backend takes new sessions', async () => {
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => startUdpBackend(n)));
    if (!a || !b || !c) throw new Error('no backends');
    const vipHost = '127.77.0.12';
    const port = await freePortOn(vipHost);
    const informer = new FakeInformer([udpVip(vipHost, port, [a, b])]);
    const lb = await start(informer);
    // Find a client whose session is on b.
    let onB: UdpClient | undefined;
    while (!onB) {
      const client = await UdpClient.open();
      if ((await client.ask(vipHost, port, 'x')).text.startsWith('b:')) onB = client;
    }

    informer.put(udpVip(vipHost, port, [a, b], [1, 0]));
    await eventually(() => backendRow(lb, 'b')?.status === 'DRAIN', 3000, 'b draining');
    for (let i = 0; i < 4; i++) expect(await backendOfNewClient(vipHost, port)).toBe('a');
    expect((await onB.ask(vipHost, port, 'still')).text).toBe('b:still');

    informer.put(udpVip(vipHost, port, [a, b, c], [1, 0, 1]));
    await eventually(() => backendRow(lb, 'c')?.status === 'UP', 3000, 'c UP');
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(await backendOfNewClient(vipHost, port));
    expect([...seen].sort()).toEqual(['a', 'c']);
  });

  test('a backend whose port is closed (ICMP port unreachable) is ejected; new sessions go to the other', async () => {
    const a = await startUdpBackend('a');
    const dead = { name: 'dead', port: await closedUdpPort() };
    const vipHost = '127.77.0.13';
    const port = await freePortOn(vipHost);
    const lb = await start(new FakeInformer([udpVip(vipHost, port, [a, dead])]), {
      passive: { consecutiveErrors: 2 },
    });
    const failures = (): number => backendRow(lb, 'dead')?.connectFailures ?? 0;
    for (let i = 0; i < 10 && backendRow(lb, 'dead')?.status !== 'EJECTED'; i++) {
      const client = await UdpClient.open();
      const before = failures();
      client.send(vipHost, port, 'ping');
      await eventually(() => client.replies.length > 0 || failures() > before, 2000, 'a reply or a failure');
    }
    expect(backendRow(lb, 'dead')).toMatchObject({ status: 'EJECTED', connectFailures: 2, ejections: 1 });
    for (let i = 0; i < 4; i++) expect(await backendOfNewClient(vipHost, port)).toBe('a');
    // The refused sessions ended: only the ones on a are open.
    expect(udpRow(lb)?.currentSessions).toBe((udpRow(lb)?.sessions ?? 0) - 2);
  });

  test('idle sessions expire after udpIdleMs; the client’s next datagram opens a new one', async () => {
    const a = await startUdpBackend('a');
    const vipHost = '127.77.0.14';
    const port = await freePortOn(vipHost);
    const lb = await start(new FakeInformer([udpVip(vipHost, port, [a])]), { timeouts: { udpIdleMs: 150 } });
    const client = await UdpClient.open();
    expect((await client.ask(vipHost, port, 'one')).text).toBe('a:one');
    expect(udpRow(lb)?.currentSessions).toBe(1);
    expect(backendRow(lb, 'a')?.active).toBe(1);
    await eventually(() => udpRow(lb)?.currentSessions === 0, 3000, 'the idle session ended');
    expect(backendRow(lb, 'a')?.active).toBe(0);
    expect((await client.ask(vipHost, port, 'two')).text).toBe('a:two');
    expect(udpRow(lb)).toMatchObject({ sessions: 2, currentSessions: 1 });
  });

  test('the session cap drops and counts datagrams of further clients', async () => {
    const a = await startUdpBackend('a');
    const vipHost = '127.77.0.15';
    const port = await freePortOn(vipHost);
    const lb = await start(new FakeInformer([udpVip(vipHost, port, [a])]), { maxUdpSessions: 2 });
    const [one, two, three] = await Promise.all([UdpClient.open(), UdpClient.open(), UdpClient.open()]);
    if (!one || !two || !three) throw new Error('no clients');
    await one.ask(vipHost, port, '1');
    await two.ask(vipHost, port, '2');
    three.send(vipHost, port, '3');
    three.send(vipHost, port, '3');
    await eventually(() => udpRow(lb)?.dropped['session-limit'] === 2, 2000, 'two drops counted');
    expect(three.replies).toEqual([]);
    expect(udpRow(lb)).toMatchObject({ sessions: 2, currentSessions: 2 });
    expect(await lb.registry.metrics()).toContain(
      `switchyard_lb_udp_dropped_total{frontend="${vipHost}:${port}/udp",reason="session-limit"} 2`,
    );
    // Sessions already open keep working.
    expect((await one.ask(vipHost, port, 'again')).text).toBe('a:again');
  });

  test('a backend that leaves the table keeps its sessions for the drain grace time, then they end', async () => {
    const [a, b] = await Promise.all([startUdpBackend('a'), startUdpBackend('b')]);
    if (!a || !b) throw new Error('no backends');
    const vipHost = '127.77.0.16';
    const port = await freePortOn(vipHost);
    const informer = new FakeInformer([udpVip(vipHost, port, [a, b])]);
    const lb = await start(informer, { timeouts: { drainGraceMs: 1000 } });
    let onB: UdpClient | undefined;
    while (!onB) {
      const client = await UdpClient.open();
      if ((await client.ask(vipHost, port, 'x')).text.startsWith('b:')) onB = client;
    }
    const open = udpRow(lb)?.currentSessions ?? 0;
    informer.put(udpVip(vipHost, port, [a]));
    await eventually(() => lb.stats().pools[0]?.backends.length === 1, 3000, 'b left the table');
    expect((await onB.ask(vipHost, port, 'grace')).text).toBe('b:grace');
    await eventually(() => udpRow(lb)?.currentSessions === open - 1, 3000, 'b’s session cut');
    expect((await onB.ask(vipHost, port, 'after')).text).toBe('a:after');
  });

  test('a TCP and a UDP frontend share the VIP address and port number', async () => {
    const u = await startUdpBackend('u');
    const t = await startBackend(cleanup, 't');
    const vipHost = '127.77.0.17';
    const port = await freePortOn(vipHost);
    const lb = await start(new FakeInformer([udpVip(vipHost, port, [u], [], t)]));
    expect(lb.frontends.map((f) => `${f.mode} ${f.host}:${f.port}`).sort()).toEqual([
      `tcp ${vipHost}:${port}`,
      `udp ${vipHost}:${port}`,
    ]);
    const client = await UdpClient.open();
    expect(await client.ask(vipHost, port, 'dgram')).toEqual({ text: 'u:dgram', from: `${vipHost}:${port}` });
    await eventually(
      () => lb.stats().pools.find((p) => p.mode === 'tcp')?.up === 1,
      3000,
      'the TCP backend UP',
    );
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get(`http://${vipHost}:${port}/`, { agent: false }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    expect(body).toBe('t');
  });

  test('a UDP frontend that cannot bind yet is retried until it binds; a removed one closes', async () => {
    const a = await startUdpBackend('a');
    const vipHost = '127.77.0.18';
    const port = await freePortOn(vipHost);
    const blocker = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => blocker.bind(port, vipHost, resolve));
    const vip = udpVip(vipHost, port, [a]);
    const informer = new FakeInformer([vip]);
    const lb = await start(informer, { timeouts: { drainGraceMs: 200 } });
    expect(lb.frontends).toEqual([]);
    expect(lb.stats().frontends[0]?.bound).toBe('NOT BOUND');
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    await eventually(() => lb.frontends.length === 1, 3000, 'the UDP frontend bound');
    const client = await UdpClient.open();
    expect((await client.ask(vipHost, port, 'late')).text).toBe('a:late');

    informer.remove(vip);
    await eventually(() => lb.frontends.length === 0, 3000, 'the frontend released');
    // Its open session is cut after the grace time, then the socket closes and the port is free.
    await eventually(() => udpRow(lb) === undefined, 3000, 'the frontend out of the stats');
    await eventually(() => canBindUdp(vipHost, port), 3000, 'the port free again');
  });
});

describe('resolveLbConfig: UDP options', () => {
  test('defaults: sessions idle 30 s end; 65,536 sessions per frontend', () => {
    const config = resolveLbConfig({});
    expect(config.timeouts.udpIdleMs).toBe(30_000);
    expect(config.maxUdpSessions).toBe(65_536);
  });

  test.each([
    { desc: 'a zero udpIdleMs', input: { timeouts: { udpIdleMs: 0 } }, field: 'timeouts.udpIdleMs' },
    { desc: 'a zero session cap', input: { maxUdpSessions: 0 }, field: 'maxUdpSessions' },
    { desc: 'a fractional session cap', input: { maxUdpSessions: 1.5 }, field: 'maxUdpSessions' },
  ])('rejects $desc naming the field', ({ input, field }) => {
    expect(() => resolveLbConfig(input)).toThrow(
      expect.objectContaining({ code: 'SY_LB_INVALID_OPTIONS', field }),
    );
  });
});
