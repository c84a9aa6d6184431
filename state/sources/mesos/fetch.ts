import { lookup as dnsLookup } from 'node:dns/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { isSwitchyardError } from '../../../lib';
import { canonicalIp } from './convert-task';
import { formatHostPort, parseHostPort, parseMesosState, parsePid } from './decode';
import { invalidConfig, SOURCE_ERROR_CODES, SourceError } from './errors';
import type { FetchedState, MesosState } from './types';

/**
 * Reads the leading master's state (reference/dns.md §1.10, Mesos-DNS records/state/client/cli.go):
 * try the last known leader, then the configured masters in order; from each, GET `/master/state`
 * (falling back to `/master/state.json` on 404, remembered per master), following HTTP redirects
 * (a non-leading master answers 307 to the leader); if the state names another master the leader,
 * read the leader's state instead. One attempt is bounded by the state timeout; every failure is a
 * typed SourceError, and a fetch that ran out of masters throws SY_SOURCE_UNAVAILABLE listing them.
 */

export interface FetcherOptions {
  /** `host:port` of each master (Mesos-DNS `masters`). At least one. */
  readonly masters: readonly string[];
  /** Bound on one master's answer, headers to last byte (Mesos-DNS `stateTimeoutSeconds`, 300 s). */
  readonly stateTimeoutMs?: number;
  /** Talk HTTPS to the masters (Mesos-DNS `mesosHTTPSOn`). */
  readonly https?: boolean;
  /** PEM contents for HTTPS: the CA to trust, and a client certificate and key. */
  readonly tls?: {
    readonly ca?: string | Buffer;
    readonly cert?: string | Buffer;
    readonly key?: string | Buffer;
  };
  /** HTTP basic credentials (Mesos-DNS `mesosAuthentication: basic`). */
  readonly credentials?: { readonly principal: string; readonly secret: string };
  /** Largest state accepted (default 256 MiB): a bigger body is SY_SOURCE_BAD_RESPONSE. */
  readonly maxBodyBytes?: number;
  /** Resolves a host name to addresses (default: the system resolver). Tests pin it. */
  readonly lookup?: (host: string) => Promise<readonly string[]>;
  readonly lookupTimeoutMs?: number;
}

export const STATE_PATH = '/master/state';
export const LEGACY_STATE_PATH = '/master/state.json';
const MAX_REDIRECTS = 5;

interface Answer {
  readonly state: MesosState;
  /** `host:port` that finally answered (after redirects). */
  readonly answered: string;
  readonly path: string;
}

function badResponse(message: string, details?: Record<string, unknown>): SourceError {
  return new SourceError(SOURCE_ERROR_CODES.BAD_RESPONSE, message, {
    reason: message,
    ...(details === undefined ? {} : { details }),
  });
}

function defaultLookup(host: string): Promise<readonly string[]> {
  return dnsLookup(host, { all: true }).then((all) => all.map((a) => a.address));
}

function basicAuth(c: { principal: string; secret: string }): string {
  return `Basic ${Buffer.from(`${c.principal}:${c.secret}`).toString('base64')}`;
}

