import net from 'node:net';
import { startLoadBalancer, type LoadBalancer, type LoadBalancerOptions } from './server';
import {
  backendTask,
  Cleanup,
  eventually,
  FakeInformer,
  service,
  startBackend,
  type TestBackend,
} from './test-fixtures';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface Setup {
  lb: LoadBalancer;
  port: number;
  backend: TestBackend;
  /** Upstream requests the backend has open right now. */
  open: () => number;
}

/** One backend whose `/hang` never answers and `/reset` destroys its socket. */
async function setup(extra: Partial<LoadBalancerOptions> = {}): Promise<Setup> {
  let open = 0;
  const backend = await startBackend(cleanup, 'a', (req, res) => {
    if (req.url === '/hang') {
      open++;
      res.once('close', () => open--);
      return true;
    }
    if (req.url === '/reset') {
      req.socket.destroy();
      return true;
    }
    if (req.method === 'POST') {
      let n = 0;
      req.on('data', (d: Buffer) => (n += d.length));
      req.on('end', () => res.end(`got ${n}`));
      return true;
    }
    return false;
  });
  const informer = new FakeInformer([
    service('web', { ports: [{ port: 8080, targetPort: 'http', protocol: 'tcp', mode: 'http' }] }),
    backendTask('web-a', 'web', backend.port),
  ]);
  const lb = await startLoadBalancer({
    informer,
    listenHost: '127.0.0.1',
    ingressPort: null,
    admin: false,
    portFor: () => 0,
    accessLog: false,
    debounceMs: 5,
    maxHeaderBytes: 4096,
    maxBodyBytes: 1000,
    healthDefaults: { type: 'tcp', intervalMs: 50, timeoutMs: 50, rise: 1 },
    ...extra,
    timeouts: { clientHeadersMs: 300, clientRequestMs: 600, serverMs: 300, ...extra.timeouts },
  });
  cleanup.add(() => lb.close({ graceMs: 0 }));
  await eventually(() => lb.stats().pools[0]?.up === 1, 2000, 'backend UP');
  return { lb, port: lb.frontends[0]?.port ?? 0, backend, open: () => open };
}

/** Send raw bytes; resolve with everything the proxy sent back before closing (or after `waitMs`). */
function raw(port: number, chunks: string[], waitMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    cleanup.add(() => socket.destroy());
    let out = '';
    socket.on('connect', () => chunks.forEach((c) => socket.write(c)));
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    setTimeout(() => {
      socket.destroy();
      resolve(out);
    }, waitMs).unref();
  });
}

const statusOf = (response: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);

describe('robustness', () => {
  const cases: Array<{ desc: string; chunks: (s: Setup) => string[]; status: number }> = [
    {
      desc: 'oversized headers → 431',
      chunks: () => [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`],
      status: 431,
    },
    { desc: 'malformed request line → 400', chunks: () => ['GARBAGE\r\n\r\n'], status: 400 },
    {
      desc: 'bad header syntax → 400',
      chunks: () => ['GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n'],
      status: 400,
    },
    {
      desc: 'slow client that never finishes its headers (slowloris) → 408',
      chunks: () => ['GET / HTTP/1.1\r\nHost: x\r\n'],
      status: 408,
    },
    {
      desc: 'declared body over the limit → 413',
      chunks: () => ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n'],
      status: 413,
    },
    {
      desc: 'chunked body over the limit → 413',
      chunks: () => [
        'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
        `7d0\r\n${'b'.repeat(2000)}\r\n0\r\n\r\n`,
      ],
      status: 413,
    },
    {
      desc: 'backend resets the connection → 502',
      chunks: () => ['POST /reset HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx'],
      status: 502,
    },
    {
      desc: 'backend hangs → 504 after the server timeout',
      chunks: () => ['GET /hang HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      status: 504,
    },
    {
      desc: 'a body within the limit is forwarded',
      chunks: () => [
        'POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 10\r\n\r\n0123456789',
      ],
      status: 200,
    },
  ];
  test.each(cases)('$desc', async ({ chunks, status }) => {
    const s = await setup();
    const started = Date.now();
    const response = await raw(s.port, chunks(s));
    expect(statusOf(response)).toBe(status);
    // Every answer comes well before the 3 s fallback in `raw`.
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('a GET whose connection the backend resets is retried up to 3 times, then answered 502', async () => {
    const s = await setup();
    const response = await raw(s.port, ['GET /reset HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    expect(statusOf(response)).toBe(502);
    expect(response).toContain('SY_LB_BACKEND_RESET');
    expect(s.backend.hits).toBe(4);
  });

  test('a client vanishing mid-request aborts the upstream request (no leak)', async () => {
    const s = await setup({ timeouts: { serverMs: 30_000 } });
    const sockets: net.Socket[] = [];
    for (let i = 0; i < 20; i++) {
      const socket = net.connect(s.port, '127.0.0.1', () =>
        socket.write('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n'),
      );
      socket.on('error', () => undefined);
      cleanup.add(() => socket.destroy());
      sockets.push(socket);
    }
    await eventually(() => s.open() === 20, 2000, '20 upstream requests open');
    for (const socket of sockets) socket.destroy();
    await eventually(() => s.open() === 0, 2000, 'upstream requests aborted');
    await eventually(
      () => s.lb.stats().pools[0]?.backends[0]?.active === 0,
      2000,
      'no active requests in the LB',
    );
  });
});
