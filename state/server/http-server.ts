import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ListResult } from '../api';
import { HTTP_STATUS, StateError, StateErrorCode } from '../errors';
import type { Kind } from '../model';
import { asStateError } from '../proto';
import { isLoopbackHost, unauthenticated, type TokenCheck } from './auth';
import { parseBody, readBody } from './http-body';
import {
  inputFromBody,
  optionalParam,
  parseBookmarkMs,
  parseWatchFrom,
  parseWriteOptions,
  refFromUrl,
} from './http-request';
import { matchRoute, UNMATCHED, type RouteMatch } from './http-router';
import { serveHttpWatch } from './http-watch';
import type { ServerMetrics } from './metrics';
import type { ResolvedServerOptions } from './options';
import type { WatchTracker } from './watches';

export interface HttpFrontDoor {
  address: { host: string; port: number };
  close(): Promise<void>;
}

interface HttpDeps {
  options: ResolvedServerOptions;
  metrics: ServerMetrics;
  watches: WatchTracker;
  checkToken: TokenCheck;
  readsNeedToken: boolean;
}

const WRITES: ReadonlySet<string> = new Set(['create', 'replace', 'delete']);
const OPEN: ReadonlySet<string> = new Set(['healthz', 'readyz']);

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Writes `{ error: { code, message, field?, reason? } }` with the code's HTTP status. */
export function sendError(res: ServerResponse, error: StateError): number {
  const status = typeof error.details?.status === 'number' ? error.details.status : HTTP_STATUS[error.code];
  const headers: http.OutgoingHttpHeaders = {};
  if (typeof error.details?.allow === 'string') headers.Allow = error.details.allow;
  if (error.code === StateErrorCode.UNAUTHENTICATED) headers['WWW-Authenticate'] = 'Bearer';
  // An unread (oversize) body would be parsed as the next request: close the connection.
  if (error.code === StateErrorCode.TOO_LARGE) headers.Connection = 'close';
  if (res.headersSent) {
    res.destroy();
    return status;
  }
  sendJson(res, status, { error: error.toJSON() }, headers);
  return status;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StateError(StateErrorCode.UNAVAILABLE, `request took longer than ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function runObjectOperation(
  req: IncomingMessage,
  res: ServerResponse,
  match: RouteMatch,
  url: URL,
  deps: HttpDeps,
): Promise<void> {
  const { api, limits } = deps.options;
  const kind = match.kind as Kind;
  const query = url.searchParams;
  if (match.operation === 'list') {
    const result: ListResult = await api.list({
      kind,
      namespace: optionalParam(query, 'namespace'),
      selector: optionalParam(query, 'selector'),
    });
    sendJson(res, 200, { kind, revision: result.revision, items: result.items });
    return;
  }
  if (match.operation === 'get') {
    const object = await api.get(refFromUrl(kind, match.name as string, query));
    sendJson(res, 200, object, { ETag: `"${object.revision}"` });
    return;
  }
  const writeOptions = parseWriteOptions(req.headers, query);
  if (match.operation === 'delete') {
    const object = await api.delete(refFromUrl(kind, match.name as string, query), writeOptions);
    sendJson(res, 200, object);
    return;
  }
  const body = parseBody(await readBody(req, limits.maxBodyBytes), req.headers['content-type']);
  const input = inputFromBody(body, kind, match.name, query);
  const object = await api.apply(input, writeOptions);
  // 200 for creates too: apply is declarative, and a no-op re-apply cannot be told from a create.
  sendJson(res, 200, object, { ETag: `"${object.revision}"` });
}

async function serveWatch(
  req: IncomingMessage,
  res: ServerResponse,
  match: RouteMatch,
  url: URL,
  deps: HttpDeps,
): Promise<void> {
  const query = url.searchParams;
  const { limits, api, logger } = deps.options;
  const options = {
    from: parseWatchFrom(req.headers, query),
    kind: match.kind,
    namespace: optionalParam(query, 'namespace'),
    selector: optionalParam(query, 'selector'),
    bookmarkIntervalMs: parseBookmarkMs(query, limits.bookmarkIntervalMs, limits.minBookmarkIntervalMs),
  };
  const sse = (req.headers.accept ?? '').includes('text/event-stream');
  await serveHttpWatch(res, { options, sse }, { api, watches: deps.watches, logger });
}

async function dispatch(
  req: IncomingMessage,
  res: ServerResponse,
  match: RouteMatch,
  url: URL,
  deps: HttpDeps,
): Promise<void> {
  const { options } = deps;
  const needsToken = WRITES.has(match.operation) || (deps.readsNeedToken && !OPEN.has(match.operation));
  if (needsToken && !deps.checkToken(req.headers.authorization)) throw unauthenticated();
  switch (match.operation) {
    case 'healthz':
      return sendText(res, 200, 'ok\n');
    case 'readyz':
      return options.ready() ? sendText(res, 200, 'ok\n') : sendText(res, 503, 'not ready\n');
    case 'metrics':
      return sendText(res, 200, await options.registry.metrics(), options.registry.contentType);
    case 'watch':
      return serveWatch(req, res, match, url, deps);
    default:
      return withTimeout(runObjectOperation(req, res, match, url, deps), options.limits.requestTimeoutMs);
  }
}

function createHandler(deps: HttpDeps): http.RequestListener {
  return (req, res) => {
    const started = process.hrtime.bigint();
    const method = req.method ?? 'GET';
    let template = UNMATCHED;
    let operation = 'unmatched';
    const finish = (status: number): void => {
      deps.metrics.httpRequests.inc({ method, route: template, code: String(status) });
      if (operation === 'watch') return;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      deps.metrics.requestDuration.observe({ transport: 'http', operation }, seconds);
    };
    const run = async (): Promise<number> => {
      const url = new URL(req.url ?? '/', 'http://state.invalid');
      const match = matchRoute(method, url.pathname, url.searchParams);
      template = match.template;
      operation = match.operation;
      await dispatch(req, res, match, url, deps);
      return res.statusCode;
    };
    run().then(finish, (error: unknown) => {
      const stateError = asStateError(error);
      if (!(error instanceof StateError))
        deps.options.logger.error({ err: error }, 'REST request failed unexpectedly');
      finish(sendError(res, stateError));
    });
  };
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Tracks connections and their in-flight requests so close() can cut idle ones at once (including
 * connections a client opened but never used) and busy ones as soon as their response is done.
 */
function trackConnections(server: http.Server): { drain(graceMs: number): Promise<void> } {
  const inFlight = new Map<Socket, number>();
  let closing = false;
  server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      if (closing && left === 0) socket.destroy();
    });
  });
  return {
    drain: async (graceMs) => {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const [socket, count] of inFlight) if (count === 0) socket.destroy();
      const grace = setTimeout(() => {
        for (const socket of inFlight.keys()) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(grace);
    },
  };
}

/** The REST/JSON front door on node:http. */
export async function startHttpFrontDoor(
  deps: Omit<HttpDeps, 'readsNeedToken'>,
  listenOn: { host: string; port: number },
): Promise<HttpFrontDoor> {
  const { limits, anonymousReads } = deps.options;
  const readsNeedToken = !isLoopbackHost(listenOn.host) && !anonymousReads;
  const server = http.createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: Math.min(limits.requestTimeoutMs, 60_000),
  });
  const connections = trackConnections(server);
  server.on('request', createHandler({ ...deps, readsNeedToken }));
  await listen(server, listenOn.host, listenOn.port);
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : listenOn.port;
  return {
    address: { host: listenOn.host, port },
    close: () => connections.drain(limits.closeGraceMs),
  };
}
