// The DNS room's door: the zone compiler (pure), the server (UDP/TCP, forwarding, HTTP API) and
// the feeder that follows the state. See README.md for the contract.
export { compileZone, updateZone, type ZoneSnapshot, type ZoneChange } from './compile';
export { CompiledZone, type ZoneLookup } from './zone';
export { resolveZoneOptions, DEFAULT_DOMAINS, type ZoneOptions, type ResolvedZoneOptions } from './options';
export type { ZoneDomains, PublishPolicy, MastersInput } from './records';
export { IP_VIP_FRAMEWORK } from './records';
export { sanitizeLabel, sanitizeDomain, appHostname, hash5, type LabelSpec } from './labels';
export { recordText, type ResourceRecord, type RecordData } from './wire';
export { startDnsServer, DNS_VERSION, type DnsServer } from './start';
export type { DnsServerOptions } from './config';
export { ZoneFeeder, type InformerLike, type FeederOptions } from './feeder';
export { Forwarder, parseUpstream, type Upstream, type ForwarderOptions } from './forward';
export { createDnsMetrics, type DnsMetrics } from './metrics';
export { DnsError, DNS_ERROR_CODES, type DnsErrorCode } from './errors';
