import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';

/** Hop-by-hop headers (RFC 9110 §7.6.1) plus ones the proxy sets itself or undici refuses. */
const REQUEST_DROP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-host',
]);

const RESPONSE_DROP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-connection',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Header names listed in a Connection header are hop-by-hop too. */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const tokens = new Set<string>();
  for (const part of (Array.isArray(value) ? value.join(',') : value).split(',')) {
    const token = part.trim().toLowerCase();
    if (token !== '' && token !== 'close' && token !== 'keep-alive') tokens.add(token);
  }
  return tokens.size > 0 ? tokens : undefined;
}

function keepHeader(lower: string, extra: Set<string> | undefined, keepUpgrade: boolean): boolean {
  // WebSocket handshakes are replayed verbatim to the backend: Connection and Upgrade must stay.
  if (keepUpgrade && (lower === 'connection' || lower === 'upgrade')) return true;
  return !REQUEST_DROP.has(lower) && !extra?.has(lower);
}

/** The client address as the backend should see it (IPv4-mapped IPv6 unwrapped). */
export function clientAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * The request headers for the backend, as a flat [name, value, …] list: hop-by-hop headers
 * removed, `X-Forwarded-For` extended with the client address, and `X-Forwarded-Proto/Port/Host`
 * set from what this proxy saw (client-sent values are not trusted).
 */
export function forwardRequestHeaders(
  req: IncomingMessage,
  options: { keepUpgrade?: boolean } = {},
): string[] {
  const extra = connectionTokens(req.headers.connection);
  const raw = req.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (keepHeader(name.toLowerCase(), extra, options.keepUpgrade === true))
      out.push(name, raw[i + 1] as string);
  }
  const client = clientAddress(req);
  const prior = req.headers['x-forwarded-for'];
  out.push('x-forwarded-for', prior ? `${prior}, ${client}` : client);
  out.push('x-forwarded-proto', 'http');
  out.push('x-forwarded-port', String(req.socket.localPort ?? ''));
  if (req.headers.host !== undefined) out.push('x-forwarded-host', req.headers.host);
  return out;
}

/** Response headers for the client: hop-by-hop headers removed. */
export function forwardResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const extra = connectionTokens(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || RESPONSE_DROP.has(name) || extra?.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** One cookie's value from a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
