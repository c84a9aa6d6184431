import { isSwitchyardError } from '../lib';
import { StateErrorCode, type NodeSpec, type StateApi, type StoredObject } from '../state';
import { AgentError, AgentErrorCode } from './errors';
import { chooseSubnet, isNodeSubnetOf } from './subnet';

/**
 * The node subnet lease, the flannel model over the state API: the Node object *is* the lease.
 * Acquire keeps the subnet already on our Node (a restart gets the same subnet), else tries the
 * previous one from the local file, else picks a free one; the write is compare-and-set
 * (`expectedRevision` 0 to create, the read revision to update), and the store refuses a subnet
 * that overlaps another node's, so two racing agents never share one: the loser re-reads and picks
 * again. When no subnet is free, a lease that expired (its agent stopped renewing) is reclaimed.
 * Deleting the Node releases the subnet.
 */
export interface LeaseOptions {
  api: StateApi;
  nodeName: string;
  address: string;
  /** The Network object to lease from. */
  network: string;
  ttlMs: number;
  previousSubnet?: string;
  now: () => Date;
  random: () => number;
}

const MAX_ATTEMPTS = 20;

function nodeSpec(base: Partial<NodeSpec>, o: LeaseOptions, subnet: string): NodeSpec {
  const now = o.now();
  return {
    ...base,
    address: o.address,
    podSubnet: subnet,
    heartbeatAt: now.toISOString(),
    leaseExpiresAt: new Date(now.getTime() + o.ttlMs).toISOString(),
  };
}

function isConflict(error: unknown): boolean {
  return isSwitchyardError(error, StateErrorCode.CONFLICT);
}

async function getNetwork(o: LeaseOptions): Promise<StoredObject<'Network'>> {
  try {
    return (await o.api.get({ kind: 'Network', name: o.network })) as StoredObject<'Network'>;
  } catch (error) {
    if (isSwitchyardError(error, StateErrorCode.NOT_FOUND)) {
      throw new AgentError(AgentErrorCode.NO_NETWORK, `Network "${o.network}" does not exist yet`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** Clears the subnet of one node whose lease expired; true when one was reclaimed. */
async function reclaimExpired(o: LeaseOptions, nodes: readonly StoredObject<'Node'>[]): Promise<boolean> {
  const now = o.now().getTime();
  const expired = nodes.find(
    (n) =>
      n.name !== o.nodeName &&
      n.spec.podSubnet !== undefined &&
      n.spec.leaseExpiresAt !== undefined &&
      Date.parse(n.spec.leaseExpiresAt) < now,
  );
  if (expired === undefined) return false;
  const spec: Partial<NodeSpec> = { ...expired.spec };
  delete spec.podSubnet;
  delete spec.leaseExpiresAt;
  try {
    await o.api.apply(
      { kind: 'Node', name: expired.name, labels: { ...expired.labels }, spec: spec as NodeSpec },
      { expectedRevision: expired.revision },
    );
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
  return true;
}

/** The subnet to ask for: the one already on our Node, else the previous or a free one. */
function pickSubnet(
  o: LeaseOptions,
  network: StoredObject<'Network'>,
  nodes: readonly StoredObject<'Node'>[],
): string | undefined {
  const { podCIDR, nodeSubnetPrefix } = network.spec;
  const mine = nodes.find((n) => n.name === o.nodeName)?.spec.podSubnet;
  if (mine !== undefined && isNodeSubnetOf(mine, podCIDR, nodeSubnetPrefix)) return mine;
  const taken = nodes
    .filter((n) => n.name !== o.nodeName && n.spec.podSubnet !== undefined)
    .map((n) => n.spec.podSubnet as string);
  const input = { podCIDR, prefix: nodeSubnetPrefix, taken, random: o.random };
  return chooseSubnet(o.previousSubnet === undefined ? input : { ...input, previous: o.previousSubnet });
}

async function attempt(o: LeaseOptions): Promise<StoredObject<'Node'> | undefined> {
  const network = await getNetwork(o);
  const nodes = (await o.api.list({ kind: 'Node' })).items as StoredObject<'Node'>[];
  const self = nodes.find((n) => n.name === o.nodeName);
  const subnet = pickSubnet(o, network, nodes);
  if (subnet === undefined) {
    if (await reclaimExpired(o, nodes)) return undefined;
    const { podCIDR, nodeSubnetPrefix } = network.spec;
    throw new AgentError(
      AgentErrorCode.NO_SUBNET,
      `no free /${nodeSubnetPrefix} left in pod CIDR ${podCIDR} (${nodes.length} nodes)`,
    );
  }
  const spec = nodeSpec(self?.spec ?? {}, o, subnet);
  try {
    const input = { kind: 'Node' as const, name: o.nodeName, labels: { ...(self?.labels ?? {}) }, spec };
    return (await o.api.apply(input, { expectedRevision: self?.revision ?? 0 })) as StoredObject<'Node'>;
  } catch (error) {
    if (isConflict(error)) return undefined; // lost a race: read again and pick again
    throw error;
  }
}

export async function acquireLease(o: LeaseOptions): Promise<StoredObject<'Node'>> {
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    const node = await attempt(o);
    if (node !== undefined) return node;
  }
  throw new AgentError(
    AgentErrorCode.NO_SUBNET,
    `could not lease a node subnet after ${MAX_ATTEMPTS} attempts (constant conflicts)`,
  );
}

/**
 * Renews the lease and records the heartbeat (compare-and-set on the last revision we wrote; a
 * conflict from someone else's edit re-reads and retries). Throws LEASE_REVOKED when our Node is
 * gone or no longer holds `subnet`.
 */
export async function renewLease(
  o: LeaseOptions,
  current: StoredObject<'Node'>,
  subnet: string,
): Promise<StoredObject<'Node'>> {
  let node = current;
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    if (node.spec.podSubnet !== subnet) {
      throw new AgentError(AgentErrorCode.LEASE_REVOKED, `Node "${o.nodeName}" no longer holds ${subnet}`);
    }
    try {
      const input = {
        kind: 'Node' as const,
        name: o.nodeName,
        labels: { ...node.labels },
        spec: nodeSpec(node.spec, o, subnet),
      };
      return (await o.api.apply(input, { expectedRevision: node.revision })) as StoredObject<'Node'>;
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
    try {
      node = (await o.api.get({ kind: 'Node', name: o.nodeName })) as StoredObject<'Node'>;
    } catch (error) {
      if (isSwitchyardError(error, StateErrorCode.NOT_FOUND)) {
        throw new AgentError(
          AgentErrorCode.LEASE_REVOKED,
          `Node "${o.nodeName}" was removed; its subnet ${subnet} is released`,
        );
      }
      throw error;
    }
  }
  throw new AgentError(
    AgentErrorCode.LEASE_REVOKED,
    `could not renew the lease of ${subnet} (constant conflicts)`,
  );
}
