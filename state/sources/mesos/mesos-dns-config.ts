import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { canonicalIp } from './convert-task';
import { formatHostPort, parseHostPort } from './decode';
import { invalidConfig, SOURCE_ERROR_CODES, SourceError } from './errors';
import { decodeMesosDnsFields, type RawMesosDnsConfig } from './mesos-dns-fields';
import { IP_SOURCES, type IpSource } from './types';

/**
 * A Mesos-DNS `config.json`, given as is (`switchyard dns --mesos-dns-config config.json`), parsed
 * and validated the way Mesos-DNS did (records/config.go, records/validation.go), and mapped to
 * (a) the Mesos source's options and (b) the DNS server's options — shaped like dns/'s
 * `DnsServerOptions` and `ZoneOptions` so the CLI can spread them in. Fields with no Switchyard
 * equivalent yet either refuse (when ignoring them would change what the file meant: `zk` alone,
 * `zoneResolvers`, `iam`, `dnson: false`) or warn (when the difference is cosmetic or Mesos-DNS
 * ignored them itself). The README's "Mesos-DNS config file" table lists every field.
 */

export interface ConfigWarning {
  readonly field: string;
  readonly reason: string;
}

/** Options for the Mesos source (createMesosSource), from the file. */
export interface MesosDnsSourceSettings {
  readonly masters: string[];
  /** `refreshSeconds` × 1000. */
  readonly intervalMs: number;
  /** `stateTimeoutSeconds` × 1000. */
  readonly stateTimeoutMs: number;
  readonly ipSources: IpSource[];
  readonly https: boolean;
  /** PEM file paths (`CACertFile`, `CertFile`, `KeyFile`); the caller reads them into `tls`. */
  readonly tlsFiles?: { caFile?: string; certFile?: string; keyFile?: string };
  readonly credentials?: { principal: string; secret: string };
}

/** Options for dns/'s startDnsServer (all but `informer`/`snapshot`, `logger`, `registry`). */
export interface MesosDnsServerSettings {
  readonly host: string;
  readonly port: number;
  readonly httpHost: string;
  readonly httpPort: number | false;
  readonly forwarding: boolean;
  /** Absent: the DNS server falls back to the Network's upstreams, then /etc/resolv.conf. */
  readonly upstreams?: string[];
  readonly forwardTimeoutMs: number;
  readonly zone: {
    readonly ttl: number;
    readonly labelSpec: 'rfc1123' | 'rfc952';
    readonly srvWeight: number;
    readonly recursionAvailable: boolean;
    readonly domains: { readonly mesos: string };
    readonly nameserverAddresses: string[];
  };
}

/** Settings the file carries that Switchyard cannot apply yet, normalised as Mesos-DNS would. */
export interface MesosDnsUnmapped {
  readonly soa: {
    mname: string;
    rname: string;
    refresh: number;
    retry: number;
    expire: number;
    minttl: number;
  };
  readonly setTruncateBit: boolean;
  readonly enumerationOn: boolean;
}

export interface MesosDnsConfig {
  readonly source: MesosDnsSourceSettings;
  readonly dns: MesosDnsServerSettings;
  readonly unmapped: MesosDnsUnmapped;
  readonly warnings: readonly ConfigWarning[];
}

export interface ParseMesosDnsConfigOptions {
  /** Refuse unknown keys instead of warning (Mesos-DNS ignored them silently). */
  readonly strict?: boolean;
  /** This host's non-loopback addresses: what `listener: 0.0.0.0` publishes for `ns1.<domain>`. */
  readonly interfaceAddresses?: readonly string[];
}

const DOMAIN = /^[a-z0-9-]+(\.[a-z0-9-]+)*$/;

function positive(value: number, field: string): number {
  if (value <= 0) throw invalidConfig(field, `must be greater than 0, got ${value}`);
  return value;
}

function inRange(value: number, field: string, min: number, max: number): number {
  if (value < min || value > max) throw invalidConfig(field, `must be ${min}-${max}, got ${value}`);
  return value;
}

/** validation.go normalizeMaster + validateUniqueStrings. */
function checkMasters(masters: readonly string[]): string[] {
  const seen = new Set<string>();
  return masters.map((m, i) => {
    const hp = parseHostPort(m);
    if (hp === undefined)
      throw invalidConfig(
        `masters[${i}]`,
        `must be "host:port" with a port 1-65535, got ${JSON.stringify(m)}`,
      );
    const normal = formatHostPort({ host: canonicalIp(hp.host) ?? hp.host, port: hp.port });
    if (seen.has(normal))
      throw invalidConfig(`masters[${i}]`, `duplicates an earlier master ${JSON.stringify(m)}`);
    seen.add(normal);
    return normal;
  });
}

