import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { runCni, type CniEnv, type CniHandlers } from '../cni';
import type { Registry } from '../lib';
import { AgentError, AgentErrorCode } from './errors';

/**
 * The agent's CNI service: HTTP/1.1 on a unix socket in a directory only root may enter (0700).
 * `POST /v1/cni/plugin` and `POST /v1/cni/ipam` take the CNI_* environment as `Cni-*` headers and
 * the config as the body; they answer 200 with the plugin's stdout, or 400 with the CNI error object
 * (the shell forwarder turns that into exit status 1). `GET /readyz`, `/metrics`, `/v1/attachments`.
 */
export interface CniServerOptions {
  socketPath: string;
  plugin: CniHandlers;
  ipam: CniHandlers;
  registry: Registry;
  ready: () => boolean;
  attachments: () => unknown;
  onRequest?: (role: string, command: string, ok: boolean, seconds: number) => void;
}

const MAX_BODY = 1024 * 1024;

function headerEnv(req: IncomingMessage): CniEnv {
  const h = (name: string): string => {
    const v = req.headers[name];
    return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
  };
  return {
    CNI_COMMAND: h('cni-command'),
    CNI_CONTAINERID: h('cni-containerid'),
    CNI_NETNS: h('cni-netns'),
    CNI_IFNAME: h('cni-ifname'),
    CNI_ARGS: h('cni-args'),
    CNI_PATH: h('cni-path'),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: string, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function handleGet(o: CniServerOptions, url: string, res: ServerResponse): Promise<boolean> {
  if (url === '/readyz') {
    const ready = o.ready();
    send(res, ready ? 200 : 503, ready ? 'ready\n' : 'not ready\n', 'text/plain');
  } else if (url === '/metrics') send(res, 200, await o.registry.metrics(), o.registry.contentType);
  else if (url === '/v1/attachments') send(res, 200, JSON.stringify(o.attachments()));
  else return false;
  return true;
}

const ROLES: Readonly<Record<string, 'plugin' | 'ipam'>> = {
  '/v1/cni/plugin': 'plugin',
  '/v1/cni/ipam': 'ipam',
};

async function handle(o: CniServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  if (req.method === 'GET' && (await handleGet(o, url, res))) return;
  const role = ROLES[url];
  if (req.method !== 'POST' || role === undefined) return send(res, 404, '{"error":"not found"}');
  const started = process.hrtime.bigint();
  const env = headerEnv(req);
  const out = await runCni(env, await readBody(req), role === 'plugin' ? o.plugin : o.ipam);
  o.onRequest?.(
    role,
    env.CNI_COMMAND ?? '',
    out.exitCode === 0,
    Number(process.hrtime.bigint() - started) / 1e9,
  );
  send(res, out.exitCode === 0 ? 200 : 400, out.stdout);
}

/** A live socket is refused; a stale one (nobody listening) is removed. */
async function clearStaleSocket(path: string): Promise<void> {
  const live = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (live) throw new AgentError(AgentErrorCode.SOCKET, `${path} is in use by another process`);
  await rm(path, { force: true });
}

async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await stat(dir);
  if ((info.mode & 0o077) !== 0) {
    throw new AgentError(
      AgentErrorCode.SOCKET,
      `${dir} must be mode 0700 (only root may reach the CNI socket), it is ${(info.mode & 0o777).toString(8)}`,
      { field: 'socketPath' },
    );
  }
}

export async function startCniServer(
  o: CniServerOptions,
): Promise<{ server: Server; close(): Promise<void> }> {
  await ensurePrivateDir(dirname(o.socketPath));
  await clearStaleSocket(o.socketPath);
  const server = createServer((req, res) => {
    handle(o, req, res).catch((error: unknown) =>
      send(res, 500, JSON.stringify({ code: 999, msg: 'internal error', details: String(error) })),
    );
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.socketPath, () => resolve());
  });
  await chmod(o.socketPath, 0o600);
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
