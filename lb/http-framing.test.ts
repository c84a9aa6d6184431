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

/**
 * HTTP/1.x framing through the proxy, on loopback: every way a message can end (length, chunked,
 * none, the backend closing), keep-alive on both sides, pipelining, HTTP/1.0 clients, Expect,
 * absolute-form targets, smuggling attempts and malformed backend responses. Clients and the
 * "raw" backend speak bytes, so what is asserted is exactly what crossed the wire.
 */

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** A backend answering with fixed bytes per path; counts the connections that carried requests. */
interface RawBackend {
  readonly port: number;
  readonly connections: number;
  readonly requests: string[];
}

const RAW_RESPONSES: Readonly<Record<string, string>> = {
  '/chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
  '/close': 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end',
  '/length': 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\nKeep-Alive: timeout=30\r\n\r\nbody',
  '/no-content': 'HTTP/1.1 204 No Content\r\n\r\n',
  '/interim':
    'HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  '/malformed': 'HTTP/1.1 200 OK\r\nBad Header\r\nContent-Length: 2\r\n\r\nok',
  '/smuggle': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nok',
  '/health': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  // An upgrade the backend refuses, keeping the connection.
  '/ws-refused': 'HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n',
  // A response that starts and never ends.
  '/partial': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n',
  // UTF-8 bytes of "é" in a field value (obs-text): must cross the proxy unchanged.
  '/bytes':
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Disposition: attachment; filename="\xc3\xa9"\r\n\r\nok',
};

async function startRawBackend(): Promise<RawBackend> {
  const used = new Set<net.Socket>();
  const requests: string[] = [];
  const server = net.createServer((socket) => {
    let buffered = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        const [method, path] = head.split(' ');
        if (path !== '/health') {
          requests.push(head);
          used.add(socket);
        }
        const response = RAW_RESPONSES[path ?? ''] ?? RAW_RESPONSES['/length']!;
        if (method === 'HEAD') socket.write(response.slice(0, response.indexOf('\r\n\r\n') + 4), 'latin1');
        else socket.write(response, 'latin1');
        if (response.includes('Connection: close')) socket.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add(() => new Promise((resolve) => server.close(resolve)));
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => sockets.add(s));
  cleanup.add(() => sockets.forEach((s) => s.destroy()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    requests,
    get connections() {
      return used.size;
    },
  };
}

async function startLb(backendPort: number, extra: Partial<LoadBalancerOptions> = {}): Promise<number> {
  return (await startLbWith(backendPort, extra)).port;
}

async function startLbWith(
  backendPort: number,
  extra: Partial<LoadBalancerOptions> = {},
): Promise<{ port: number; lb: LoadBalancer }> {
  const informer = new FakeInformer([
    service('web', { ports: [{ port: 8080, targetPort: 'http', protocol: 'tcp', mode: 'http' }] }),
    backendTask('web-a', 'web', backendPort),
  ]);
  const lb: LoadBalancer = await startLoadBalancer({
    informer,
    listenHost: '127.0.0.1',
    ingressPort: null,
    admin: false,
    portFor: () => 0,
    accessLog: false,
    debounceMs: 5,
    healthDefaults: { type: 'tcp', intervalMs: 50, timeoutMs: 50, rise: 1 },
    ...extra,
  });
  cleanup.add(() => lb.close({ graceMs: 0 }));
  await eventually(() => lb.stats().pools[0]?.up === 1, 2000, 'backend UP');
  return { port: lb.frontends[0]?.port ?? 0, lb };
}

/** A raw client connection: write bytes, read until `done(text)` holds or the socket closes. */
class RawClient {
  readonly socket: net.Socket;
  text = '';
  closed = false;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (d) => (this.text += d.toString('latin1')));
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => (this.closed = true));
    cleanup.add(() => this.socket.destroy());
  }

  async send(bytes: string, done: (text: string) => boolean): Promise<string> {
    const from = this.text.length;
    this.socket.write(bytes, 'latin1');
    await eventually(() => done(this.text.slice(from)) || this.closed, 3000, 'response');
    return this.text.slice(from);
  }
}