/** validation.go normalizeResolver: an IP literal, optionally with a port; no duplicates. */
function checkResolvers(resolvers: readonly string[]): string[] {
  const seen = new Set<string>();
  return resolvers.map((r, i) => {
    const hp = parseHostPort(r) ?? { host: r, port: 53 };
    const ip = canonicalIp(hp.host);
    if (ip === undefined)
      throw invalidConfig(`resolvers[${i}]`, `must be an IP or IP:port, got ${JSON.stringify(r)}`);
    const normal = formatHostPort({ host: ip, port: hp.port });
    if (seen.has(normal))
      throw invalidConfig(`resolvers[${i}]`, `duplicates an earlier resolver ${JSON.stringify(r)}`);
    seen.add(normal);
    return parseHostPort(r) === undefined ? ip : normal;
  });
}

/** validation.go validateIPSources. */
function checkIpSources(sources: readonly string[]): IpSource[] {
  if (sources.length === 0) throw invalidConfig('IPSources', 'must not be empty');
  if (new Set(sources).size !== sources.length) throw invalidConfig('IPSources', 'lists a source twice');
  sources.forEach((s, i) => {
    if (!(IP_SOURCES as readonly string[]).includes(s))
      throw invalidConfig(
        `IPSources[${i}]`,
        `must be one of ${IP_SOURCES.join(', ')}, got ${JSON.stringify(s)}`,
      );
  });
  return sources as IpSource[];
}

function checkMasterSource(raw: RawMesosDnsConfig, warnings: ConfigWarning[]): string[] {
  if (raw.zk !== '' && raw.masters.length === 0) {
    throw invalidConfig(
      'zk',
      'ZooKeeper leader detection is not available in Switchyard; list the masters in "masters" (the source follows the leader among them)',
    );
  }
  if (raw.masters.length === 0) throw invalidConfig('masters', 'specify the Mesos masters ("host:port", …)');
  if (raw.zk !== '')
    warnings.push({
      field: 'zk',
      reason: 'ignored: ZooKeeper is not available; the leader is followed among "masters"',
    });
  return checkMasters(raw.masters);
}

/** Mesos-DNS httpcli: none, or basic with both credentials; `iam` has no equivalent here. */
function checkAuth(
  raw: RawMesosDnsConfig,
  warnings: ConfigWarning[],
): { principal: string; secret: string } | undefined {
  const auth = raw.mesosAuthentication.toLowerCase();
  if (auth !== '' && auth !== 'basic' && auth !== 'iam')
    throw invalidConfig(
      'mesosAuthentication',
      `must be "", "basic" or "iam", got ${JSON.stringify(raw.mesosAuthentication)}`,
    );
  if (auth === 'iam')
    throw invalidConfig(
      'mesosAuthentication',
      '"iam" (DC/OS IAM service accounts) is not supported; use "basic" or none',
    );
  const { principal, secret } = raw.mesosCredentials;
  if (auth === 'basic' && (principal === '' || secret === ''))
    throw invalidConfig('mesosCredentials', 'basic authentication needs both "principal" and "secret"');
  if (auth === '' && principal !== '')
    warnings.push({
      field: 'mesosCredentials',
      reason: 'set, but mesosAuthentication is none: not sent (as in Mesos-DNS)',
    });
  if (raw.IAMConfigFile !== '')
    warnings.push({
      field: 'IAMConfigFile',
      reason: 'set, but mesosAuthentication is not "iam": ignored (as in Mesos-DNS)',
    });
  return auth === 'basic' ? { principal, secret } : undefined;
}

function sourceSettings(raw: RawMesosDnsConfig, warnings: ConfigWarning[]): MesosDnsSourceSettings {
  const masters = checkMasterSource(raw, warnings);
  const credentials = checkAuth(raw, warnings);
  if ((raw.CertFile === '') !== (raw.KeyFile === ''))
    throw invalidConfig(raw.CertFile === '' ? 'CertFile' : 'KeyFile', 'CertFile and KeyFile go together');
  const files = {
    ...(raw.CACertFile === '' ? {} : { caFile: raw.CACertFile }),
    ...(raw.CertFile === '' ? {} : { certFile: raw.CertFile, keyFile: raw.KeyFile }),
  };
  return {
    masters,
    intervalMs: positive(raw.refreshSeconds, 'refreshSeconds') * 1000,
    stateTimeoutMs: positive(raw.stateTimeoutSeconds, 'stateTimeoutSeconds') * 1000,
    ipSources: checkIpSources(raw.IPSources),
    https: raw.mesosHTTPSOn,
    ...(Object.keys(files).length === 0 ? {} : { tlsFiles: files }),
    ...(credentials === undefined ? {} : { credentials }),
  };
}

/** `listener` is also the address of the SOA MNAME (generator.go listenerRecord). */
function nameserverAddresses(listener: string, interfaces: readonly string[] | undefined): string[] {
  if (listener === '0.0.0.0') return [...(interfaces ?? localAddresses())];
  const ip = canonicalIp(listener);
  return ip === undefined ? [] : [ip];
}

