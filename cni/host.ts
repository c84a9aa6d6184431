import type { AttachmentKey, CniRoute, PortMapping } from './types';

/**
 * What the plugin commands need from the host they run on. The agent implements it (durable IPAM,
 * the dataplane, the nftables table); unit tests pass a fake. The commands never touch the system
 * themselves.
 */
export interface NodeNetwork {
  /** The leased node subnet, `198.18.1.0/24`. */
  subnet: string;
  prefix: number;
  /** The bridge's address, `.1` of the subnet. */
  gateway: string;
  podCIDR: string;
  bridge: string;
  bridgeMac: string;
}

export type AttachmentKind = 'plugin' | 'ipam';

/** One reserved address and what was built for it; durable in the agent's IPAM store. */
export interface AttachmentRecord extends AttachmentKey {
  kind: AttachmentKind;
  ip: string;
  netns: string;
  /** Host veth (plugin attachments). */
  hostIf?: string;
  portMappings: PortMapping[];
  ipMasq: boolean;
  /** RFC 3339. */
  createdAt: string;
}

export type ReserveInput = Omit<AttachmentRecord, 'ip' | 'createdAt'>;

export interface HostIpam {
  get(key: AttachmentKey): AttachmentRecord | undefined;
  list(): AttachmentRecord[];
  /** Picks a free address (or `requested`) and makes the reservation durable before resolving. */
  reserve(input: ReserveInput, requested?: string): Promise<AttachmentRecord>;
  /** Keeps the record but drops its port mappings from the next NAT sync (DEL's first step). */
  markReleasing(key: AttachmentKey): void;
  /** Resolves once the release is durable; undefined when nothing was reserved. */
  release(key: AttachmentKey): Promise<AttachmentRecord | undefined>;
}

export interface ContainerLink {
  hostIf: string;
  hostMac: string;
  containerMac: string;
}

export interface HostLinks {
  attach(input: {
    hostIf: string;
    netns: string;
    ifname: string;
    address: string;
    gateway: string;
    routes: readonly CniRoute[];
    mtu?: number;
    hairpin: boolean;
  }): Promise<ContainerLink>;
  /** Removes the pair; missing is fine. */
  detach(hostIf: string): Promise<void>;
  /** Throws a CniError (CHECK_FAILED) naming what is missing or wrong. */
  check(input: { hostIf: string; netns: string; ifname: string; address: string }): Promise<void>;
}

export interface AttachmentEvent {
  type: 'added' | 'deleted';
  record: AttachmentRecord;
  args: Readonly<Record<string, string>>;
}

export interface PluginHost {
  /** The node's network; throws CniError TRY_AGAIN while no subnet is leased. */
  network(): NodeNetwork;
  /** Throws CniError NOT_READY when ADD cannot be served (STATUS). */
  status(): void;
  ipam: HostIpam;
  links: HostLinks;
  /** Re-applies the NAT table from the live (non-releasing) records; resolves once applied. */
  syncNat(): Promise<void>;
  /** Told after each successful ADD and DEL (Task status reporting); must not throw. */
  onAttachment?(event: AttachmentEvent): void;
}
