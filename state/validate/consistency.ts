import {
  cidrContains,
  cidrContainsIp,
  cidrLast,
  cidrOverlaps,
  parseCidr,
  parseIp,
  type Cidr,
} from '../../lib';
import { StateError, StateErrorCode, invalid } from '../errors';
import {
  DEFAULT_NAMESPACE,
  objectKey,
  type Kind,
  type ObjectInput,
  type ObjectRef,
  type StoredObject,
  type VipSpec,
} from '../model';

/**
 * Rules across objects, run by the store on every write after validateInput and before anything is
 * stored. The view is the state as it is before the write: when `next` updates an object, the view
 * still holds the old version, which is skipped by key.
 *
 * Which code:
 *   SY_STATE_INVALID (422) — the value does not fit the cluster's configuration: a pod subnet
 *     outside every pod CIDR or of the wrong size, a VIP address (a Service's spec.vip.address or
 *     a VIP's spec.address) outside every service CIDR or on its network or broadcast address, a
 *     lease or VIP asked for before any Network exists.
 *   SY_STATE_CONFLICT (409) — the value collides with a claim another object holds: overlapping
 *     Network CIDRs, overlapping node subnets, a VIP address in use (by another VIP, or by a
 *     Service that does not own the VIP), a Network change or deletion that would orphan a node
 *     lease or a VIP address. `details.conflictsWith` is the other object's key.
 *
 * Cost: O(Networks + Nodes + Services + VIPs) per write, never O(Tasks). A Node, Service or VIP
 * write that keeps its pod subnet or address (heartbeats, label edits, backend changes) is O(1):
 * what it claims was checked when it was claimed, and Network changes re-check every claim.
 */
export interface StateView {
  get(ref: ObjectRef): StoredObject | undefined;
  list(kind: Kind): Iterable<StoredObject>;
}

export function checkConsistency(next: ObjectInput, view: StateView): void {
  switch (next.kind) {
    case 'Network':
      return checkNetwork(next as ObjectInput<'Network'>, view);
    case 'Node':
      return checkNode(next as ObjectInput<'Node'>, view);
    case 'Service':
      return checkService(next as ObjectInput<'Service'>, view);
    case 'VIP':
      return checkVip(next as ObjectInput<'VIP'>, view);
    default:
      return; // Tasks and Policies reference other objects only by selector or name, loosely
  }
}

/** Deleting a Network is refused while Nodes hold pod subnets, or Services or VIPs addresses, from it. */
export function checkDeletion(ref: ObjectRef, view: StateView): void {
  if (ref.kind !== 'Network') return;
  const network = view.get(ref);
  const cidrs = network === undefined ? undefined : networkCidrs(network);
  if (cidrs === undefined) return;
  for (const node of view.list('Node')) {
    const subnet = podSubnetOf(node);
    if (subnet !== undefined && cidrContains(cidrs.pod, subnet)) {
      const reason = `Node "${node.name}" still holds pod subnet ${subnet.text} from this Network; release its lease first`;
      throw conflict(undefined, reason, node);
    }
  }
  for (const holder of addressHolders(view)) {
    const text = claimedAddress(holder);
    const ip = text === undefined ? undefined : tryParseIp(text);
    if (ip !== undefined && cidrContainsIp(cidrs.service, ip)) {
      throw conflict(undefined, `${holderName(holder)} still holds VIP ${text} from this Network`, holder);
    }
  }
}

// ---- Network -----------------------------------------------------------------------------------------

interface NetworkCidrs {
  readonly object: StoredObject;
  readonly pod: Cidr;
  readonly service: Cidr;
}

function checkNetwork(next: ObjectInput<'Network'>, view: StateView): void {
  const self = objectKey(next);
  const mine = { pod: parseCidr(next.spec.podCIDR), service: parseCidr(next.spec.serviceCIDR) };
  const others: NetworkCidrs[] = [];
  for (const object of view.list('Network')) {
    const other = objectKey(object) === self ? undefined : networkCidrs(object);
    if (other === undefined) continue;
    checkNetworksDisjoint(mine, other);
    others.push(other);
  }
  for (const node of view.list('Node')) {
    const subnet = podSubnetOf(node);
    // A lease inside another Network's pod CIDR belongs to that Network.
    if (subnet === undefined || others.some((o) => cidrContains(o.pod, subnet))) continue;
    if (!cidrContains(mine.pod, subnet)) {
      const reason = `Node "${node.name}" holds pod subnet ${subnet.text}, which is outside ${mine.pod.text}; release its lease before changing the pod CIDR`;
      throw conflict('spec.podCIDR', reason, node);
    }
    if (subnet.prefix !== next.spec.nodeSubnetPrefix) {
      const reason = `Node "${node.name}" holds pod subnet ${subnet.text} (/${subnet.prefix}); release its lease before changing the node subnet size`;
      throw conflict('spec.nodeSubnetPrefix', reason, node);
    }
  }
  checkAddressesKept(mine.service, others, view);
}

