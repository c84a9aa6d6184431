/**
 * HTTP/1.x message heads (RFC 9112), parsed strictly and once: the proxy reads a request head into
 * the few facts it acts on (framing, keep-alive, routing keys) plus the header block to forward
 * with hop-by-hop fields already removed, so forwarding is string concatenation, not a header
 * object per request. Anything ambiguous is an error, never a guess: that is what keeps request
 * smuggling out (RFC 9112 §6.3, §11.2).
 */

/** A head the proxy refuses: the status to answer and why (for the access log). */
export class HeadError extends Error {
  constructor(
    readonly status: 400 | 431 | 501 | 502 | 505,
    message: string,
  ) {
    super(message);
    this.name = 'HeadError';
  }
}

export interface RequestHead {
  readonly method: string;
  /** origin-form (`/path?q`), or `*`; an absolute-form target is reduced to its path. */
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minor: number;
  /** The body length, or -1 when there is no Content-Length. */
  readonly contentLength: number;
  readonly chunked: boolean;
  /** The client wants the connection kept after this exchange. */
  readonly keepAlive: boolean;
  /** Host (from the absolute-form target when there is one); undefined when absent. */
  readonly host: string | undefined;
  /** The Upgrade header's value when the client asked to switch protocols (Connection: upgrade). */
  readonly upgrade: string | undefined;
  readonly expectContinue: boolean;
  readonly forwardedFor: string | undefined;
  readonly cookie: string | undefined;
  /** `Name: value\r\n` lines to forward: hop-by-hop fields, framing and X-Forwarded-* removed. */
  readonly headers: string;
}

export interface ResponseHead {
  readonly status: number;
  readonly minor: number;
  /** What follows `HTTP/1.x` on the status line: ` 200 OK`. */
  readonly statusRest: string;
  readonly contentLength: number;
  readonly chunked: boolean;
  /** The backend keeps the connection after this response. */
  readonly keepAlive: boolean;
  /** `Keep-Alive: timeout=N` from the backend, in ms; -1 when not given. */
  readonly keepAliveTimeoutMs: number;
  /** `Name: value\r\n` lines to forward: hop-by-hop fields and framing removed. */
  readonly headers: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control characters other than HTAB, CR and LF anywhere in a head. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
/** A CR not followed by LF, or an LF not preceded by CR: bare line ends are refused. */
const BARE_LINE_END = /\r(?!\n)|(?<!\r)\n/;
const DIGITS = /^[0-9]{1,15}$/;
/** uri-host [":" port] (RFC 9110 §7.2): reg-name, IP-literal and port characters; no userinfo. */
const HOST = /^[A-Za-z0-9\-._~!$&'()*+,;=%:[\]]*$/;

/** The fields a proxy consumes or sets itself; they are never forwarded as received. */
const REQUEST_DROP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'content-length',
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
  'content-length',
  'upgrade',
]);
/** Names worth lower-casing are only of these lengths; other names are forwarded untouched. */
const INTERESTING_LENGTHS = new Set(
  [...REQUEST_DROP, ...RESPONSE_DROP, 'host', 'cookie'].map((n) => n.length),
);

/** The fields both parsers read; filled while the header block is scanned. */
interface Fields {
  headers: string;
  contentLength: number;
  chunked: boolean;
  transferEncoding: boolean;
  close: boolean;
  keepAliveToken: boolean;
  upgradeToken: boolean;
  upgrade: string | undefined;
  host: string | undefined;
  hosts: number;
  expect: string | undefined;
  forwardedFor: string | undefined;
  cookie: string | undefined;
  keepAliveHeader: string | undefined;
  /** Connection tokens naming other fields (hop-by-hop by declaration), lower-case. */
  extra: string[] | undefined;
}

function emptyFields(): Fields {
  return {
    headers: '',
    contentLength: -1,
    chunked: false,
    transferEncoding: false,
    close: false,
    keepAliveToken: false,
    upgradeToken: false,
    upgrade: undefined,
    host: undefined,
    hosts: 0,
    expect: undefined,
    forwardedFor: undefined,
    cookie: undefined,
    keepAliveHeader: undefined,
    extra: undefined,
  };
}

