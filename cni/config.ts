import { createHash } from 'node:crypto';
import { parseCidr, parseIp } from '../lib';
import { CniError, CniErrorCode } from './errors';
import type { AttachmentKey, CniDns, CniRoute, PortMapping, PortProtocol } from './types';

/**
 * The plugin's network configuration, parsed and checked at the door (pure). Unknown top-level keys
 * are passed through untouched (the spec allows them); keys we own are checked strictly, and a
 * wrong value names the field (code 7) or the unsupported value (code 2).
 */
export interface PluginConf {
  name: string;
  /** Masquerade traffic from the container that leaves the pod CIDR. */
  ipMasq: boolean;
  /** Bridge port hairpin mode, so a container reaches itself through its own host port. Default true. */
  hairpinMode: boolean;
  mtu?: number;
  /** Routes for the container; undefined means the plugin's default (a default route via the gateway). */
  routes?: CniRoute[];
  dns?: CniDns;
  portMappings: PortMapping[];
  /** A specific address asked for (`CNI_ARGS IP=`, `runtimeConfig.ips`, `args.cni.ips`). */
  requestedIp?: string;
}

/** The `ipam` section of a config that names `switchyard-ipam`. */
export interface IpamConf {
  name: string;
  routes?: CniRoute[];
  requestedIp?: string;
}

function configError(field: string, reason: string): CniError {
  return new CniError(
    CniErrorCode.CONFIG,
    `invalid network configuration: ${field} ${reason}`,
    `field ${field}`,
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalBool(config: Readonly<Record<string, unknown>>, field: string, fallback: boolean): boolean {
  const value = config[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw configError(field, 'must be true or false');
  return value;
}

function parseRoutes(value: unknown, field: string): CniRoute[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw configError(field, 'must be a list of {dst, gw?}');
  return value.map((route: unknown, i) => {
    if (!isObject(route) || typeof route.dst !== 'string')
      throw configError(`${field}[${i}].dst`, 'must be a CIDR');
    try {
      parseCidr(route.dst);
      if (route.gw !== undefined) parseIp(String(route.gw));
    } catch (error) {
      throw configError(`${field}[${i}]`, (error as Error).message);
    }
    return route.gw === undefined ? { dst: route.dst } : { dst: route.dst, gw: String(route.gw) };
  });
}

function parsePort(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw configError(field, 'must be a port number 1-65535');
  }
  return value;
}

/** runtimeConfig.portMappings (CONVENTIONS.md): hostPort, containerPort, protocol, hostIP?. */
export function parsePortMappings(value: unknown): PortMapping[] {
  if (value === undefined || value === null) return [];
  const field = 'runtimeConfig.portMappings';
  if (!Array.isArray(value)) throw configError(field, 'must be a list');
  const seen = new Set<string>();
  return value.map((entry: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(entry)) throw configError(at, 'must be an object');
    const protocol = (entry.protocol ?? 'tcp') as string;
    if (protocol !== 'tcp' && protocol !== 'udp') {
      throw new CniError(
        CniErrorCode.UNSUPPORTED_FIELD,
        `unsupported ${at}.protocol ${JSON.stringify(protocol)}`,
        'tcp and udp are supported',
      );
    }
    const mapping: PortMapping = {
      hostPort: parsePort(entry.hostPort, `${at}.hostPort`),
      containerPort: parsePort(entry.containerPort, `${at}.containerPort`),
      protocol: protocol as PortProtocol,
    };
    if (entry.hostIP !== undefined && entry.hostIP !== '') {
      const host = parseIpField(entry.hostIP, `${at}.hostIP`);
      mapping.hostIP = host;
    }
    const key = `${mapping.protocol}/${mapping.hostIP ?? '*'}/${mapping.hostPort}`;
    if (seen.has(key)) throw configError(at, `repeats host port ${mapping.protocol}/${mapping.hostPort}`);
    seen.add(key);
    return mapping;
  });
}

function parseIpField(value: unknown, field: string): string {
  try {
    const parsed = parseIp(String(value));
    if (parsed.family !== 4) throw new Error('only IPv4 is supported');
    return String(value);
  } catch (error) {
    throw configError(field, (error as Error).message);
  }
}

/** The requested address, from CNI_ARGS IP=, runtimeConfig.ips or args.cni.ips (first wins). */
export function requestedIp(
  config: Readonly<Record<string, unknown>>,
  args: Readonly<Record<string, string>>,
): string | undefined {
  const runtime = isObject(config.runtimeConfig) ? config.runtimeConfig : {};
  const cniArgs = isObject(config.args) && isObject(config.args.cni) ? config.args.cni : {};
  const candidates: unknown[] = [
    args.IP,
    (runtime.ips as unknown[] | undefined)?.[0],
    (cniArgs.ips as unknown[] | undefined)?.[0],
  ];
  const first = candidates.find((c) => typeof c === 'string' && c !== '') as string | undefined;
  if (first === undefined) return undefined;
  return parseIpField(first.split('/')[0], 'requested IP');
}

function parseDns(value: unknown): CniDns | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw configError('dns', 'must be an object');
  return value as CniDns;
}

