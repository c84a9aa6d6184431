import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { WebSocket } from 'undici';
import { startLoadBalancer, type LoadBalancer } from './server';
import { backendTask, Cleanup, eventually, FakeInformer, service } from './test-fixtures';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** A TCP backend that prefixes every chunk it echoes with its name. */
async function echoServer(name: string): Promise<{ port: number; kill: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (d) => socket.write(`${name}:${d.toString()}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kill = (): void => {
    server.close();
    for (const s of sockets) s.destroy();
  };
  cleanup.add(kill);
  return { port: (server.address() as net.AddressInfo).port, kill };
}

/** A minimal WebSocket backend: completes the handshake and echoes short text frames with its name. */
async function wsServer(
  name: string,
): Promise<{ port: number; seenForwardedFor: string[]; openSockets: () => number }> {
  const seenForwardedFor: string[] = [];
  const upgraded = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.end('ok'));
  server.on('upgrade', (req, socket) => {
    seenForwardedFor.push(String(req.headers['x-forwarded-for']));
    const accept = createHash('sha1')
      .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    upgraded.add(socket as net.Socket);
    socket.on('close', () => upgraded.delete(socket as net.Socket));
    socket.on('end', () => socket.end());
    socket.on('error', () => undefined);
    socket.on('data', (frame: Buffer) => {
      const opcode = (frame[0] ?? 0) & 0x0f;
      if (opcode !== 1) return void socket.end();
      const length = (frame[1] ?? 0) & 0x7f; // short frames only in this test
      const mask = frame.subarray(2, 6);
      const payload = Buffer.from(frame.subarray(6, 6 + length).map((b, i) => b ^ (mask[i % 4] ?? 0)));
      const reply = Buffer.from(`${name}:${payload.toString()}`);
      socket.write(Buffer.concat([Buffer.from([0x81, reply.length]), reply]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
      }),
  );
  return {
    port: (server.address() as net.AddressInfo).port,
    seenForwardedFor,
    openSockets: () => upgraded.size,
  };
}

async function startLb(informer: FakeInformer, tcpIdleMs = 30_000): Promise<LoadBalancer> {
  const lb = await startLoadBalancer({
    informer,
    listenHost: '127.0.0.1',
    ingressPort: null,
    admin: false,
    portFor: () => 0,
    accessLog: false,
    healthDefaults: { type: 'tcp', intervalMs: 50, timeoutMs: 50, rise: 1 },
    timeouts: { tcpIdleMs },
  });
  cleanup.add(() => lb.close({ graceMs: 0 }));
  return lb;
}

function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    cleanup.add(() => socket.destroy());
    socket.once('data', (d) => {
      socket.end();
      resolve(d.toString());
    });
    socket.on('error', reject);
  });
}

describe('TCP mode', () => {
  test('round-robins connections, retries a dead backend, closes idle sessions', async () => {
    const a = await echoServer('a');
    const b = await echoServer('b');
    const informer = new FakeInformer([
      service('db', { ports: [{ port: 5432, targetPort: 'http', protocol: 'tcp', mode: 'tcp' }] }),
      backendTask('db-a', 'db', a.port),
      backendTask('db-b', 'db', b.port),
    ]);
    const lb = await startLb(informer, 300);
    await eventually(() => lb.stats().pools[0]?.up === 2, 2000, 'both UP');
    const port = lb.frontends[0]?.port ?? 0;
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await exchange(port, 'hello'));
    expect(replies.sort()).toEqual(['a:hello', 'a:hello', 'b:hello', 'b:hello']);

    a.kill();
    // Whatever the health checker knows yet, a refused connect goes to b at once.
    for (let i = 0; i < 4; i++) expect(await exchange(port, 'again')).toBe('b:again');

    const idle = net.connect(port, '127.0.0.1');
    cleanup.add(() => idle.destroy());
    const started = Date.now();
    await new Promise((resolve) => idle.once('close', resolve));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

/** A TCP backend that sends `size` bytes, then half-closes, and reports what it received. */
async function bulkServer(
  size: number,
): Promise<{ port: number; body: Buffer; received: () => Promise<number> }> {
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = (i * 31 + 7) & 0xff;
  let resolveReceived: (n: number) => void = () => undefined;
  const received = new Promise<number>((resolve) => (resolveReceived = resolve));
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    let bytes = 0;
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => (bytes += d.length));
    socket.on('end', () => resolveReceived(bytes));
    socket.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, body, received: () => received };
}

describe('TCP mode, bulk', () => {
  test('a slow reader gets every byte in order, and half-closes pass both ways', async () => {
    // Bigger than the kernel's socket buffers on the way, so the relay's writes back up.
    const backend = await bulkServer(32 * 1024 * 1024 + 123);
    const informer = new FakeInformer([
      service('blob', { ports: [{ port: 9000, targetPort: 'http', protocol: 'tcp', mode: 'tcp' }] }),
      backendTask('blob-1', 'blob', backend.port),
    ]);
    const lb = await startLb(informer);
    await eventually(() => lb.stats().pools[0]?.up === 1, 2000, 'UP');
    const client = net.connect({ port: lb.frontends[0]?.port ?? 0, host: '127.0.0.1', allowHalfOpen: true });
    cleanup.add(() => client.destroy());
    const chunks: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.on('error', reject);
      client.on('data', (d: Buffer) => chunks.push(d));
      client.on('end', () => resolve());
    });
    // Read nothing for a while: buffers fill up and the proxy has to hold back.
    client.pause();
    setTimeout(() => client.resume(), 300);
    client.end(Buffer.alloc(1024 * 1024, 1));
    await done;
    expect(Buffer.concat(chunks).equals(backend.body)).toBe(true);
    expect(await backend.received()).toBe(1024 * 1024);
  });
});

describe('WebSocket', () => {
  test('upgrades are tunnelled to a backend with X-Forwarded-For', async () => {
    const backend = await wsServer('ws1');
    const informer = new FakeInformer([
      service('chat', { ports: [{ port: 8081, targetPort: 'http', protocol: 'tcp', mode: 'http' }] }),
      backendTask('chat-1', 'chat', backend.port),
    ]);
    const lb = await startLb(informer);
    await eventually(() => lb.stats().pools[0]?.up === 1, 2000, 'UP');
    const ws = new WebSocket(`ws://127.0.0.1:${lb.frontends[0]?.port}/socket`);
    cleanup.add(() => ws.close());
    const reply = await new Promise<string>((resolve, reject) => {
      ws.addEventListener('open', () => ws.send('ping'));
      ws.addEventListener('message', (event) => resolve(String(event.data)));
      ws.addEventListener('error', () => reject(new Error('websocket error')));
    });
    expect(reply).toBe('ws1:ping');
    expect(backend.seenForwardedFor).toEqual(['127.0.0.1']);
    expect(lb.stats().pools[0]?.backends[0]?.active).toBe(1);
    // Closing the proxy ends the tunnel on both sides.
    await lb.close({ graceMs: 0 });
    await eventually(() => backend.openSockets() === 0, 2000, 'backend socket closed');
  });
});
