import http from 'node:http';
import type net from 'node:net';
import type { Registry } from '../lib';
import type { CompiledZone } from './zone';

/**
 * The Mesos-DNS HTTP API (reference/dns.md §2) plus /healthz, /readyz and /metrics. JSON is
 * pretty-printed with a one-space indent, as Mesos-DNS does. Unlike Mesos-DNS, /v1/config holds no
 * secrets (there are none to leak).
 */
export interface HttpApiOptions {
  readonly host: string;
  readonly port: number;
  readonly getZone: () => CompiledZone | undefined;
  readonly isReady: () => boolean;
  readonly registry: Registry;
  readonly config: () => Record<string, unknown>;
  readonly version: string;
}

export interface HttpApi {
  readonly address: net.AddressInfo;
  close(): Promise<void>;
}

/** Mesos-DNS cleanWild + lower-case + no trailing dot. */
export function normalizeName(raw: string): string {
  return decodeURIComponent(raw).toLowerCase().split('.*').join('').replace(/\.$/, '');
}

function addressesOf(zone: CompiledZone, name: string): { a: string[]; aaaa: string[] } {
  const records = zone.records(name);
  const pick = (type: 'A' | 'AAAA'): string[] =>
    records.flatMap((r) => (r.data.type === type ? [r.data.address] : []));
  return { a: pick('A'), aaaa: pick('AAAA') };
}

export function hostsResponse(
  zone: CompiledZone | undefined,
  raw: string,
): Array<{ host: string; ip: string }> {
  const name = normalizeName(raw);
  const found = zone === undefined ? { a: [], aaaa: [] } : addressesOf(zone, name);
  const out = [...found.a, ...found.aaaa].map((ip) => ({ host: `${name}.`, ip }));
  return out.length > 0 ? out : [{ host: '', ip: '' }];
}

export function servicesResponse(
  zone: CompiledZone | undefined,
  raw: string,
): Array<{ service: string; host: string; ip: string; port: string }> {
  const name = normalizeName(raw);
  const out: Array<{ service: string; host: string; ip: string; port: string }> = [];
  for (const record of zone?.records(name) ?? []) {
    if (record.data.type !== 'SRV' || zone === undefined) continue;
    const { a, aaaa } = addressesOf(zone, record.data.target);
    const entry = {
      service: decodeURIComponent(raw),
      host: `${record.data.target}.`,
      port: String(record.data.port),
    };
    out.push({ ...entry, ip: a[0] ?? '' });
    if (aaaa[0] !== undefined) out.push({ ...entry, ip: aaaa[0] });
  }
  return out.length > 0 ? out : [{ service: '', host: '', ip: '', port: '' }];
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, null, 1));
}

function sendText(res: http.ServerResponse, status: number, body: string, type = 'text/plain'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

async function route(
  options: HttpApiOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method Not Allowed');
  if (path === '/healthz') return sendText(res, 200, 'ok');
  if (path === '/readyz')
    return options.isReady() ? sendText(res, 200, 'ok') : sendText(res, 503, 'not synced yet');
  if (path === '/metrics')
    return sendText(res, 200, await options.registry.metrics(), options.registry.contentType);
  if (path === '/v1/version')
    return sendJson(res, 200, {
      Service: 'Switchyard DNS (Mesos-DNS API)',
      URL: 'https://github.com/switchyard',
      Version: options.version,
    });
  if (path === '/v1/config') return sendJson(res, 200, options.config());
  const hostPorts = /^\/v1\/hosts\/([^/]+)\/ports$/.exec(path);
  if (hostPorts !== null) return sendText(res, 501, 'To be implemented...');
  const host = /^\/v1\/hosts\/([^/]+)$/.exec(path);
  if (host !== null) return sendJson(res, 200, hostsResponse(options.getZone(), host[1] as string));
  const service = /^\/v1\/services\/([^/]+)$/.exec(path);
  if (service !== null) return sendJson(res, 200, servicesResponse(options.getZone(), service[1] as string));
  return sendText(res, 404, '404: Page Not Found');
}

export function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const server = http.createServer((req, res) => {
    route(options, req, res).catch(() => {
      if (!res.headersSent) sendText(res, 500, 'internal error');
      else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve({
        address: server.address() as net.AddressInfo,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