/** Strip OWS (SP and HTAB only: String.prototype.trim would also eat NBSP, \xa0 in latin1). */
function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s.charCodeAt(start) === 32 || s.charCodeAt(start) === 9)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 9)) end--;
  return s.slice(start, end);
}

function connectionTokens(value: string, f: Fields): void {
  for (const part of value.split(',')) {
    const token = trimOws(part).toLowerCase();
    if (token === '') continue;
    if (token === 'close') f.close = true;
    else if (token === 'keep-alive') f.keepAliveToken = true;
    else if (token === 'upgrade') f.upgradeToken = true;
    // Host routes the request: a client cannot declare it hop-by-hop and have it removed.
    else if (token !== 'host') (f.extra ??= []).push(token);
  }
}

function setContentLength(value: string, f: Fields, status: 400 | 502): void {
  // A list of identical values is one value (RFC 9110 §8.6); anything else is refused.
  for (const part of value.split(',')) {
    const trimmed = trimOws(part);
    if (!DIGITS.test(trimmed)) throw new HeadError(status, `Invalid Content-Length: ${value}`);
    const length = Number(trimmed);
    if (f.contentLength >= 0 && f.contentLength !== length)
      throw new HeadError(status, 'Conflicting Content-Length values');
    f.contentLength = length;
  }
}

function setTransferEncoding(value: string, f: Fields, status: 400 | 502): void {
  if (f.transferEncoding) throw new HeadError(status, 'More than one Transfer-Encoding field');
  f.transferEncoding = true;
  if (value.toLowerCase() !== 'chunked')
    throw new HeadError(
      status === 400 ? 501 : status,
      `Transfer-Encoding "${value}" is not supported (only chunked)`,
    );
  f.chunked = true;
}

/** One header field: validate, note what the proxy reads, keep it when it is end-to-end. */
function field(line: string, f: Fields, drop: ReadonlySet<string>, status: 400 | 502): void {
  const colon = line.indexOf(':');
  const name = colon > 0 ? line.slice(0, colon) : '';
  if (!TOKEN.test(name)) throw new HeadError(status, `Malformed header line: ${line.slice(0, 40)}`);
  if (!INTERESTING_LENGTHS.has(name.length)) {
    f.headers += `${line}\r\n`;
    return;
  }
  const lower = name.toLowerCase();
  note(lower, trimOws(line.slice(colon + 1)), f, status);
  if (!drop.has(lower)) f.headers += `${line}\r\n`;
}

/** Record what the proxy reads from one field (`lower`: its lower-cased name). */
function note(lower: string, value: string, f: Fields, status: 400 | 502): void {
  switch (lower) {
    case 'content-length':
      setContentLength(value, f, status);
      break;
    case 'transfer-encoding':
      setTransferEncoding(value, f, status);
      break;
    case 'connection':
    case 'proxy-connection':
      connectionTokens(value, f);
      break;
    case 'host':
      f.host = value;
      f.hosts++;
      break;
    case 'upgrade':
      f.upgrade = value;
      break;
    case 'expect':
      f.expect = value.toLowerCase();
      break;
    case 'x-forwarded-for':
      f.forwardedFor = f.forwardedFor === undefined ? value : `${f.forwardedFor}, ${value}`;
      break;
    case 'cookie':
      f.cookie = f.cookie === undefined ? value : `${f.cookie}; ${value}`;
      break;
    case 'keep-alive':
      f.keepAliveHeader = value;
      break;
    default:
  }
}

/** Scan the header lines of `head` from `from` (each ends in CRLF but the last). */
function scanFields(head: string, from: number, drop: ReadonlySet<string>, status: 400 | 502): Fields {
  const f = emptyFields();
  let pos = from;
  while (pos < head.length) {
    let end = head.indexOf('\r\n', pos);
    if (end < 0) end = head.length;
    field(head.slice(pos, end), f, drop, status);
    pos = end + 2;
  }
  if (f.extra) f.headers = withoutFields(f.headers, f.extra);
  return f;
}

