import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { createLogger } from '../lib';
import { startLoadBalancer, type LoadBalancer, type LoadBalancerOptions } from './server';
import { backendTask, Cleanup, eventually, FakeInformer, service, startBackend } from './test-fixtures';
import { makeCertificate, requireOpenssl, type TestCertificate } from './tls-fixtures';

/**
 * TLS termination on loopback, for real: certificates made with openssl in a temp directory, the
 * proxy's HTTPS ingress frontend in front of three loopback backends, and node's tls/https
 * clients checking what they were served (certificate per SNI, routing, X-Forwarded-Proto).
 */

const cleanup = new Cleanup();
afterEach(() => cleanup.run());
beforeAll(() => requireOpenssl());

/** Every certificate made here: the clients trust them all (each is self-signed). */
const trusted: string[] = [];

function certificate(cn: string, names: readonly string[] = [cn]): TestCertificate {
  const made = makeCertificate(cn, names);
  trusted.push(made.cert);
  return made;
}

function certDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'sy-certs-'));
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

type LogLine = Record<string, unknown> & { msg: string };

function captureLogger(): { logger: ReturnType<typeof createLogger>; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line !== '') lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

/** A backend that answers with its name and the X-Forwarded-* fields it received. */
async function echoBackend(name: string): Promise<number> {
  const backend = await startBackend(cleanup, name, (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        backend: name,
        path: req.url,
        proto: req.headers['x-forwarded-proto'],
        port: req.headers['x-forwarded-port'],
        host: req.headers['x-forwarded-host'],
      }),
    );
    return true;
  });
  return backend.port;
}

interface Proxy {
  readonly lb: LoadBalancer;
  readonly logs: LogLine[];
  /** The TLS frontend's port, once bound. */
  tlsPort(): number | undefined;
  readonly plainPort: number;
}

/** a.test/ → shop, a.test/api → api, *.b.test → wild; HTTP ingress on one port, HTTPS on another. */
async function startProxy(dir: string, extra: Partial<LoadBalancerOptions> = {}): Promise<Proxy> {
  const informer = new FakeInformer([
    service('shop', {
      ports: [{ port: 8081, targetPort: 'http', protocol: 'tcp', mode: 'http' }],
      ingress: [{ host: 'a.test', path: '/', pathType: 'Prefix', port: 8081 }],
    }),
    service('api', {
      ports: [{ port: 8082, targetPort: 'http', protocol: 'tcp', mode: 'http' }],
      ingress: [{ host: 'a.test', path: '/api', pathType: 'Prefix', port: 8082 }],
    }),
    service('wild', {
      ports: [{ port: 8083, targetPort: 'http', protocol: 'tcp', mode: 'http' }],
      ingress: [{ host: '*.b.test', path: '/', pathType: 'Prefix', port: 8083 }],
    }),
    backendTask('shop-1', 'shop', await echoBackend('shop')),
    backendTask('api-1', 'api', await echoBackend('api')),
    backendTask('wild-1', 'wild', await echoBackend('wild')),
  ]);
  const { logger, lines } = captureLogger();
  const lb = await startLoadBalancer({
    informer,
    logger,
    listenHost: '127.0.0.1',
    ingressPort: 80,
    httpsPort: 443,
    certificates: dir,
    admin: false,
    portFor: () => 0,
    accessLog: false,
    debounceMs: 5,
    bindRetryMs: 50,
    healthDefaults: { type: 'tcp', intervalMs: 50, timeoutMs: 50, rise: 1 },
    ...extra,
  });
  cleanup.add(() => lb.close({ graceMs: 0 }));
  await eventually(() => lb.stats().pools.every((p) => p.up === 1), 3000, 'backends UP');
  return {
    lb,
    logs: lines,
    tlsPort: () => lb.frontends.find((f) => f.tls)?.port,
    plainPort: lb.frontends.find((f) => f.id === '127.0.0.1:80')?.port ?? 0,
  };
}