async function readLimited(
  body: Dispatcher.ResponseData['body'],
  max: number,
  where: string,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > max) {
      body.destroy();
      throw badResponse(`${where}: the state is larger than ${max} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function answeredBy(url: URL): string {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return formatHostPort({ host, port });
}

function leaderKey(state: MesosState): string {
  const hp = parsePid(state.leader);
  // decodeMesosState already refused a malformed leader PID.
  return hp === undefined ? state.leader : formatHostPort(hp);
}

function sameMaster(a: string, b: string): boolean {
  const pa = parseHostPort(a);
  const pb = parseHostPort(b);
  if (pa === undefined || pb === undefined) return a === b;
  const host = (h: string): string => canonicalIp(h) ?? h.toLowerCase();
  return pa.port === pb.port && host(pa.host) === host(pb.host);
}

/** Classify what undici (or our abort) threw into a typed error; an outside abort passes through. */
function classify(err: unknown, where: string, timedOut: boolean, timeoutMs: number): unknown {
  if (isSwitchyardError(err)) return err;
  if (timedOut) {
    return new SourceError(
      SOURCE_ERROR_CODES.TIMEOUT,
      `${where}: no complete answer within ${timeoutMs} ms`,
      {
        cause: err,
      },
    );
  }
  const code = (err as { code?: string }).code ?? '';
  if (/TIMEOUT/.test(code)) {
    return new SourceError(SOURCE_ERROR_CODES.TIMEOUT, `${where}: ${code}`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new SourceError(SOURCE_ERROR_CODES.UNREACHABLE, `${where}: ${code || message}`, { cause: err });
}

export class MesosStateFetcher {
  private readonly masters: readonly string[];
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly dispatcher: Agent;
  private readonly headers: Record<string, string>;
  private readonly paths = new Map<string, string>();
  private lastLeader: string | undefined;

  constructor(private readonly options: FetcherOptions) {
    if (options.masters.length === 0) throw invalidConfig('masters', 'at least one master is needed');
    this.masters = options.masters.map((m, i) => {
      const hp = parseHostPort(m);
      if (hp === undefined)
        throw invalidConfig(`masters[${i}]`, `must be "host:port", got ${JSON.stringify(m)}`);
      return formatHostPort(hp);
    });
    this.timeoutMs = options.stateTimeoutMs ?? 300_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 256 * 1024 * 1024;
    const tls = options.tls ?? {};
    this.dispatcher = new Agent({ connect: { ...tls }, keepAliveTimeout: 4000 });
    this.headers = {
      accept: 'application/json',
      'user-agent': 'Switchyard',
      ...(options.credentials === undefined ? {} : { authorization: basicAuth(options.credentials) }),
    };
  }

  /** The leader's state and the host lookups it needs. Throws SY_SOURCE_UNAVAILABLE (or an abort). */
  async fetch(signal?: AbortSignal): Promise<FetchedState> {
    const candidates = [
      ...new Set([...(this.lastLeader === undefined ? [] : [this.lastLeader]), ...this.masters]),
    ];
    const attempts: { master: string; code: string; message: string }[] = [];
    let last: unknown;
    for (const master of candidates) {
      signal?.throwIfAborted();
      try {
        const answer = await this.fromMaster(master, signal);
        this.lastLeader = answer.answered;
        const resolved = await this.resolveHosts(answer.state);
        return { state: answer.state, leader: answer.answered, path: answer.path, resolved };
      } catch (err) {
        if (signal?.aborted === true) throw err;
        last = err;
        const e = err as { code?: string; message?: string };
        attempts.push({ master, code: e.code ?? 'UNKNOWN', message: e.message ?? String(err) });
      }
    }
    this.lastLeader = undefined;
    const summary = attempts.map((a) => `${a.master}: ${a.code}`).join('; ');
    throw new SourceError(SOURCE_ERROR_CODES.UNAVAILABLE, `No master gave a leader's state (${summary})`, {
      cause: last,
      details: { attempts },
    });
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }

  private async fromMaster(master: string, signal: AbortSignal | undefined): Promise<Answer> {
    const first = await this.getState(master, signal);
    const leader = leaderKey(first.state);
    if (sameMaster(leader, first.answered)) return first;
    // A master that is not the leader (older Mesos answers instead of redirecting): ask the leader.
    const second = await this.getState(leader, signal);
    const again = leaderKey(second.state);
    if (!sameMaster(again, second.answered)) {
      throw badResponse(`${master} names ${leader} the leader, but ${second.answered} names ${again}`);
    }
    return second;
  }

  private async getState(master: string, signal: AbortSignal | undefined): Promise<Answer> {
    const known = this.paths.get(master);
    try {
      return await this.get(master, known ?? STATE_PATH, signal);
    } catch (err) {
      const notFound = isSwitchyardError(err) && err.details?.status === 404;
      if (!notFound || known !== undefined) throw err;
      const answer = await this.get(master, LEGACY_STATE_PATH, signal);
      this.paths.set(master, LEGACY_STATE_PATH);
      return answer;
    }
  }

  private async get(master: string, path: string, outer: AbortSignal | undefined): Promise<Answer> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = outer === undefined ? timeout : AbortSignal.any([outer, timeout]);
    let url = new URL(`${this.options.https === true ? 'https' : 'http'}://${master}${path}`);
    try {
      for (let hops = 0; ; hops++) {
        const res = await request(url, {
          method: 'GET',
          headers: this.headers,
          signal,
          dispatcher: this.dispatcher,
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        });
        const location = res.headers.location;
        if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string') {
          await res.body.dump();
          if (hops >= MAX_REDIRECTS)
            throw badResponse(`${master}${path}: more than ${MAX_REDIRECTS} redirects`);
          url = new URL(location, url);
          continue;
        }
        if (res.statusCode !== 200) {
          await res.body.dump();
          throw badResponse(`${url.host}${url.pathname}: HTTP ${res.statusCode}`, { status: res.statusCode });
        }
        const text = await readLimited(res.body, this.maxBodyBytes, `${url.host}${url.pathname}`);
        return { state: parseMesosState(text), answered: answeredBy(url), path: url.pathname };
      }
    } catch (err) {
      if (outer?.aborted === true) throw err;
      throw classify(err, `${master}${path}`, timeout.aborted, this.timeoutMs);
    }
  }

  /** Host names (not IP literals) in the master list and the state's PIDs, looked up in parallel. */
  private async resolveHosts(state: MesosState): Promise<Record<string, readonly string[]>> {
    const hosts = new Set<string>();
    const add = (host: string | undefined): void => {
      if (host !== undefined && host !== '' && canonicalIp(host) === undefined) hosts.add(host);
    };
    for (const m of this.masters) add(parseHostPort(m)?.host);
    add(parsePid(state.leader)?.host);
    for (const a of state.agents) add(parsePid(a.pid)?.host);
    for (const f of state.frameworks) add(f.pid === undefined ? f.hostname : parsePid(f.pid)?.host);
    const lookup = this.options.lookup ?? defaultLookup;
    const limit = this.options.lookupTimeoutMs ?? 5000;
    const entries = await Promise.all(
      [...hosts].map(async (host): Promise<[string, readonly string[]]> => {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<readonly string[]>((resolve) => {
          timer = setTimeout(() => resolve([]), limit);
        });
        try {
          return [host, await Promise.race([lookup(host).catch(() => []), timedOut])];
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return Object.fromEntries(entries.filter(([, ips]) => ips.length > 0));
  }
}