/** Every Service VIP and VIP address stays usable in this Network's new service CIDR or another's. */
function checkAddressesKept(service: Cidr, others: readonly NetworkCidrs[], view: StateView): void {
  for (const holder of addressHolders(view)) {
    const text = claimedAddress(holder);
    const ip = text === undefined ? undefined : tryParseIp(text);
    // An address usable in another Network's service CIDR belongs to that Network.
    if (ip === undefined || usableIn(service, ip) || others.some((o) => usableIn(o.service, ip))) continue;
    const where = cidrContainsIp(service, ip)
      ? `which would be the ${edgeName(service, ip)} address of ${service.text}`
      : `which is outside ${service.text}`;
    const reason = `${holderName(holder)} holds VIP ${text}, ${where}; move it before changing the service CIDR`;
    throw conflict('spec.serviceCIDR', reason, holder);
  }
}

function checkNetworksDisjoint(mine: { pod: Cidr; service: Cidr }, other: NetworkCidrs): void {
  const fields = [
    ['spec.podCIDR', 'pod'],
    ['spec.serviceCIDR', 'service'],
  ] as const;
  for (const [field, which] of fields) {
    for (const [otherField, otherWhich] of fields) {
      if (cidrOverlaps(mine[which], other[otherWhich])) {
        const reason = `${mine[which].text} overlaps ${otherField} ${other[otherWhich].text} of Network "${other.object.name}"`;
        throw conflict(field, reason, other.object);
      }
    }
  }
}

// ---- Node --------------------------------------------------------------------------------------------

function checkNode(next: ObjectInput<'Node'>, view: StateView): void {
  const text = next.spec.podSubnet;
  if (text === undefined) return;
  const previous = view.get(next);
  if (previous !== undefined && podSubnetText(previous) === text) return; // unchanged lease, e.g. a heartbeat
  const subnet = parseCidr(text);
  const networks = [...view.list('Network')].map(networkCidrs).filter((n) => n !== undefined);
  if (networks.length === 0) {
    throw invalid(
      'spec.podSubnet',
      'no Network exists yet to lease pod subnets from; create the Network first',
    );
  }
  const owner = networks.find((n) => cidrContains(n.pod, subnet));
  if (owner === undefined) {
    const podCidrs = networks.map((n) => `${n.pod.text} (Network "${n.object.name}")`).join(', ');
    throw invalid('spec.podSubnet', `${subnet.text} is not inside the pod CIDR of any Network: ${podCidrs}`);
  }
  const prefix = (owner.object as StoredObject<'Network'>).spec.nodeSubnetPrefix;
  if (subnet.prefix !== prefix) {
    throw invalid(
      'spec.podSubnet',
      `must be a /${prefix} (spec.nodeSubnetPrefix of Network "${owner.object.name}"), got ${subnet.text}`,
    );
  }
  const self = objectKey(next);
  for (const node of view.list('Node')) {
    const other = objectKey(node) === self ? undefined : podSubnetOf(node);
    if (other !== undefined && cidrOverlaps(subnet, other)) {
      throw conflict(
        'spec.podSubnet',
        `${subnet.text} overlaps ${other.text}, leased to Node "${node.name}"`,
        node,
      );
    }
  }
}

// ---- Service and VIP addresses ------------------------------------------------------------------------

function checkService(next: ObjectInput<'Service'>, view: StateView): void {
  const address = next.spec.vip?.address;
  if (address === undefined) return;
  const previous = view.get(next);
  if (previous !== undefined && vipOf(previous) === address) return; // VIP unchanged
  checkInServiceCidr('spec.vip.address', address, view);
  const self = objectKey(next);
  for (const service of view.list('Service')) {
    // Addresses are canonical text after validation, so equal text is the same address.
    if (objectKey(service) !== self && vipOf(service) === address) {
      throw conflict('spec.vip.address', `${address} is already the VIP of ${serviceName(service)}`, service);
    }
  }
  for (const vip of view.list('VIP')) {
    // The VIP object of this very Service carries the address it asked for.
    if (claimedAddress(vip) === address && !ownedBy(vip.spec as VipSpec, next)) {
      throw conflict('spec.vip.address', `${address} is already the address of ${holderName(vip)}`, vip);
    }
  }
}

function checkVip(next: ObjectInput<'VIP'>, view: StateView): void {
  const address = next.spec.address;
  const previous = view.get(next);
  if (previous !== undefined && claimedAddress(previous) === address) return; // address unchanged
  checkInServiceCidr('spec.address', address, view);
  const self = objectKey(next);
  for (const vip of view.list('VIP')) {
    if (objectKey(vip) !== self && claimedAddress(vip) === address) {
      throw conflict('spec.address', `${address} is already the address of ${holderName(vip)}`, vip);
    }
  }
  for (const service of view.list('Service')) {
    if (vipOf(service) === address && !ownedBy(next.spec, service)) {
      throw conflict(
        'spec.address',
        `${address} is the spec.vip.address of ${serviceName(service)}, which does not own this VIP`,
        service,
      );
    }
  }
}

