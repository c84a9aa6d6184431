import { Counter, Gauge, Histogram, type Registry } from '../lib';

/** The DNS room's metrics, registered on a registry passed in (never the global one). */
export interface DnsMetrics {
  readonly queries: Counter<'type' | 'rcode' | 'transport'>;
  readonly latency: Histogram<'transport'>;
  readonly panics: Counter<string>;
  readonly dropped: Counter<'reason'>;
  readonly forwards: Counter<'result'>;
  readonly records: Gauge<string>;
  readonly names: Gauge<string>;
  readonly compileErrors: Counter<string>;
  readonly compileSeconds: Histogram<'mode'>;
  readonly syncLag: Gauge<string>;
  readonly revision: Gauge<string>;
}

const TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'A',
  2: 'NS',
  6: 'SOA',
  12: 'PTR',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  255: 'ANY',
};
const RCODE_NAMES: Readonly<Record<number, string>> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
};

export function typeLabel(type: number): string {
  return TYPE_NAMES[type] ?? 'OTHER';
}

export function rcodeLabel(rcode: number): string {
  return RCODE_NAMES[rcode] ?? 'OTHER';
}

export function createDnsMetrics(registry: Registry): DnsMetrics {
  const registers = [registry];
  return {
    queries: new Counter({
      name: 'switchyard_dns_queries_total',
      help: 'DNS queries answered, by query type, response code and transport',
      labelNames: ['type', 'rcode', 'transport'],
      registers,
    }),
    latency: new Histogram({
      name: 'switchyard_dns_request_duration_seconds',
      help: 'Time from receiving a query to handing the reply to the socket',
      labelNames: ['transport'],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.05, 0.25, 1, 5],
      registers,
    }),
    panics: new Counter({
      name: 'switchyard_dns_panics_total',
      help: 'Handler exceptions answered with SERVFAIL',
      registers,
    }),
    dropped: new Counter({
      name: 'switchyard_dns_dropped_total',
      help: 'Packets dropped without an answer',
      labelNames: ['reason'],
      registers,
    }),
    forwards: new Counter({
      name: 'switchyard_dns_forwards_total',
      help: 'Out-of-zone queries, by result (answered, cached, failed, refused)',
      labelNames: ['result'],
      registers,
    }),
    records: new Gauge({ name: 'switchyard_dns_records', help: 'Records in the served zone', registers }),
    names: new Gauge({ name: 'switchyard_dns_names', help: 'Owner names in the served zone', registers }),
    compileErrors: new Counter({
      name: 'switchyard_dns_compile_errors_total',
      help: 'Compiles that threw; the previous zone kept serving',
      registers,
    }),
    compileSeconds: new Histogram({
      name: 'switchyard_dns_compile_duration_seconds',
      help: 'Time to compile a zone, full or incremental',
      labelNames: ['mode'],
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.25, 1, 5],
      registers,
    }),
    syncLag: new Gauge({
      name: 'switchyard_dns_sync_lag_seconds',
      help: 'Time from receiving the last batch of state events to serving the zone built from them',
      registers,
    }),
    revision: new Gauge({
      name: 'switchyard_dns_zone_revision',
      help: 'State revision of the served zone',
      registers,
    }),
  };
}
