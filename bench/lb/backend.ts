import http from 'node:http';
import type net from 'node:net';

/**
 * The benchmark's backends: one small node:http process listening on every port given on the
 * command line (127.0.0.1 only), the same for Switchyard and HAProxy.
 *
 *   GET /           → 200, a 1 KiB body (keep-alive)
 *   GET /big        → 200, a 64 KiB body (bulk transfer)
 *   GET /health     → 200 "ok"
 *   GET /reset      → half a response head, then a TCP reset (a backend that dies mid-answer)
 *   GET /slow?ms=N  → 200 after N ms (N ≤ 10000): for clients that give up mid-request
 *
 * Prints `ready <port,…>` once every port listens and, on SIGUSR2, `open <sockets> inflight <n>`
 * (connections open now, /slow requests still being answered); exits on SIGTERM.
 */
const BODY = Buffer.alloc(1024, 'x');
const BIG = Buffer.alloc(64 * 1024, 'y');
const ports = process.argv.slice(2).map(Number);
const sockets = new Set<net.Socket>();
let inflight = 0;

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = req.url ?? '/';
  if (url.startsWith('/slow')) {
    const ms = Math.min(10_000, Number(/ms=(\d+)/.exec(url)?.[1] ?? 100));
    inflight++;
    const timer = setTimeout(() => res.end('slow'), ms);
    res.once('close', () => {
      inflight--;
      clearTimeout(timer);
    });
    return;
  }
  if (url === '/reset') {
    req.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n');
    req.socket.resetAndDestroy();
    return;
  }
  if (url === '/health') {
    res.end('ok');
    return;
  }
  const body = url === '/big' ? BIG : BODY;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
}

const servers = ports.map((port) => {
  const server = http.createServer({ keepAliveTimeout: 60_000 }, handle);
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return new Promise<http.Server>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => resolve(server));
  });
});

Promise.all(servers).then(
  (bound) => {
    process.stdout.write(`ready ${ports.join(',')}\n`);
    process.on('SIGUSR2', () => process.stdout.write(`open ${sockets.size} inflight ${inflight}\n`));
    process.once('SIGTERM', () => {
      for (const server of bound) server.close();
      for (const s of sockets) s.destroy();
      process.exit(0);
    });
  },
  (err: Error) => {
    process.stderr.write(`backend: ${err.message}\n`);
    process.exit(1);
  },
);