const responses = (text: string): number => (text.match(/HTTP\/1\.1 [0-9]{3} /g) ?? []).length;
const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: app\r\n${extra}\r\n`;

describe('response framing', () => {
  test('a chunked response passes through to an HTTP/1.1 client and both connections stay open', async () => {
    const raw = await startRawBackend();
    const client = new RawClient(await startLb(raw.port));
    const first = await client.send(get('/chunked'), (t) => t.endsWith('0\r\n\r\n'));
    expect(first).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(first).toContain('Transfer-Encoding: chunked\r\n');
    expect(first.endsWith('5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n')).toBe(true);
    const second = await client.send(get('/length'), (t) => t.endsWith('body'));
    expect(second).toContain('Content-Length: 4');
    expect(client.closed).toBe(false);
    expect(raw.connections).toBe(1);
  });

  test('an HTTP/1.0 client gets a chunked response decoded, then the connection closes', async () => {
    const raw = await startRawBackend();
    const client = new RawClient(await startLb(raw.port));
    const text = await client.send('GET /chunked HTTP/1.0\r\n\r\n', () => false);
    expect(client.closed).toBe(true);
    expect(text).not.toMatch(/transfer-encoding/i);
    expect(text).toContain('Connection: close\r\n');
    expect(text.endsWith('\r\n\r\nhello world')).toBe(true);
  });

  test('an HTTP/1.0 keep-alive client keeps its connection for a length-delimited response', async () => {
    const raw = await startRawBackend();
    const client = new RawClient(await startLb(raw.port));
    const text = await client.send('GET /length HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', (t) =>
      t.endsWith('body'),
    );
    expect(text).toContain('Connection: keep-alive\r\n');
    expect(client.closed).toBe(false);
  });

  test('a response delimited by the backend closing reaches the client whole, then the client connection closes', async () => {
    const raw = await startRawBackend();
    const client = new RawClient(await startLb(raw.port));
    const text = await client.send(get('/close'), () => false);
    expect(client.closed).toBe(true);
    expect(text).toContain('Connection: close\r\n');
    expect(text.endsWith('\r\n\r\nuntil the end')).toBe(true);
  });

  test('HEAD and 204 responses have no body, and the next request on the connection is answered', async () => {
    const raw = await startRawBackend();
    const client = new RawClient(await startLb(raw.port));
    const head = await client.send(`HEAD /length HTTP/1.1\r\nHost: app\r\n\r\n`, (t) =>
      t.endsWith('\r\n\r\n'),
    );
    expect(head).toContain('Content-Length: 4\r\n');
    const empty = await client.send(get('/no-content'), (t) => t.endsWith('\r\n\r\n'));
    expect(empty).toMatch(/^HTTP\/1\.1 204 No Content\r\n/);
    const next = await client.send(get('/length'), (t) => t.endsWith('body'));
    expect(next).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(raw.connections).toBe(1);
  });

  test('an interim 1xx response is dropped; the final one is forwarded', async () => {
    const raw = await startRawBackend();
    const client = new RawClient(await startLb(raw.port));
    const text = await client.send(get('/interim'), (t) => t.endsWith('ok'));
    expect(responses(text)).toBe(1);
    expect(text).toMatch(/^HTTP\/1\.1 200 OK/);
  });

  test.each(['/malformed', '/smuggle'])('a malformed backend response (%s) is answered 502', async (path) => {
    const raw = await startRawBackend();
    const client = new RawClient(await startLb(raw.port));
    const text = await client.send(get(path), (t) => t.includes('\n\n') || t.includes('BAD_RESPONSE'));
    expect(text).toMatch(/^HTTP\/1\.1 502 /);
    expect(text).toContain('SY_LB_BAD_RESPONSE');
  });

  test('pipelined requests are answered in order over one backend connection', async () => {
    const raw = await startRawBackend();
    const client = new RawClient(await startLb(raw.port));
    const text = await client.send(
      get('/length') + get('/chunked') + get('/length'),
      (t) => responses(t) === 3 && t.endsWith('body'),
    );
    expect(responses(text)).toBe(3);
    expect(text.indexOf('hello')).toBeGreaterThan(text.indexOf('body'));
    expect(raw.requests.map((r) => r.split(' ')[1])).toEqual(['/length', '/chunked', '/length']);
    expect(raw.connections).toBe(1);
  });
});

describe('requests', () => {
  test('X-Forwarded-* are set, client values replaced, hop-by-hop and Connection-named fields removed', async () => {
    const raw = await startRawBackend();
    const client = new RawClient(await startLb(raw.port));
    await client.send(
      get(
        '/length',
        'X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\nX-Kept: k\r\n',
      ),
      (t) => t.endsWith('body'),
    );
    const seen = raw.requests[0] ?? '';
    expect(seen).toMatch(/^GET \/length HTTP\/1\.1\r\n/);
    expect(seen).toContain('X-Forwarded-For: 10.0.0.1, 127.0.0.1\r\n');
    expect(seen).toContain('X-Forwarded-Proto: http\r\n');
    expect(seen).toMatch(/\r\nX-Forwarded-Host: app$/);
    expect(seen).toContain('X-Kept: k');
    expect(seen).not.toMatch(/x-secret|connection|https/i);
  });

  test('an absolute-form target is forwarded in origin form with its authority as the host', async () => {
    const raw = await startRawBackend();
    const client = new RawClient(await startLb(raw.port));
    await client.send('GET http://example.test/length?x=1 HTTP/1.1\r\nHost: ignored\r\n\r\n', (t) =>
      t.endsWith('body'),
    );
    expect(raw.requests[0]).toMatch(/^GET \/length\?x=1 HTTP\/1\.1\r\n/);
    expect(raw.requests[0]).toContain('X-Forwarded-Host: example.test');
    expect(raw.requests[0]).toContain('\r\nHost: example.test\r\n');
    expect(raw.requests[0]).not.toContain('ignored');
  });

  test('bytes above 127 in field values cross the proxy unchanged, both ways', async () => {
    const raw = await startRawBackend();
    const client = new RawClient(await startLb(raw.port));
    const text = await client.send(get('/bytes', 'X-Name: caf\xc3\xa9\r\n'), (t) => t.endsWith('ok'));
    expect(raw.requests[0]).toContain('\r\nX-Name: caf\xc3\xa9\r\n');
    expect(text).toContain('filename="\xc3\xa9"\r\n');
  });

  test('a 2 MiB body sent at once (before the backend connection is up) arrives whole', async () => {
    const backend: TestBackend = await startBackend(cleanup, 'b', (req, res) => {
      let n = 0;
      req.on('data', (d: Buffer) => (n += d.length));
      req.on('end', () => res.end(`got ${n}`));
      return true;
    });
    const client = new RawClient(await startLb(backend.port, { maxBodyBytes: 0 }));
    const size = 2 * 1024 * 1024;
    client.socket.write(`POST /up HTTP/1.1\r\nHost: app\r\nContent-Length: ${size}\r\n\r\n`);
    client.socket.write(Buffer.alloc(size, 'z'));
    await eventually(() => client.text.endsWith(`got ${size}`), 5000, 'whole body acknowledged');
  });

  test('empty lines before a request line are skipped (RFC 9112 §2.2)', async () => {
    const raw = await startRawBackend();
    const client = new RawClient(await startLb(raw.port));
    const text = await client.send(`\r\n\r\n${get('/length')}`, (t) => t.endsWith('body'));
    expect(text).toMatch(/^HTTP\/1\.1 200 OK/);
  });

  test('a chunked request body reaches the backend whole, and the client connection is reused', async () => {
    const bodies: string[] = [];
    const backend: TestBackend = await startBackend(cleanup, 'b', (req, res) => {
      if (req.method !== 'POST') return false;
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        bodies.push(body);
        res.end(`got ${body.length}`);
      });
      return true;
    });
    const client = new RawClient(await startLb(backend.port));
    const post =
      'POST /up HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-Trailer: t\r\n\r\n';
    const first = await client.send(post, (t) => t.endsWith('got 7'));
    expect(first).toMatch(/^HTTP\/1\.1 200 OK/);
    // The body split across writes, with Expect: the proxy answers 100 Continue itself.
    const expect100 = 'POST /up HTTP/1.1\r\nHost: app\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n';
    const interim = await client.send(expect100, (t) => t.includes('100 Continue'));
    expect(interim).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    const final = await client.send('0123456789', (t) => t.endsWith('got 10'));
    expect(final).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(bodies).toEqual(['abcdefg', '0123456789']);
    expect(client.closed).toBe(false);
  });

  test.each([
    [
      'Transfer-Encoding with Content-Length',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    ],
    ['two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', 400],
    ['a bare LF line end', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 400],
    ['an unsupported transfer coding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
    ['CONNECT', 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n', 501],
    ['HTTP/2.0 over HTTP/1 framing', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
    ['bad chunk framing', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
  ])('%s → %s, connection closed, nothing sent on', async (_what, request, status) => {
    const raw = await startRawBackend();
    const client = new RawClient(await startLb(raw.port));
    const text = await client.send(request, () => false);
    expect(text.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
    expect(client.closed).toBe(true);
    if (status !== 400 || !request.includes('zz')) expect(raw.requests).toEqual([]);
  });

  test('an idle keep-alive client is closed after the keep-alive timeout', async () => {
    const raw = await startRawBackend();
    const client = new RawClient(await startLb(raw.port, { timeouts: { clientKeepAliveMs: 200 } }));
    await client.send(get('/length'), (t) => t.endsWith('body'));
    const started = Date.now();
    await eventually(() => client.closed, 2000, 'idle client closed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  test('one backend connection serves requests from successive clients', async () => {
    const raw = await startRawBackend();
    const port = await startLb(raw.port);
    for (let i = 0; i < 5; i++) {
      const client = new RawClient(port);
      await client.send(get('/length', 'Connection: close\r\n'), () => false);
    }
    expect(raw.requests).toHaveLength(5);
    expect(raw.connections).toBe(1);
  });
});

describe('found in review', () => {
  test('over 64 KiB of pipelined requests are all answered (reading resumes after a partial head)', async () => {
    const raw = await startRawBackend();
    const client = new RawClient(await startLb(raw.port));
    const n = 3000;
    const text = await client.send(get('/length').repeat(n), (t) => responses(t) === n);
    expect(responses(text)).toBe(n);
  });

  test('thousands of pipelined requests answered by the proxy itself do not recurse (no panic)', async () => {
    const raw = await startRawBackend();
    const { port, lb } = await startLbWith(raw.port);
    const id = lb.stats().pools[0]?.backends[0]?.id ?? '';
    expect(lb.setBackendState(id, 'maint')).toBe(true);
    const client = new RawClient(port);
    const n = 5000;
    const text = await client.send(get('/length').repeat(n), (t) => responses(t) === n);
    expect((text.match(/HTTP\/1\.1 503 /g) ?? []).length).toBe(n);
    expect(lb.stats().panics).toBe(0);
  });

  test('a request timeout after the response started cuts the client and frees the backend slot', async () => {
    const raw = await startRawBackend();
    const { port, lb } = await startLbWith(raw.port, { timeouts: { clientRequestMs: 300 } });
    const client = new RawClient(port);
    const text = await client.send(
      'POST /partial HTTP/1.1\r\nHost: app\r\nContent-Length: 100\r\n\r\n0123456789',
      () => false,
    );
    expect(client.closed).toBe(true);
    expect(text).toContain('5\r\nhello\r\n');
    expect(text).not.toContain('408');
    await eventually(() => lb.stats().pools[0]?.backends[0]?.active === 0, 2000, 'active back to 0');
  });

  test('bad body framing after the response started cuts the connection instead of writing a 400 into it', async () => {
    const raw = await startRawBackend();
    const client = new RawClient(await startLb(raw.port));
    await client.send(
      'POST /partial HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n',
      (t) => t.includes('hello'),
    );
    const rest = await client.send('zz\r\n', () => false);
    expect(client.closed).toBe(true);
    expect(rest).not.toContain('HTTP/1.1 400');
  });

  test('an upgrade the backend refuses is answered and closed: no raw tunnel for later requests', async () => {
    const raw = await startRawBackend();
    const client = new RawClient(await startLb(raw.port));
    const upgrade =
      'GET /ws-refused HTTP/1.1\r\nHost: app\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
    const answer = await client.send(upgrade, (t) => t.includes('\r\n\r\n'));
    expect(answer).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
    client.socket.write('GET /admin HTTP/1.1\r\nHost: other\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n');
    await eventually(() => client.closed, 3000, 'client closed');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(raw.requests.map((r) => r.split(' ')[1])).toEqual(['/ws-refused']);
  });
});