/** Remove the fields a Connection header declared hop-by-hop (rare: a second pass is fine). */
function withoutFields(headers: string, names: readonly string[]): string {
  const lines = headers.split('\r\n');
  lines.pop();
  const kept = lines.filter((line) => !names.includes(line.slice(0, line.indexOf(':')).toLowerCase()));
  return kept.length === 0 ? '' : `${kept.join('\r\n')}\r\n`;
}

function checkCharacters(head: string, status: 400 | 502): void {
  if (CONTROL.test(head)) throw new HeadError(status, 'Control character in the message head');
  if (BARE_LINE_END.test(head)) throw new HeadError(status, 'Bare CR or LF in the message head');
}

function parseVersion(version: string | undefined, status: 400 | 502): number {
  if (version === 'HTTP/1.1') return 1;
  if (version === 'HTTP/1.0') return 0;
  if (version !== undefined && /^HTTP\/\d(\.\d)?$/.test(version))
    throw new HeadError(status === 400 ? 505 : status, `Unsupported version ${version}`);
  throw new HeadError(status, 'Malformed start line');
}

/** Reduce an absolute-form target (`http://host/p`) to origin-form plus its authority. */
function splitAbsolute(target: string): { path: string; authority: string } | undefined {
  const scheme = target.indexOf('://');
  if (scheme < 0 || !/^https?$/i.test(target.slice(0, scheme))) return undefined;
  const start = scheme + 3;
  let end = start;
  while (end < target.length && target[end] !== '/' && target[end] !== '?') end++;
  const rest = target.slice(end);
  return { authority: target.slice(start, end), path: rest.startsWith('?') ? `/${rest}` : rest || '/' };
}

/** The request line: method, target as sent, and minor version. */
function requestLine(line: string): { method: string; target: string; minor: number } {
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 <= sp1 + 1 || line.indexOf(' ', sp2 + 1) >= 0)
    throw new HeadError(400, 'Malformed request line');
  const method = line.slice(0, sp1);
  if (!TOKEN.test(method)) throw new HeadError(400, 'Malformed method');
  const minor = parseVersion(line.slice(sp2 + 1), 400);
  if (method === 'CONNECT') throw new HeadError(501, 'CONNECT is not supported');
  return { method, target: line.slice(sp1 + 1, sp2), minor };
}

/**
 * The target in origin-form and the host to route on. An absolute-form authority replaces the
 * received Host, in the forwarded header block too (RFC 9112 §3.2.2), so the backend sees the host
 * the request was routed by.
 */
function targetAndHost(
  target: string,
  minor: number,
  f: Fields,
): { target: string; host: string | undefined; headers: string } {
  if (f.hosts > 1) throw new HeadError(400, 'More than one Host field');
  if (minor === 1 && f.hosts === 0) throw new HeadError(400, 'HTTP/1.1 request without Host');
  if (f.host !== undefined && !HOST.test(f.host)) throw new HeadError(400, 'Malformed Host');
  if (target.charCodeAt(0) === 47 /* / */ || target === '*')
    return { target, host: f.host, headers: f.headers };
  const absolute = splitAbsolute(target);
  // An empty host (RFC 9110 §4.2.1) or userinfo (§4.2.4) in the authority is refused.
  if (!absolute || absolute.authority === '' || !HOST.test(absolute.authority))
    throw new HeadError(400, 'Malformed request target');
  const headers = `${withoutFields(f.headers, ['host'])}Host: ${absolute.authority}\r\n`;
  return { target: absolute.path, host: absolute.authority, headers };
}

/**
 * Parse a request head: `head` is the text before the blank line (latin1, no final CRLFCRLF).
 * Throws HeadError (400, 501, 505) for anything malformed or ambiguous.
 */