/** 422 unless `address` is a usable address (not the first or last) of some Network's service CIDR. */
function checkInServiceCidr(field: string, address: string, view: StateView): void {
  const ip = parseIp(address);
  const networks = [...view.list('Network')].map(networkCidrs).filter((n) => n !== undefined);
  if (networks.length === 0) {
    throw invalid(field, 'no Network exists yet to take VIPs from; create the Network first');
  }
  const owner = networks.find((n) => cidrContainsIp(n.service, ip));
  if (owner === undefined) {
    const serviceCidrs = networks.map((n) => `${n.service.text} (Network "${n.object.name}")`).join(', ');
    throw invalid(field, `${address} is not inside the service CIDR of any Network: ${serviceCidrs}`);
  }
  if (!usableIn(owner.service, ip)) {
    throw invalid(
      field,
      `${address} is the ${edgeName(owner.service, ip)} address of spec.serviceCIDR ${owner.service.text} of Network "${owner.object.name}"; VIPs use the addresses between`,
    );
  }
}

/** Whether a Service is among a VIP's owners (its `spec.vip.name` asked for it). */
function ownedBy(vip: Readonly<VipSpec>, service: ObjectRef): boolean {
  const owners = Array.isArray(vip.owners) ? vip.owners : [];
  const namespace = service.namespace ?? DEFAULT_NAMESPACE;
  return owners.some((o) => o.kind === 'service' && o.namespace === namespace && o.name === service.name);
}

/** Inside the CIDR and neither its first (network) nor its last (broadcast) address. */
function usableIn(cidr: Cidr, ip: IpValue): boolean {
  return cidrContainsIp(cidr, ip) && ip.value !== cidr.network && ip.value !== cidrLast(cidr);
}

function edgeName(cidr: Cidr, ip: IpValue): string {
  return ip.value === cidr.network ? 'network' : 'broadcast';
}

// ---- helpers -----------------------------------------------------------------------------------------

function conflict(field: string | undefined, reason: string, other: StoredObject): StateError {
  const message = field === undefined ? reason : `${field}: ${reason}`;
  return new StateError(StateErrorCode.CONFLICT, message, {
    ...(field === undefined ? {} : { field }),
    reason,
    details: { conflictsWith: objectKey(other) },
  });
}

/**
 * Parsed pod subnets, cached per stored object: stored objects are immutable, and a Network change
 * walks every Node. Entries go when the objects do.
 */
const parsedSubnets = new WeakMap<StoredObject, Cidr | null>();

function podSubnetOf(node: StoredObject): Cidr | undefined {
  let cached = parsedSubnets.get(node);
  if (cached === undefined) {
    const text = podSubnetText(node);
    cached = text === undefined ? null : tryParseCidr(text);
    parsedSubnets.set(node, cached);
  }
  return cached ?? undefined;
}

function podSubnetText(node: StoredObject): string | undefined {
  const text = (node as StoredObject<'Node'>).spec.podSubnet;
  return typeof text === 'string' ? text : undefined;
}

/** Every object that claims an address from a service CIDR: Services (explicit) and VIPs. */
function* addressHolders(view: StateView): Iterable<StoredObject> {
  yield* view.list('Service');
  yield* view.list('VIP');
}

/** The address an object claims from a service CIDR, if any. */
function claimedAddress(object: StoredObject): string | undefined {
  if (object.kind === 'Service') return vipOf(object);
  if (object.kind !== 'VIP') return undefined;
  const address = (object as StoredObject<'VIP'>).spec.address;
  return typeof address === 'string' ? address : undefined;
}

function holderName(object: StoredObject): string {
  return object.kind === 'VIP' ? `VIP "${object.name}"` : serviceName(object);
}

function vipOf(service: StoredObject): string | undefined {
  const address = (service as StoredObject<'Service'>).spec.vip?.address;
  return typeof address === 'string' ? address : undefined;
}

function networkCidrs(object: StoredObject): NetworkCidrs | undefined {
  const spec = (object as StoredObject<'Network'>).spec;
  const pod = tryParseCidr(spec.podCIDR);
  const service = tryParseCidr(spec.serviceCIDR);
  return pod === null || service === null ? undefined : { object, pod, service };
}

/** Stored objects were validated; one that no longer parses is skipped rather than blocking writes. */
function tryParseCidr(text: string): Cidr | null {
  try {
    return parseCidr(text);
  } catch {
    return null;
  }
}

type IpValue = ReturnType<typeof parseIp>;

function tryParseIp(text: string): IpValue | undefined {
  try {
    return parseIp(text);
  } catch {
    return undefined;
  }
}

function serviceName(service: StoredObject): string {
  return `Service "${service.namespace ?? ''}/${service.name}"`;
}
