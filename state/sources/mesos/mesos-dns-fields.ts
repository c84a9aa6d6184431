import { closestName } from '../../validate/fields';
import { invalidConfig } from './errors';

/**
 * The fields of a Mesos-DNS `config.json` (records/config.go `Config`, reference/dns.md §3) with
 * Mesos-DNS's defaults, decoded the way Go's encoding/json decodes them: keys match field names
 * case-insensitively (`ttl`, `TTL`, `HttpPort`, `httpport`), a later duplicate wins, `null` leaves a
 * scalar at its default and empties a list, and a value of the wrong type is an error. Unknown keys
 * were silently ignored by Mesos-DNS; here they are returned so the caller can warn (or refuse).
 */

export interface RawMesosDnsConfig {
  zk: string;
  zkDetectionTimeout: number;
  masters: string[];
  refreshSeconds: number;
  stateTimeoutSeconds: number;
  ttl: number;
  domain: string;
  port: number;
  listener: string;
  httpListener: string;
  httpport: number;
  resolvers: string[];
  zoneResolvers: Record<string, string[]>;
  timeout: number;
  externalon: boolean;
  recurseon: boolean;
  dnson: boolean;
  httpon: boolean;
  enforceRFC952: boolean;
  SetTruncateBit: boolean;
  EnumerationOn: boolean;
  srvRecordDefaultWeight: number;
  SOAMname: string;
  SOARname: string;
  SOARefresh: number;
  SOARetry: number;
  SOAExpire: number;
  SOAMinttl: number;
  SOASerial: number;
  IPSources: string[];
  mesosHTTPSOn: boolean;
  CACertFile: string;
  CertFile: string;
  KeyFile: string;
  mesosAuthentication: string;
  mesosCredentials: { principal: string; secret: string };
  IAMConfigFile: string;
  File: string;
}

/** records/config.go NewConfig. */
export function mesosDnsDefaults(): RawMesosDnsConfig {
  return {
    zk: '',
    zkDetectionTimeout: 30,
    masters: [],
    refreshSeconds: 60,
    stateTimeoutSeconds: 300,
    ttl: 60,
    domain: 'mesos',
    port: 53,
    listener: '0.0.0.0',
    httpListener: '0.0.0.0',
    httpport: 8123,
    resolvers: ['8.8.8.8'],
    zoneResolvers: {},
    timeout: 5,
    externalon: true,
    recurseon: true,
    dnson: true,
    httpon: true,
    enforceRFC952: false,
    SetTruncateBit: true,
    EnumerationOn: true,
    srvRecordDefaultWeight: 1,
    SOAMname: 'ns1.mesos',
    SOARname: 'root.ns1.mesos',
    SOARefresh: 60,
    SOARetry: 600,
    SOAExpire: 86400,
    SOAMinttl: 60,
    SOASerial: 0,
    IPSources: ['netinfo', 'mesos', 'host'],
    mesosHTTPSOn: false,
    CACertFile: '',
    CertFile: '',
    KeyFile: '',
    mesosAuthentication: '',
    mesosCredentials: { principal: '', secret: '' },
    IAMConfigFile: '',
    File: '',
  };
}

type FieldType = 'int' | 'int32' | 'uint32' | 'bool' | 'string' | 'strings' | 'zones' | 'credentials';

const TYPES: Readonly<Record<keyof RawMesosDnsConfig, FieldType>> = {
  zk: 'string',
  zkDetectionTimeout: 'int',
  masters: 'strings',
  refreshSeconds: 'int',
  stateTimeoutSeconds: 'int',
  ttl: 'int32',
  domain: 'string',
  port: 'int',
  listener: 'string',
  httpListener: 'string',
  httpport: 'int',
  resolvers: 'strings',
  zoneResolvers: 'zones',
  timeout: 'int',
  externalon: 'bool',
  recurseon: 'bool',
  dnson: 'bool',
  httpon: 'bool',
  enforceRFC952: 'bool',
  SetTruncateBit: 'bool',
  EnumerationOn: 'bool',
  srvRecordDefaultWeight: 'int',
  SOAMname: 'string',
  SOARname: 'string',
  SOARefresh: 'uint32',
  SOARetry: 'uint32',
  SOAExpire: 'uint32',
  SOAMinttl: 'uint32',
  SOASerial: 'uint32',
  IPSources: 'strings',
  mesosHTTPSOn: 'bool',
  CACertFile: 'string',
  CertFile: 'string',
  KeyFile: 'string',
  mesosAuthentication: 'string',
  mesosCredentials: 'credentials',
  IAMConfigFile: 'string',
  File: 'string',
};

