import type { StoredObject } from '../state';
import type { LabelSpec } from './labels';
import type { MastersInput, PublishPolicy, ZoneDomains } from './records';
import { DnsError, DNS_ERROR_CODES } from './errors';

/** Options of the compiled zone (what the records look like). Defaults are filled in one place. */
export interface ZoneOptions {
  /** TTL of every record and the SOA minimum (negative-caching TTL). Default 5 (Mesos-DNS: 60). */
  ttl?: number;
  labelSpec?: LabelSpec;
  publish?: Partial<PublishPolicy>;
  srvWeight?: number;
  legacyNames?: boolean;
  masters?: MastersInput;
  nameserverAddresses?: readonly string[];
  /** Sets RA in answers; true when forwarding is on. */
  recursionAvailable?: boolean;
  /** Override the domains the Network object sets. */
  domains?: Partial<ZoneDomains>;
}

export interface ResolvedZoneOptions {
  readonly ttl: number;
  readonly labelSpec: LabelSpec;
  readonly publish: PublishPolicy;
  readonly srvWeight: number;
  readonly legacyNames: boolean;
  readonly masters: MastersInput | undefined;
  readonly nameserverAddresses: readonly string[];
  readonly recursionAvailable: boolean;
  readonly domains: Partial<ZoneDomains>;
}

export const DEFAULT_DOMAINS: ZoneDomains = {
  mesos: 'mesos',
  cluster: 'cluster.local',
  vip: 'l4lb.thisdcos.directory',
};

const DOMAIN = /^[a-z0-9-]+(\.[a-z0-9-]+)*$/;

function checkInteger(value: number, field: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DnsError(DNS_ERROR_CODES.INVALID_CONFIG, `${field} must be an integer ${min}-${max}`, {
      field,
      reason: 'out of range',
    });
  }
  return value;
}

export function resolveZoneOptions(options: ZoneOptions = {}): ResolvedZoneOptions {
  for (const [key, value] of Object.entries(options.domains ?? {})) {
    if (value !== undefined && !DOMAIN.test(value)) {
      throw new DnsError(DNS_ERROR_CODES.INVALID_CONFIG, `domains.${key} is not a domain name`, {
        field: `domains.${key}`,
        reason: 'bad domain',
      });
    }
  }
  return {
    ttl: checkInteger(options.ttl ?? 5, 'ttl', 0, 2147483647),
    labelSpec: options.labelSpec ?? 'rfc1123',
    publish: { unhealthy: false, draining: false, killing: false, ...options.publish },
    srvWeight: checkInteger(options.srvWeight ?? 1, 'srvWeight', 0, 65535),
    legacyNames: options.legacyNames ?? true,
    masters: options.masters,
    nameserverAddresses: options.nameserverAddresses ?? [],
    recursionAvailable: options.recursionAvailable ?? true,
    domains: options.domains ?? {},
  };
}

/** The Network object that configures DNS: the one named `default`, else the first by name. */
export function pickNetwork(networks: readonly StoredObject[]): StoredObject<'Network'> | undefined {
  const list = networks.filter((n): n is StoredObject<'Network'> => n.kind === 'Network');
  return list.find((n) => n.name === 'default') ?? [...list].sort((a, b) => a.name.localeCompare(b.name))[0];
}

export function zoneDomains(
  network: StoredObject<'Network'> | undefined,
  options: ResolvedZoneOptions,
): ZoneDomains {
  const fromNetwork = network?.spec.dns;
  const pick = (key: keyof ZoneDomains, networkValue: string | undefined): string =>
    (
      options.domains[key] ??
      (networkValue !== undefined && networkValue !== '' ? networkValue : DEFAULT_DOMAINS[key])
    )
      .toLowerCase()
      .replace(/\.$/, '');
  return {
    mesos: pick('mesos', fromNetwork?.mesosDomain),
    cluster: pick('cluster', fromNetwork?.clusterDomain),
    vip: pick('vip', fromNetwork?.vipDomain),
  };
}
