import dgram from 'node:dgram';
import net from 'node:net';
import { isIP } from 'node:net';
import { DnsError, DNS_ERROR_CODES } from './errors';
import { skipName, type ParsedQuery } from './query';
import { HEADER_LENGTH, RCODE, RR_TYPE, FLAG } from './wire';
import type { Transport } from './respond';

/**
 * Forwarding of out-of-zone names: upstreams tried in order (starting from the last one that
 * answered), each with a timeout; transport errors, timeouts, SERVFAIL and REFUSED fail over to
 * the next. UDP queries go over one shared socket per family with a random 16-bit ID per query;
 * TCP queries go over TCP. Good answers are cached (TTL-aware, bounded, LRU).
 */
export interface Upstream {
  readonly host: string;
  readonly port: number;
}

export interface ForwarderOptions {
  readonly upstreams: readonly Upstream[];
  /** Per-upstream attempt timeout (default 2000 ms). */
  readonly timeoutMs?: number;
  /** Cached answers kept (default 1000; 0 disables the cache). */
  readonly cacheSize?: number;
  /** Upper bound on a cached answer's lifetime (default 300 s). */
  readonly maxCacheTtlSeconds?: number;
  readonly now?: () => number;
}

/** `ip`, `ip:port`, `[v6]:port` → Upstream; throws SY_DNS_INVALID_CONFIG. */
export function parseUpstream(text: string, field = 'upstreams'): Upstream {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  let host = text;
  let port = '53';
  if (bracket !== null) {
    host = bracket[1] as string;
    port = bracket[2] ?? '53';
  } else if (text.split(':').length === 2) {
    [host, port] = text.split(':') as [string, string];
  }
  const portNumber = Number(port);
  if (isIP(host) === 0 || !Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) {
    throw new DnsError(DNS_ERROR_CODES.INVALID_CONFIG, `${field}: ${JSON.stringify(text)} is not ip[:port]`, {
      field,
      reason: 'not ip[:port]',
    });
  }
  return { host, port: portNumber };
}

interface CacheEntry {
  readonly wire: Buffer;
  readonly ttlOffsets: readonly number[];
  readonly storedAt: number;
  readonly expiresAt: number;
}

interface Pending {
  readonly resolve: (reply: Buffer | undefined) => void;
  readonly upstream: Upstream;
}

/** Offsets of every TTL field after the question, and the smallest TTL; undefined if malformed. */
function scanTtls(wire: Buffer): { offsets: number[]; min: number } | undefined {
  if (wire.length < HEADER_LENGTH || wire.readUInt16BE(4) !== 1) return undefined;
  let at = skipName(wire, HEADER_LENGTH);
  if (at < 0) return undefined;
  at += 4;
  const count = wire.readUInt16BE(6) + wire.readUInt16BE(8) + wire.readUInt16BE(10);
  const offsets: number[] = [];
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    at = skipName(wire, at);
    if (at < 0 || at + 10 > wire.length) return undefined;
    if (wire.readUInt16BE(at) !== RR_TYPE.OPT) {
      offsets.push(at + 4);
      min = Math.min(min, wire.readUInt32BE(at + 4));
    }
    at += 10 + wire.readUInt16BE(at + 8);
    if (at > wire.length) return undefined;
  }
  return { offsets, min: Number.isFinite(min) ? min : 0 };
}

export class Forwarder {
  private readonly timeoutMs: number;
  private readonly cacheSize: number;
  private readonly maxTtl: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly pending = new Map<number, Pending>();
  private readonly sockets = new Map<4 | 6, dgram.Socket>();
  private preferred = 0;
  private closed = false;

  constructor(
    private upstreams: readonly Upstream[],
    options: Omit<ForwarderOptions, 'upstreams'> = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.cacheSize = options.cacheSize ?? 1000;
    this.maxTtl = options.maxCacheTtlSeconds ?? 300;
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.upstreams.length > 0;
  }

  setUpstreams(upstreams: readonly Upstream[]): void {
    this.upstreams = upstreams;
    this.preferred = 0;
  }