export const MESOS_DNS_FIELDS = Object.keys(TYPES) as (keyof RawMesosDnsConfig)[];
const BY_LOWER = new Map(MESOS_DNS_FIELDS.map((f) => [f.toLowerCase(), f]));

const RANGES: Readonly<Record<string, [number, number]>> = {
  int: [-(2 ** 63), 2 ** 63 - 1],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value) : `${typeof value} ${JSON.stringify(value)}`;
}

function stringList(value: unknown, field: string): string[] {
  if (value === null) return [];
  if (!Array.isArray(value))
    throw invalidConfig(field, `must be an array of strings, got ${describe(value)}`);
  return value.map((item, i) => {
    if (typeof item !== 'string')
      throw invalidConfig(`${field}[${i}]`, `must be a string, got ${describe(item)}`);
    return item;
  });
}

function decodeCredentials(value: unknown, field: string): { principal: string; secret: string } {
  const out = { principal: '', secret: '' };
  if (value === null) return out;
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalidConfig(field, `must be an object {"principal", "secret"}, got ${describe(value)}`);
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const k = key.toLowerCase();
    if (k !== 'principal' && k !== 'secret') continue; // Go ignores unknown keys here too
    if (v === null) continue;
    if (typeof v !== 'string') throw invalidConfig(`${field}.${key}`, `must be a string, got ${describe(v)}`);
    out[k] = v;
  }
  return out;
}

function decodeZones(value: unknown, field: string): Record<string, string[]> {
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalidConfig(field, `must be an object of zone → resolvers, got ${describe(value)}`);
  const out: Record<string, string[]> = {};
  for (const [zone, list] of Object.entries(value as Record<string, unknown>))
    out[zone] = stringList(list, `${field}.${zone}`);
  return out;
}

function decodeScalar(type: FieldType, value: unknown, field: string): unknown {
  if (type === 'bool' || type === 'string') {
    if (typeof value !== (type === 'bool' ? 'boolean' : 'string'))
      throw invalidConfig(
        field,
        `must be a ${type === 'bool' ? 'boolean' : 'string'}, got ${describe(value)}`,
      );
    return value;
  }
  const [min, max] = RANGES[type] as [number, number];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalidConfig(
      field,
      `must be an integer${type === 'uint32' ? ' ≥ 0' : ''}, got ${describe(value)}`,
    );
  return value;
}

function decodeValue(type: FieldType, value: unknown, field: string, fallback: unknown): unknown {
  if (type === 'strings') return stringList(value, field);
  if (type === 'zones') return decodeZones(value, field);
  if (type === 'credentials') return decodeCredentials(value, field);
  return value === null ? fallback : decodeScalar(type, value, field);
}

export interface DecodedFields {
  readonly raw: RawMesosDnsConfig;
  /** Fields the file set (canonical names), in file order. */
  readonly present: ReadonlySet<keyof RawMesosDnsConfig>;
  /** Keys Mesos-DNS would have ignored, with a hint when one looks like a typo of a known field. */
  readonly unknown: readonly { key: string; hint?: string }[];
  readonly duplicates: readonly string[];
}

/** Decode a parsed config document (a JSON object) onto the Mesos-DNS defaults. */
export function decodeMesosDnsFields(doc: unknown): DecodedFields {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw invalidConfig('(file)', `must be a JSON object, got ${describe(doc)}`);
  const raw = mesosDnsDefaults() as unknown as Record<string, unknown>;
  const present = new Set<keyof RawMesosDnsConfig>();
  const unknown: { key: string; hint?: string }[] = [];
  const duplicates: string[] = [];
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const field = BY_LOWER.get(key.toLowerCase());
    if (field === undefined) {
      const hint = closestName(key, MESOS_DNS_FIELDS);
      unknown.push(hint === undefined ? { key } : { key, hint });
      continue;
    }
    if (present.has(field)) duplicates.push(key);
    present.add(field);
    raw[field] = decodeValue(TYPES[field], value, key, raw[field]);
  }
  return { raw: raw as unknown as RawMesosDnsConfig, present, unknown, duplicates };
}
