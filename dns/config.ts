import { readFileSync } from 'node:fs';
import type { Logger, Registry } from '../lib';
import { DnsError, DNS_ERROR_CODES } from './errors';
import type { InformerLike } from './feeder';
import { parseUpstream, type Upstream } from './forward';
import type { ZoneSnapshot } from './compile';
import type { ZoneOptions } from './options';

/** Options of `startDnsServer`, checked and defaulted here (one place) before anything binds. */
export interface DnsServerOptions {
  /** DNS listen address (default 127.0.0.1) and port (default 53; 0 picks one). */
  host?: string;
  port?: number;
  /** HTTP API listen address and port (default host, 8123; 0 picks one); `false` disables it. */
  httpHost?: string;
  httpPort?: number | false;
  /** The state feed. Exactly one of `informer` and `snapshot`. */
  informer?: InformerLike;
  /** A fixed zone instead of a feed (examples, tests). */
  snapshot?: ZoneSnapshot;
  zone?: ZoneOptions;
  /** Forward out-of-zone names (default true); false answers REFUSED (Mesos-DNS `externalOn`). */
  forwarding?: boolean;
  /** `ip[:port]` upstreams; overrides the Network's. When neither has any: `resolvConfPath`. */
  upstreams?: readonly string[];
  /** Read upstreams from this file when none are configured (default /etc/resolv.conf). */
  resolvConfPath?: string;
  forwardTimeoutMs?: number;
  forwardCacheSize?: number;
  /** Largest UDP answer and the size advertised in OPT (default 1232). */
  maxUdpSize?: number;
  tcpIdleTimeoutMs?: number;
  maxTcpConnections?: number;
  udpRecvBufferBytes?: number;
  registry?: Registry;
  logger?: Logger;
  /** Rotation randomness (tests pin it). */
  random?: (n: number) => number;
}

export interface ResolvedServerOptions {
  readonly host: string;
  readonly port: number;
  readonly httpHost: string;
  readonly httpPort: number | false;
  readonly forwarding: boolean;
  readonly upstreams: readonly Upstream[] | undefined;
  readonly resolvConfPath: string;
  readonly forwardTimeoutMs: number;
  readonly forwardCacheSize: number;
  readonly maxUdpSize: number;
  readonly tcpIdleTimeoutMs: number;
  readonly maxTcpConnections: number;
  readonly udpRecvBufferBytes: number;
}

function integer(
  value: number | undefined,
  fallback: number,
  field: string,
  min: number,
  max: number,
): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new DnsError(DNS_ERROR_CODES.INVALID_CONFIG, `${field} must be an integer ${min}-${max}`, {
      field,
      reason: 'out of range',
    });
  }
  return v;
}

export function resolveServerOptions(options: DnsServerOptions): ResolvedServerOptions {
  if ((options.informer === undefined) === (options.snapshot === undefined)) {
    throw new DnsError(DNS_ERROR_CODES.INVALID_CONFIG, 'give exactly one of informer and snapshot', {
      field: 'informer',
      reason: 'informer and snapshot are exclusive',
    });
  }
  if (options.forwarding === false && options.upstreams !== undefined && options.upstreams.length > 0) {
    throw new DnsError(DNS_ERROR_CODES.INVALID_CONFIG, 'upstreams are set but forwarding is false', {
      field: 'upstreams',
      reason: 'contradicts forwarding: false',
    });
  }
  const host = options.host ?? '127.0.0.1';
  return {
    host,
    port: integer(options.port, 53, 'port', 0, 65535),
    httpHost: options.httpHost ?? host,
    httpPort: options.httpPort === false ? false : integer(options.httpPort, 8123, 'httpPort', 0, 65535),
    forwarding: options.forwarding ?? true,
    upstreams: options.upstreams?.map((u, i) => parseUpstream(u, `upstreams[${i}]`)),
    resolvConfPath: options.resolvConfPath ?? '/etc/resolv.conf',
    forwardTimeoutMs: integer(options.forwardTimeoutMs, 2000, 'forwardTimeoutMs', 1, 60000),
    forwardCacheSize: integer(options.forwardCacheSize, 1000, 'forwardCacheSize', 0, 1_000_000),
    maxUdpSize: integer(options.maxUdpSize, 1232, 'maxUdpSize', 512, 65535),
    tcpIdleTimeoutMs: integer(options.tcpIdleTimeoutMs, 10000, 'tcpIdleTimeoutMs', 1, 3_600_000),
    maxTcpConnections: integer(options.maxTcpConnections, 1000, 'maxTcpConnections', 1, 1_000_000),
    udpRecvBufferBytes: integer(
      options.udpRecvBufferBytes,
      4 * 1024 * 1024,
      'udpRecvBufferBytes',
      4096,
      1 << 30,
    ),
  };
}

/** `nameserver` lines of a resolv.conf, minus our own listener. */
export function readResolvConf(path: string, exclude: string): Upstream[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    if (match === null || match[1] === exclude) continue;
    try {
      out.push(parseUpstream(match[1] as string));
    } catch {
      // Scoped IPv6 and other forms we cannot dial are skipped.
    }
  }
  return out;
}