function parseMtu(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 576 || value > 65535)
    throw configError('mtu', 'must be 576-65535');
  return value;
}

export function parsePluginConf(
  config: Readonly<Record<string, unknown>>,
  args: Readonly<Record<string, string>>,
): PluginConf {
  const ipam = config.ipam;
  if (isObject(ipam) && ipam.type !== undefined && ipam.type !== 'switchyard-ipam') {
    throw new CniError(
      CniErrorCode.UNSUPPORTED_FIELD,
      `unsupported ipam.type ${JSON.stringify(ipam.type)}`,
      'switchyard-cni allocates from the agent; omit ipam or use "switchyard-ipam"',
    );
  }
  const runtime = isObject(config.runtimeConfig) ? config.runtimeConfig : {};
  const conf: PluginConf = {
    name: String(config.name),
    ipMasq: optionalBool(config, 'ipMasq', false),
    hairpinMode: optionalBool(config, 'hairpinMode', true),
    portMappings: parsePortMappings(runtime.portMappings),
  };
  const mtu = parseMtu(config.mtu);
  if (mtu !== undefined) conf.mtu = mtu;
  const routes = parseRoutes(config.routes, 'routes');
  if (routes !== undefined) conf.routes = routes;
  const dns = parseDns(config.dns);
  if (dns !== undefined) conf.dns = dns;
  const ip = requestedIp(config, args);
  if (ip !== undefined) conf.requestedIp = ip;
  return conf;
}

export function parseIpamConf(
  config: Readonly<Record<string, unknown>>,
  args: Readonly<Record<string, string>>,
): IpamConf {
  const ipam = config.ipam;
  if (!isObject(ipam)) throw configError('ipam', 'must be an object naming "type": "switchyard-ipam"');
  const conf: IpamConf = { name: String(config.name) };
  const routes = parseRoutes(ipam.routes, 'ipam.routes');
  if (routes !== undefined) conf.routes = routes;
  const ip = requestedIp(config, args);
  if (ip !== undefined) conf.requestedIp = ip;
  return conf;
}

/** GC's `cni.dev/valid-attachments` (also the 1.1.0 tag's `cni.dev/attachments`). */
export function parseValidAttachments(config: Readonly<Record<string, unknown>>): AttachmentKey[] {
  const list = config['cni.dev/valid-attachments'] ?? config['cni.dev/attachments'] ?? [];
  if (!Array.isArray(list)) throw configError('cni.dev/valid-attachments', 'must be a list');
  return list.map((entry: unknown, i) => {
    if (!isObject(entry) || typeof entry.containerID !== 'string' || typeof entry.ifname !== 'string') {
      throw configError(`cni.dev/valid-attachments[${i}]`, 'must be {containerID, ifname}');
    }
    return { network: String(config.name), containerId: entry.containerID, ifname: entry.ifname };
  });
}

/** The host-side veth name: `sy` + 12 hex of a hash of the attachment, stable across calls. */
export function hostVethName(key: AttachmentKey): string {
  const digest = createHash('sha256').update(`${key.network}/${key.containerId}/${key.ifname}`).digest('hex');
  return `sy${digest.slice(0, 12)}`;
}
