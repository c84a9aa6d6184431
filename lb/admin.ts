import http from 'node:http';
import type net from 'node:net';
import type { Registry } from '../lib';
import type { AdminState } from './backend-state';
import { LbErrorCode } from './errors';
import type { FrontendListeners } from './listeners';
import type { LbRuntime } from './runtime';
import { collectStats } from './stats';
import { renderStatsPage } from './stats-page';

/**
 * The admin endpoint: `/` (stats page), `/stats.json`, `/metrics`, `/ready`, and
 * `POST /backends/<id>/{drain,disable,enable}` (HAProxy's drain / maint / ready). Bind it to a
 * loopback or management address: it has no authentication.
 */

const ACTIONS: Readonly<Record<string, AdminState>> = { drain: 'drain', disable: 'maint', enable: 'ready' };

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

function json(res: http.ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json', `${JSON.stringify(value, null, 2)}\n`);
}

export interface AdminContext {
  readonly runtime: LbRuntime;
  readonly listeners: FrontendListeners;
  readonly registry: Registry;
  readonly ready: () => boolean;
}

async function route(ctx: AdminContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const method = req.method ?? 'GET';
  const action = /^\/backends\/([^/]+)\/(drain|disable|enable)$/.exec(path);
  if (action && method === 'POST') {
    const id = decodeURIComponent(action[1] ?? '');
    const admin = ACTIONS[action[2] ?? ''] as AdminState;
    if (!ctx.runtime.setAdminState(id, admin)) {
      json(res, 404, { code: LbErrorCode.UNKNOWN_BACKEND, message: `No backend ${JSON.stringify(id)}` });
    } else json(res, 200, { backend: id, admin });
    return;
  }
  if (method !== 'GET' && method !== 'HEAD') {
    json(res, 405, { message: 'Method not allowed' });
    return;
  }
  await routeGet(ctx, path, res);
}

async function routeGet(ctx: AdminContext, path: string, res: http.ServerResponse): Promise<void> {
  if (path === '/' || path === '/stats') {
    send(
      res,
      200,
      'text/html; charset=utf-8',
      renderStatsPage(collectStats(ctx.runtime, ctx.listeners.bound)),
    );
  } else if (path === '/stats.json') {
    json(res, 200, collectStats(ctx.runtime, ctx.listeners.bound));
  } else if (path === '/metrics') {
    send(res, 200, ctx.registry.contentType, await ctx.registry.metrics());
  } else if (path === '/ready') {
    const ready = ctx.ready();
    json(res, ready ? 200 : 503, { ready, revision: ctx.runtime.table.revision });
  } else json(res, 404, { message: 'Not found' });
}

export function startAdminServer(ctx: AdminContext, host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    route(ctx, req, res).catch((err: unknown) => {
      ctx.runtime.logger.error({ err }, 'Admin request failed');
      if (!res.headersSent) json(res, 500, { code: LbErrorCode.INTERNAL, message: 'Internal error' });
      else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function adminAddress(server: http.Server): { host: string; port: number } {
  const address = server.address() as net.AddressInfo;
  return { host: address.address, port: address.port };
}
