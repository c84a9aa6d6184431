// Validation of state objects: shape and field rules (schema), then rules that need the rest of
// the state (consistency), both run by every store before anything is stored. Pure and synchronous.
// CONTRACT:
//   validateInput(input: unknown): ObjectInput — (schema.ts) checks the envelope and the kind's
//     spec in three steps: shape (specs.ts: zod, strict objects, ranges, names, IPs and CIDRs),
//     defaults filled in one place (defaults.ts), rules across fields (rules.ts). Returns a new
//     normalised object that shares nothing with the input: defaults filled, `labels` always set,
//     `namespace` set (default `default`) for namespaced kinds only, IPs and CIDRs in canonical
//     text, echoed `revision`/`createRevision` dropped. Throws StateError SY_STATE_INVALID with
//     `field` (e.g. `spec.ports[0].containerPort`) and `reason` (e.g. `must be an integer
//     1-65535, got 70000`); an unknown field is reported before anything else, with a hint for
//     a near miss (`podCidr` → `did you mean "podCIDR"?`).
//   checkConsistency(next: ObjectInput, view: StateView): void — (consistency.ts) rules across
//     objects on a normalised `next`; the view holds the state before the write (an update's old
//     version is skipped by key). Networks' CIDRs disjoint from other Networks'; a Network change
//     must keep every Node lease, Service VIP and VIP address it owns usable; a Node's podSubnet
//     of the Network's size, inside its pod CIDR, disjoint from other Nodes'; a Service's
//     spec.vip.address and a VIP's spec.address inside a service CIDR, not its network or
//     broadcast address, and unused (a VIP may share the address of a Service it lists among its
//     owners). SY_STATE_INVALID when the value does not fit the configuration, SY_STATE_CONFLICT
//     (with `details.conflictsWith`, the other object's key) when it clashes with another object.
//     O(Networks + Nodes + Services + VIPs), never O(Tasks); unchanged leases and addresses O(1).
//   checkDeletion(ref: ObjectRef, view: StateView): void — deleting a Network is refused
//     (SY_STATE_CONFLICT) while a Node holds a pod subnet, or a Service or VIP an address, from it.
export { validateInput } from './schema';
export { checkConsistency, checkDeletion, type StateView } from './consistency';