/** The ALPN protocol of the last handshake. */
let negotiated: string | false | null = null;

/** Handshake only, with or without SNI; the chain must verify, the name is checked by the test. */
function handshake(port: number, servername?: string, alpn?: string[]): Promise<tls.PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      {
        host: '127.0.0.1',
        port,
        ca: trusted,
        servername: servername ?? '',
        checkServerIdentity: () => undefined,
        ...(alpn ? { ALPNProtocols: alpn } : {}),
      },
      () => {
        const peer = socket.getPeerCertificate();
        negotiated = socket.alpnProtocol;
        socket.destroy();
        resolve(peer);
      },
    );
    socket.on('error', reject);
  });
}

interface Reply {
  readonly status: number;
  readonly body: Record<string, string>;
  readonly peer: tls.PeerCertificate;
  readonly reused: boolean;
}

/**
 * A GET over HTTPS with `host` as SNI and Host, verified as any HTTPS client would (`anyName`: the
 * chain only, for a name no certificate has).
 */
function get(
  port: number,
  host: string,
  path = '/',
  agent: https.Agent | false = false,
  anyName = false,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port,
        servername: host,
        headers: { host },
        path,
        ca: trusted,
        agent,
        ...(anyName ? { checkServerIdentity: () => undefined } : {}),
      },
      (res) => {
        const peer = (res.socket as tls.TLSSocket).getPeerCertificate();
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text.startsWith('{') ? (JSON.parse(text) as Record<string, string>) : { text },
            peer,
            reused: req.reusedSocket,
          }),
        );
      },
    );
    req.on('error', reject);
  });
}

describe('HTTPS ingress: certificates by SNI', () => {
  test('exact name, one-label wildcard, .crt + .key pair; the first file for unknown names and no SNI', async () => {
    const a = certificate('a.test');
    const wild = certificate('*.b.test');
    const c = certificate('c.test');
    const dir = certDir({ 'a.pem': a.pem, 'b-wild.pem': wild.pem, 'c.crt': c.cert, 'c.key': c.key });
    const proxy = await startProxy(dir);
    const port = proxy.tlsPort() ?? 0;
    expect(proxy.lb.frontends.find((f) => f.tls)).toMatchObject({ mode: 'http', host: '127.0.0.1' });

    const cases: Array<{ sni: string | undefined; cn: string; san: string }> = [
      { sni: 'a.test', cn: 'a.test', san: 'DNS:a.test' },
      { sni: 'A.TEST', cn: 'a.test', san: 'DNS:a.test' },
      { sni: 'shop.b.test', cn: '*.b.test', san: 'DNS:*.b.test' },
      { sni: 'c.test', cn: 'c.test', san: 'DNS:c.test' },
      // A wildcard covers one label only: two labels get the default, as an unknown name does.
      { sni: 'x.shop.b.test', cn: 'a.test', san: 'DNS:a.test' },
      { sni: 'unknown.test', cn: 'a.test', san: 'DNS:a.test' },
      { sni: undefined, cn: 'a.test', san: 'DNS:a.test' },
    ];
    for (const { sni, cn, san } of cases) {
      const peer = await handshake(port, sni);
      expect({ sni, cn: peer.subject.CN, san: peer.subjectaltname }).toEqual({ sni, cn, san });
    }
    // HTTP/1.1 by ALPN, whatever else the client offers.
    await handshake(port, 'a.test', ['h2', 'http/1.1']);
    expect(negotiated).toBe('http/1.1');
  });

  test('routes by the ingress rules over TLS; the backend sees X-Forwarded-Proto https and the TLS port', async () => {
    const dir = certDir({ 'a.pem': certificate('a.test').pem, 'b-wild.pem': certificate('*.b.test').pem });
    const proxy = await startProxy(dir);
    const port = proxy.tlsPort() ?? 0;

    const shop = await get(port, 'a.test', '/cart');
    expect(shop.status).toBe(200);
    expect(shop.body).toEqual({
      backend: 'shop',
      path: '/cart',
      proto: 'https',
      port: String(port),
      host: 'a.test',
    });
    expect(shop.peer.subject.CN).toBe('a.test');
    expect((await get(port, 'a.test', '/api/v1')).body).toMatchObject({ backend: 'api', proto: 'https' });
    const wild = await get(port, 'shop.b.test', '/');
    expect(wild.body).toMatchObject({ backend: 'wild', proto: 'https' });
    expect(wild.peer.subject.CN).toBe('*.b.test');
    expect((await get(port, 'nobody.example', '/', false, true)).status).toBe(404);

    // The plain ingress frontend serves the same rules and still says http.
    const plain = await new Promise<Record<string, string>>((resolve, reject) => {
      http
        .get(
          { host: '127.0.0.1', port: proxy.plainPort, path: '/api', headers: { host: 'a.test' } },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString()));
            res.on('end', () => resolve(JSON.parse(text) as Record<string, string>));
          },
        )
        .on('error', reject);
    });
    expect(plain).toMatchObject({ backend: 'api', proto: 'http', port: String(proxy.plainPort) });
    expect(proxy.lb.stats().frontends.find((f) => f.tls)).toMatchObject({ tls: true, requests: 4 });
  });
});

