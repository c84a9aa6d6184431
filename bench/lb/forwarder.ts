import http from 'node:http';
import type { Dispatcher } from 'undici';
import { Pool } from 'undici';

/**
 * Minimal HTTP forwarders for the library comparison (`npm run bench:lb-library`): the least code
 * each library needs to round-robin over keep-alive connections to the backends. Each runs in a
 * process of its own so it can be pinned like the proxies in `run.ts`.
 *
 *   node -r ./test/helpers/ts-register.js bench/lb/forwarder.ts <kind> <port> <backend port>…
 *
 * kinds: undici-dispatch (Pool.dispatch + handler, Switchyard's design), undici-request
 * (Pool.request + pipe), node-http (http.request + keep-alive Agent + pipe), http-proxy (1.18,
 * `proxy.web` + keep-alive Agent; only when the package is installed). Every forwarder but
 * http-proxy cancels its upstream request when the client goes away (`res.on('close')`);
 * http-proxy is used as its README shows. Prints `ready`, or `skip <reason>` and exits 0.
 */
const [kind = '', portText = '0', ...backendTexts] = process.argv.slice(2);
const backends = backendTexts.map(Number);
let next = 0;
const pick = (): number => backends[next++ % backends.length] as number;

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
]);

function requestHeaders(req: http.IncomingMessage): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP.has((raw[i] as string).toLowerCase())) out.push(raw[i] as string, raw[i + 1] as string);
  }
  return out;
}

function undiciPools(): Pool[] {
  return backends.map((p) => new Pool(`http://127.0.0.1:${p}`, { connections: 256, pipelining: 1 }));
}

function undiciDispatch(): Handler {
  const pools = undiciPools();
  return (req, res) => {
    const pool = pools[next++ % pools.length] as Pool;
    let controller: Dispatcher.DispatchController | undefined;
    res.once('close', () => {
      if (!res.writableFinished) controller?.abort(new Error('client went away'));
    });
    pool.dispatch(
      {
        path: req.url ?? '/',
        method: req.method as Dispatcher.HttpMethod,
        headers: requestHeaders(req),
        body: null,
      },
      {
        onRequestStart: (c) => {
          controller = c;
          if (res.destroyed) c.abort(new Error('client went away'));
        },
        onResponseStart: (c, status, headers) => {
          const out: http.OutgoingHttpHeaders = {};
          for (const [k, v] of Object.entries(headers)) if (!HOP.has(k)) out[k] = v;
          res.writeHead(status, out);
          res.on('drain', () => c.resume());
        },
        onResponseData: (c, chunk) => {
          if (!res.write(chunk)) c.pause();
        },
        onResponseEnd: () => res.end(),
        onResponseError: () => {
          if (!res.headersSent) res.writeHead(502).end();
          else res.destroy();
        },
      },
    );
  };
}

function undiciRequest(): Handler {
  const pools = undiciPools();
  return (req, res) => {
    const pool = pools[next++ % pools.length] as Pool;
    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    pool
      .request({
        path: req.url ?? '/',
        method: req.method as Dispatcher.HttpMethod,
        headers: requestHeaders(req),
        signal: abort.signal,
      })
      .then(
        ({ statusCode, headers, body }) => {
          const out: http.OutgoingHttpHeaders = {};
          for (const [k, v] of Object.entries(headers)) if (!HOP.has(k)) out[k] = v;
          res.writeHead(statusCode, out);
          body.pipe(res);
          body.on('error', () => res.destroy());
        },
        () => {
          if (!res.headersSent) res.writeHead(502).end();
          else res.destroy();
        },
      );
  };
}

function nodeHttp(): Handler {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  return (req, res) => {
    const preq = http.request(
      { host: '127.0.0.1', port: pick(), path: req.url, method: req.method, headers: req.headers, agent },
      (pres) => {
        res.writeHead(pres.statusCode ?? 502, pres.headers);
        pres.pipe(res);
      },
    );
    res.once('close', () => {
      if (!res.writableFinished) preq.destroy();
    });
    preq.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(preq);
  };
}

interface HttpProxyServer {
  web(req: http.IncomingMessage, res: http.ServerResponse, options: { target: string }): void;
  on(
    event: 'error',
    listener: (err: Error, req: http.IncomingMessage, res: http.ServerResponse) => void,
  ): void;
}

function httpProxy(): Handler | string {
  let lib: { createProxyServer(options: { agent: http.Agent }): HttpProxyServer };
  try {
    // Optional, bench-only: ask for `http-proxy` as a devDependency to run this arm.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    lib = require('http-proxy') as typeof lib;
  } catch {
    return 'http-proxy is not installed (npm install --save-dev http-proxy to run this arm)';
  }
  const proxy = lib.createProxyServer({ agent: new http.Agent({ keepAlive: true, maxSockets: 256 }) });
  proxy.on('error', (_err, _req, res) => {
    if (!res.headersSent) res.writeHead(502).end();
    else res.destroy();
  });
  return (req, res) => proxy.web(req, res, { target: `http://127.0.0.1:${pick()}` });
}

const KINDS: Record<string, () => Handler | string> = {
  'undici-dispatch': undiciDispatch,
  'undici-request': undiciRequest,
  'node-http': nodeHttp,
  'http-proxy': httpProxy,
};

const make = KINDS[kind];
if (!make) {
  process.stderr.write(`unknown forwarder ${kind}; one of ${Object.keys(KINDS).join(', ')}\n`);
  process.exit(2);
}
const handler = make();
if (typeof handler === 'string') {
  process.stdout.write(`skip ${handler}\n`);
  process.exit(0);
}
const server = http.createServer({ keepAliveTimeout: 5000, noDelay: true }, handler);
server.listen({ host: '127.0.0.1', port: Number(portText), backlog: 4096 }, () =>
  process.stdout.write('ready\n'),
);
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