export function parseRequestHead(head: string): RequestHead {
  checkCharacters(head, 400);
  const lineEnd = head.indexOf('\r\n');
  const { method, target: sent, minor } = requestLine(lineEnd < 0 ? head : head.slice(0, lineEnd));
  // The asterisk form is only for a server-wide OPTIONS (RFC 9112 §3.2.4).
  if (sent === '*' && method !== 'OPTIONS') throw new HeadError(400, 'Asterisk target outside OPTIONS');
  const f = scanFields(head, lineEnd < 0 ? head.length : lineEnd + 2, REQUEST_DROP, 400);
  const { target, host, headers } = targetAndHost(sent, minor, f);
  if (f.transferEncoding && (minor === 0 || f.contentLength >= 0))
    throw new HeadError(400, 'Transfer-Encoding with Content-Length or in HTTP/1.0');
  return {
    method,
    target,
    minor,
    contentLength: f.contentLength,
    chunked: f.chunked,
    keepAlive: minor === 1 ? !f.close : f.keepAliveToken && !f.close,
    host,
    // Upgrade and Expect in an HTTP/1.0 request are ignored (RFC 9110 §7.8, §10.1.1).
    upgrade: minor === 1 && f.upgradeToken && f.upgrade ? f.upgrade : undefined,
    expectContinue: minor === 1 && f.expect === '100-continue',
    forwardedFor: f.forwardedFor,
    cookie: f.cookie,
    headers,
  };
}

function keepAliveTimeoutMs(value: string | undefined): number {
  const match = value === undefined ? null : /(?:^|[,\s])timeout\s*=\s*(\d{1,6})(?![0-9])/i.exec(value);
  return match ? Number(match[1]) * 1000 : -1;
}

/** Parse a response head from a backend; malformed or ambiguous → HeadError(502). */
export function parseResponseHead(head: string): ResponseHead {
  checkCharacters(head, 502);
  const lineEnd = head.indexOf('\r\n');
  const line = lineEnd < 0 ? head : head.slice(0, lineEnd);
  const minor = parseVersion(line.slice(0, 8), 502);
  const statusRest = line.slice(8);
  const code = statusRest.slice(1, 4);
  if (statusRest.charCodeAt(0) !== 32 || !/^[1-5][0-9][0-9]$/.test(code))
    throw new HeadError(502, 'Malformed status line');
  if (statusRest.length > 4 && statusRest.charCodeAt(4) !== 32)
    throw new HeadError(502, 'Malformed status line');
  const f = scanFields(head, lineEnd < 0 ? head.length : lineEnd + 2, RESPONSE_DROP, 502);
  // An HTTP/1.0 message with Transfer-Encoding has faulty framing (RFC 9112 §6.1).
  if (f.transferEncoding && (minor === 0 || f.contentLength >= 0))
    throw new HeadError(502, 'Transfer-Encoding with Content-Length or in HTTP/1.0');
  return {
    status: Number(code),
    minor,
    statusRest,
    contentLength: f.contentLength,
    chunked: f.chunked,
    keepAlive: minor === 1 ? !f.close : f.keepAliveToken && !f.close,
    keepAliveTimeoutMs: keepAliveTimeoutMs(f.keepAliveHeader),
    headers: f.headers,
  };
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Empty lines (CRLF) before a request line, which RFC 9112 §2.2 asks servers to skip: their length. */
export function leadingEmptyLines(buffer: Buffer): number {
  let at = 0;
  while (at + 1 < buffer.length && buffer[at] === 13 && buffer[at + 1] === 10) at += 2;
  return at;
}

/**
 * Where the head in `buffer` ends: the index just past CRLFCRLF, or -1. `from` lets a caller
 * that already searched a prefix skip it (it backs up 3 bytes for a split terminator).
 */
export function headEnd(buffer: Buffer, from: number): number {
  const at = buffer.indexOf(CRLFCRLF, Math.max(0, from - 3));
  return at < 0 ? -1 : at + 4;
}