describe('HTTPS ingress: the certificate directory', () => {
  test('a replaced certificate file serves new connections at once; an open connection keeps its own', async () => {
    const old = certificate('a.test');
    const dir = certDir({ 'a.pem': old.pem, 'b-wild.pem': certificate('*.b.test').pem });
    const proxy = await startProxy(dir);
    const port = proxy.tlsPort() ?? 0;
    // Made first: the agent pools connections by their options, the trusted list included.
    const renewed = certificate('a.test', ['a.test', 'www.a.test']);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    cleanup.add(() => agent.destroy());
    const before = await get(port, 'a.test', '/', agent);
    expect(before.peer.fingerprint256).toBe(new X509Certificate(old.cert).fingerprint256);

    writeFileSync(join(dir, 'a.pem'), renewed.pem);
    await eventually(
      async () => (await handshake(port, 'a.test')).subjectaltname === 'DNS:a.test, DNS:www.a.test',
      3000,
      'the renewed certificate by SNI',
    );
    // The default certificate (no SNI) is the server's own context: it follows too.
    expect((await handshake(port)).subjectaltname).toBe('DNS:a.test, DNS:www.a.test');
    expect((await handshake(port, 'www.a.test')).subjectaltname).toBe('DNS:a.test, DNS:www.a.test');

    const after = await get(port, 'a.test', '/', agent);
    expect(after.reused).toBe(true);
    expect(after.status).toBe(200);
    expect(after.peer.fingerprint256).toBe(before.peer.fingerprint256);
  });

  test('a broken file and a key that is not its certificate’s are skipped and logged once; the others serve', async () => {
    const a = certificate('a.test');
    const other = certificate('other.test');
    const dir = certDir({
      '0-broken.pem': '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n',
      'a.pem': a.pem,
      'm-mismatch.pem': certificate('m.test').cert + other.key,
    });
    const proxy = await startProxy(dir);
    const port = proxy.tlsPort() ?? 0;
    // 0-broken.pem sorts first but does not load: the default is the first loadable file.
    expect((await handshake(port)).subject.CN).toBe('a.test');
    expect((await handshake(port, 'm.test')).subject.CN).toBe('a.test');
    const bad = (): LogLine[] => proxy.logs.filter((l) => l.code === 'SY_LB_BAD_CERTIFICATE');
    expect(bad().map((l) => [l.file, l.reason])).toEqual([
      [join(dir, '0-broken.pem'), expect.stringMatching(/does not parse/)],
      [join(dir, 'm-mismatch.pem'), 'the private key does not match the certificate'],
    ]);

    // A reload (a new file) logs nothing again for files that are still bad.
    writeFileSync(join(dir, 'd.pem'), certificate('d.test').pem);
    await eventually(async () => (await handshake(port, 'd.test')).subject.CN === 'd.test', 3000, 'd.test');
    expect(bad()).toHaveLength(2);
  });

  test('a change that leaves nothing loadable keeps the previous certificates serving', async () => {
    const dir = certDir({ 'a.pem': certificate('a.test').pem });
    const proxy = await startProxy(dir);
    const port = proxy.tlsPort() ?? 0;
    writeFileSync(join(dir, 'a.pem'), '-----BEGIN CERTIFICATE-----\ntruncated');
    await eventually(
      () => proxy.logs.some((l) => l.msg.startsWith('No certificate loaded: no loadable certificate in')),
      3000,
      'the empty reload logged',
    );
    expect(proxy.logs.filter((l) => l.code === 'SY_LB_BAD_CERTIFICATE').map((l) => l.file)).toEqual([
      join(dir, 'a.pem'),
    ]);
    expect((await get(port, 'a.test')).body).toMatchObject({ backend: 'shop', proto: 'https' });
  });

  test('no loadable certificate: the HTTPS frontend fails to bind, saying why, and binds once one appears', async () => {
    const dir = certDir({ 'only.pem': 'nothing here' });
    const proxy = await startProxy(dir);
    expect(proxy.tlsPort()).toBeUndefined();
    expect(proxy.plainPort).toBeGreaterThan(0);
    const bindFailure = proxy.logs.find((l) => l.code === 'SY_LB_BIND_FAILED');
    expect(bindFailure?.msg).toBe(
      `Cannot bind 127.0.0.1:443: no loadable certificate in ${dir} (each *.pem needs a certificate chain and its private key; or name.crt + name.key)`,
    );
    expect(proxy.logs.filter((l) => l.code === 'SY_LB_BAD_CERTIFICATE').map((l) => l.file)).toEqual([
      join(dir, 'only.pem'),
    ]);

    writeFileSync(join(dir, 'a.pem'), certificate('a.test').pem);
    await eventually(() => proxy.tlsPort() !== undefined, 5000, 'the HTTPS frontend bound');
    expect((await get(proxy.tlsPort() ?? 0, 'a.test')).body).toMatchObject({
      backend: 'shop',
      proto: 'https',
    });
  });
});