function dnsSettings(raw: RawMesosDnsConfig, options: ParseMesosDnsConfigOptions): MesosDnsServerSettings {
  if (!raw.dnson && !raw.httpon) throw invalidConfig('dnson', 'either DNS or HTTP server should be on');
  if (!raw.dnson)
    throw invalidConfig('dnson', 'false is not supported: the HTTP API runs only beside the DNS server');
  const domain = raw.domain.toLowerCase();
  if (!DOMAIN.test(domain))
    throw invalidConfig('domain', `must be a domain name, got ${JSON.stringify(raw.domain)}`);
  if (Object.values(raw.zoneResolvers).some((list) => list.length > 0))
    throw invalidConfig(
      'zoneResolvers',
      'per-zone forwarding is not supported yet; remove it or forward those zones upstream',
    );
  const upstreams = raw.externalon ? checkResolvers(raw.resolvers) : [];
  return {
    host: raw.listener,
    port: inRange(raw.port, 'port', 0, 65535),
    httpHost: raw.httpListener,
    httpPort: raw.httpon ? inRange(raw.httpport, 'httpport', 0, 65535) : false,
    forwarding: raw.externalon,
    ...(upstreams.length === 0 ? {} : { upstreams }),
    forwardTimeoutMs: inRange(raw.timeout, 'timeout', 1, 60) * 1000,
    zone: {
      ttl: inRange(raw.ttl, 'ttl', 0, 2147483647),
      labelSpec: raw.enforceRFC952 ? 'rfc952' : 'rfc1123',
      srvWeight: inRange(raw.srvRecordDefaultWeight, 'srvRecordDefaultWeight', 0, 65535),
      recursionAvailable: raw.recurseon,
      domains: { mesos: domain },
      nameserverAddresses: nameserverAddresses(raw.listener, options.interfaceAddresses),
    },
  };
}

const SOA_FIELDS = ['SOAMname', 'SOARname', 'SOARefresh', 'SOARetry', 'SOAExpire'] as const;

function unmappedSettings(
  raw: RawMesosDnsConfig,
  present: ReadonlySet<keyof RawMesosDnsConfig>,
  warnings: ConfigWarning[],
): MesosDnsUnmapped {
  for (const field of SOA_FIELDS) {
    if (present.has(field))
      warnings.push({
        field,
        reason: 'no equivalent yet: the SOA is ns1.<domain>, hostmaster.<domain>, 60 600 86400',
      });
  }
  if (!raw.SetTruncateBit)
    warnings.push({
      field: 'SetTruncateBit',
      reason: 'no equivalent: truncated UDP answers always set TC (RFC 1035)',
    });
  if (present.has('EnumerationOn') && raw.EnumerationOn)
    warnings.push({
      field: 'EnumerationOn',
      reason: 'no equivalent yet: /v1/enumerate and /v1/axfr are not served',
    });
  if (present.has('File'))
    warnings.push({ field: 'File', reason: 'ignored (Mesos-DNS overwrote it with the path read)' });
  return {
    soa: {
      mname: `${raw.SOAMname.replace(/\.+$/, '')}.`,
      rname: `${raw.SOARname.replace(/@/g, '.').replace(/\.+$/, '')}.`,
      refresh: raw.SOARefresh,
      retry: raw.SOARetry,
      expire: raw.SOAExpire,
      minttl: raw.SOAMinttl,
    },
    setTruncateBit: raw.SetTruncateBit,
    enumerationOn: raw.EnumerationOn,
  };
}

/** Parse the text of a Mesos-DNS config file. Throws SY_SOURCE_INVALID_CONFIG naming the field. */
export function parseMesosDnsConfig(text: string, options: ParseMesosDnsConfigOptions = {}): MesosDnsConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new SourceError(
      SOURCE_ERROR_CODES.INVALID_CONFIG,
      `(file): not valid JSON: ${(err as Error).message}`,
      {
        field: '(file)',
        reason: 'not valid JSON',
        cause: err,
      },
    );
  }
  const { raw, present, unknown, duplicates } = decodeMesosDnsFields(doc);
  const warnings: ConfigWarning[] = [];
  for (const u of unknown) {
    const reason = `unknown field${u.hint === undefined ? '' : `; did you mean "${u.hint}"?`}`;
    if (options.strict === true) throw invalidConfig(u.key, reason);
    warnings.push({ field: u.key, reason: `${reason} (ignored, as Mesos-DNS did)` });
  }
  for (const key of duplicates)
    warnings.push({ field: key, reason: 'set twice (different case); the last one wins' });
  const source = sourceSettings(raw, warnings);
  const dns = dnsSettings(raw, options);
  return { source, dns, unmapped: unmappedSettings(raw, present, warnings), warnings };
}

/** This host's non-loopback interface addresses (Mesos-DNS setFromLocal). */
export function localAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal)
    .map((a) => (a as { address: string }).address);
}

/** Read and parse a config file; `~/` is the home directory, as in Mesos-DNS. */
export async function readMesosDnsConfig(
  path: string,
  options: ParseMesosDnsConfigOptions = {},
): Promise<MesosDnsConfig> {
  const full = path.startsWith('~/') ? `${process.env.HOME ?? '.'}/${path.slice(2)}` : path;
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (err) {
    throw new SourceError(
      SOURCE_ERROR_CODES.INVALID_CONFIG,
      `cannot read the Mesos-DNS config ${full}: ${(err as Error).message}`,
      {
        field: '(file)',
        reason: 'unreadable',
        cause: err,
      },
    );
  }
  return parseMesosDnsConfig(text, options);
}
