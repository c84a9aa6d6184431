import type net from 'node:net';
import { createRegistry, silentLogger } from '../lib';
import { compileZone } from './compile';
import {
  resolveServerOptions,
  readResolvConf,
  type DnsServerOptions,
  type ResolvedServerOptions,
} from './config';
import { ZoneFeeder } from './feeder';
import { Forwarder, parseUpstream, type Upstream } from './forward';
import { startHttpApi, type HttpApi } from './http';
import { createDnsMetrics } from './metrics';
import { listenDns } from './server';
import type { CompiledZone } from './zone';

export interface DnsServer {
  readonly udpAddress: net.AddressInfo;
  readonly tcpAddress: net.AddressInfo;
  /** Undefined when the HTTP API is disabled. */
  readonly httpAddress: net.AddressInfo | undefined;
  /** The zone being served (undefined before the first sync). */
  zone(): CompiledZone | undefined;
  ready(): boolean;
  close(): Promise<void>;
}

export const DNS_VERSION = '0.1.0';

function upstreamsFor(resolved: ResolvedServerOptions, zone: CompiledZone | undefined): readonly Upstream[] {
  if (!resolved.forwarding) return [];
  if (resolved.upstreams !== undefined) return resolved.upstreams;
  const fromNetwork = (zone?.networkUpstreams ?? []).flatMap((text) => {
    try {
      return [parseUpstream(text)];
    } catch {
      return [];
    }
  });
  return fromNetwork.length > 0 ? fromNetwork : readResolvConf(resolved.resolvConfPath, resolved.host);
}

function mesosDnsConfig(
  resolved: ResolvedServerOptions,
  options: DnsServerOptions,
  zone: CompiledZone | undefined,
  upstreams: readonly Upstream[],
): Record<string, unknown> {
  const z = zone?.state.options;
  return {
    Domain: zone?.domains.mesos,
    ClusterDomain: zone?.domains.cluster,
    VipDomain: zone?.domains.vip,
    Port: resolved.port,
    HttpPort: resolved.httpPort,
    Listener: resolved.host,
    HTTPListener: resolved.httpHost,
    TTL: z?.ttl,
    SRVRecordDefaultWeight: z?.srvWeight,
    Masters: options.zone?.masters?.addresses ?? [],
    Resolvers: upstreams.map((u) => `${u.host}:${u.port}`),
    ExternalOn: resolved.forwarding,
    RecurseOn: z?.recursionAvailable,
    EnforceRFC952: z?.labelSpec === 'rfc952',
    Timeout: resolved.forwardTimeoutMs / 1000,
    Publish: z?.publish,
    MaxUdpSize: resolved.maxUdpSize,
  };
}

/** Start the DNS server: UDP + TCP listeners, the HTTP API, and the state feed or fixed zone. */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const resolved = resolveServerOptions(options);
  const registry = options.registry ?? createRegistry();
  const logger = (options.logger ?? silentLogger()).child({ room: 'dns' });
  const metrics = createDnsMetrics(registry);
  const forwarder = new Forwarder([], {
    timeoutMs: resolved.forwardTimeoutMs,
    cacheSize: resolved.forwardCacheSize,
  });
  const zoneOptions = { recursionAvailable: resolved.forwarding, ...options.zone };
  let fixedZone: CompiledZone | undefined;
  let feeder: ZoneFeeder | undefined;
  const getZone = (): CompiledZone | undefined => fixedZone ?? feeder?.zone;
  const onZone = (zone: CompiledZone): void => forwarder.setUpstreams(upstreamsFor(resolved, zone));
  if (options.snapshot !== undefined) {
    fixedZone = compileZone({
      ...options.snapshot,
      options: { ...zoneOptions, ...options.snapshot.options },
    });
    onZone(fixedZone);
    metrics.records.set(fixedZone.recordCount);
    metrics.names.set(fixedZone.nameCount);
  } else if (options.informer !== undefined) {
    feeder = new ZoneFeeder({ informer: options.informer, zoneOptions, metrics, logger, onZone });
  }
  const dns = await listenDns({
    ...resolved,
    maxTcpInflight: 128,
    getZone,
    forwarder,
    metrics,
    logger,
    random: options.random,
  });
  let httpApi: HttpApi | undefined;
  try {
    if (resolved.httpPort !== false) {
      httpApi = await startHttpApi({
        host: resolved.httpHost,
        port: resolved.httpPort,
        getZone,
        isReady: () => getZone() !== undefined,
        registry,
        config: () => mesosDnsConfig(resolved, options, getZone(), upstreamsFor(resolved, getZone())),
        version: DNS_VERSION,
      });
    }
    // Listeners first, then the feed: until the first sync, in-zone queries get SERVFAIL and /readyz says 503.
    feeder?.start().catch((err: unknown) => logger.error({ err }, 'DNS state feed failed to start'));
  } catch (err) {
    await dns.close();
    throw err;
  }
  return {
    udpAddress: dns.udpAddress,
    tcpAddress: dns.tcpAddress,
    httpAddress: httpApi?.address,
    zone: getZone,
    ready: () => getZone() !== undefined,
    close: async () => {
      feeder?.stop();
      forwarder.close();
      await Promise.all([dns.close(), httpApi?.close()]);
    },
  };
}