describe('HTTPS ingress: handshake failures', () => {
  test('plain HTTP on the TLS port is closed and counted; the proxy goes on serving', async () => {
    const dir = certDir({ 'a.pem': certificate('a.test').pem });
    const proxy = await startProxy(dir);
    const port = proxy.tlsPort() ?? 0;
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.write('GET / HTTP/1.1\r\nHost: a.test\r\n\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    expect(received).not.toContain('HTTP/1.1');

    // A client that gives up mid-handshake, and one that does not trust the certificate.
    const half = net.connect(port, '127.0.0.1', () => half.end(Buffer.from([0x16, 0x03, 0x01])));
    half.on('error', () => undefined);
    await new Promise((resolve) => half.once('close', resolve));
    await expect(
      new Promise((resolve, reject) => {
        const distrustful = tls.connect({ host: '127.0.0.1', port, servername: 'a.test' }, () =>
          resolve('connected'),
        );
        distrustful.on('error', reject);
      }),
    ).rejects.toThrow(/self-signed|self signed/);

    await eventually(
      () => (proxy.lb.stats().frontends.find((f) => f.tls)?.tlsHandshakeErrors ?? 0) >= 2,
      2000,
      'handshake errors counted',
    );
    expect((await get(port, 'a.test')).body).toMatchObject({ backend: 'shop', proto: 'https' });
    expect(proxy.lb.stats().panics).toBe(0);
    expect(await proxy.lb.registry.metrics()).toMatch(
      /switchyard_lb_tls_handshake_errors_total\{frontend="[^"]+"\} ([2-9]|\d\d)/,
    );
  });
});
