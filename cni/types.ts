/** The CNI spec's data shapes (SPEC.md "Result"), in their 1.x form; see result.ts for older ones. */
export const CNI_COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS'] as const;
export type CniCommand = (typeof CNI_COMMANDS)[number];

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
  mtu?: number;
}

export interface CniIpConfig {
  /** Index into `interfaces`; absent in an IPAM plugin's abbreviated result. */
  interface?: number;
  /** CIDR notation: `198.18.1.2/24`. */
  address: string;
  gateway?: string;
}

export interface CniRoute {
  dst: string;
  gw?: string;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface CniResult {
  interfaces?: CniInterface[];
  ips: CniIpConfig[];
  routes?: CniRoute[];
  dns?: CniDns;
}

export type PortProtocol = 'tcp' | 'udp';

/** The `portMappings` capability (CONVENTIONS.md). */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: PortProtocol;
  hostIP?: string;
}

/** What identifies one attachment: the runtime's (network, CNI_CONTAINERID, CNI_IFNAME). */
export interface AttachmentKey {
  network: string;
  containerId: string;
  ifname: string;
}

export function attachmentId(key: AttachmentKey): string {
  return `${key.network}/${key.containerId}/${key.ifname}`;
}

/** One parsed CNI call: the environment and the network configuration from stdin. */
export interface CniRequest {
  command: CniCommand;
  containerId: string;
  /** Empty when the runtime gave none (allowed for DEL). */
  netns: string;
  ifname: string;
  /** CNI_ARGS as key/value pairs. */
  args: Readonly<Record<string, string>>;
  path: readonly string[];
  cniVersion: string;
  /** The whole stdin object, unknown keys included. */
  config: Readonly<Record<string, unknown>>;
}