  /** The reply for `request` with the client's ID and question, or undefined when every upstream failed. */
  async forward(
    request: Buffer,
    query: ParsedQuery,
    transport: Transport,
    budget: number,
  ): Promise<{ wire: Buffer; cached: boolean } | undefined> {
    const key = `${query.name}/${query.type}/${query.qclass}/${query.edns?.dnssecOk === true ? 1 : 0}`;
    const hit = this.fromCache(key, request, query, budget);
    if (hit !== undefined) return { wire: hit, cached: true };
    const count = this.upstreams.length;
    let last: Buffer | undefined;
    for (let i = 0; i < count && !this.closed; i++) {
      const index = (this.preferred + i) % count;
      const upstream = this.upstreams[index] as Upstream;
      const reply =
        transport === 'tcp'
          ? await this.exchangeTcp(upstream, request)
          : await this.exchangeUdp(upstream, request);
      if (reply === undefined) continue;
      const rcode = reply.readUInt16BE(2) & 0xf;
      last = reply;
      if (rcode === RCODE.SERVFAIL || rcode === RCODE.REFUSED) continue;
      this.preferred = index;
      this.store(key, reply);
      break;
    }
    if (last === undefined) return undefined;
    last.writeUInt16BE(query.id, 0);
    // We offer recursion to our client even when the upstream (e.g. an authoritative server) does not.
    last.writeUInt16BE(last.readUInt16BE(2) | FLAG.RA, 2);
    return { wire: last, cached: false };
  }

  private fromCache(key: string, request: Buffer, query: ParsedQuery, budget: number): Buffer | undefined {
    const entry = this.cache.get(key);
    if (entry === undefined) return undefined;
    const now = this.now();
    if (now >= entry.expiresAt) {
      this.cache.delete(key);
      return undefined;
    }
    if (entry.wire.length > budget) return undefined;
    this.cache.delete(key);
    this.cache.set(key, entry);
    const out = Buffer.from(entry.wire);
    const elapsed = Math.floor((now - entry.storedAt) / 1000);
    for (const offset of entry.ttlOffsets)
      out.writeUInt32BE(Math.max(0, out.readUInt32BE(offset) - elapsed), offset);
    out.writeUInt16BE(query.id, 0);
    out.writeUInt16BE((out.readUInt16BE(2) & ~FLAG.RD) | (query.flags & FLAG.RD) | FLAG.RA, 2);
    request.copy(out, HEADER_LENGTH, HEADER_LENGTH, query.questionEnd);
    return out;
  }

  private store(key: string, reply: Buffer): void {
    if (this.cacheSize === 0 || (reply.readUInt16BE(2) & FLAG.TC) !== 0) return;
    const scan = scanTtls(reply);
    if (scan === undefined || scan.min === 0) return;
    const now = this.now();
    this.cache.delete(key);
    this.cache.set(key, {
      wire: Buffer.from(reply),
      ttlOffsets: scan.offsets,
      storedAt: now,
      expiresAt: now + Math.min(scan.min, this.maxTtl) * 1000,
    });
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
  }

  private socketFor(family: 4 | 6): dgram.Socket {
    let socket = this.sockets.get(family);
    if (socket !== undefined) return socket;
    socket = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
    socket.on('message', (msg, rinfo) => this.onReply(msg, rinfo));
    socket.on('error', () => undefined);
    socket.unref();
    this.sockets.set(family, socket);
    return socket;
  }

  private onReply(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < HEADER_LENGTH) return;
    const waiter = this.pending.get(msg.readUInt16BE(0));
    // Accept the reply only from the upstream we asked (no off-path spoofing by ID alone).
    if (waiter === undefined || waiter.upstream.port !== rinfo.port || waiter.upstream.host !== rinfo.address)
      return;
    waiter.resolve(msg);
  }

  private exchangeUdp(upstream: Upstream, request: Buffer): Promise<Buffer | undefined> {
    let id = Math.floor(Math.random() * 65536);
    for (let tries = 0; this.pending.has(id) && tries < 16; tries++) id = Math.floor(Math.random() * 65536);
    if (this.pending.has(id)) return Promise.resolve(undefined);
    const outgoing = Buffer.from(request);
    outgoing.writeUInt16BE(id, 0);
    return new Promise((resolve) => {
      const finish = (reply: Buffer | undefined): void => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(reply);
      };
      const timer = setTimeout(() => finish(undefined), this.timeoutMs);
      this.pending.set(id, { resolve: finish, upstream });
      this.socketFor(isIP(upstream.host) === 6 ? 6 : 4).send(
        outgoing,
        upstream.port,
        upstream.host,
        (err) => {
          if (err) finish(undefined);
        },
      );
    });
  }

  private exchangeTcp(upstream: Upstream, request: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: upstream.host, port: upstream.port });
      let buffered: Buffer = Buffer.alloc(0);
      const finish = (reply: Buffer | undefined): void => {
        socket.destroy();
        resolve(reply);
      };
      socket.setTimeout(this.timeoutMs, () => finish(undefined));
      socket.on('error', () => finish(undefined));
      socket.on('close', () => finish(undefined));
      socket.on('connect', () => {
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(request.length);
        socket.write(Buffer.concat([prefix, request]));
      });
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0))
          finish(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      });
    });
  }

  close(): void {
    this.closed = true;
    for (const waiter of this.pending.values()) waiter.resolve(undefined);
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
    this.cache.clear();
  }
}
