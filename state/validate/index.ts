// Validation of state objects: shape and field rules (schema), then rules that need the rest of
// the state (consistency), both run by every store before anything is stored.
// CONTRACT (implemented in schema.ts and consistency.ts):
//   validateInput(input: unknown): ObjectInput — checks the envelope and the kind's spec, fills
//     defaults in one place, returns a new normalised object; throws StateError SY_STATE_INVALID
//     with `field` (e.g. `spec.ports[0].containerPort`) and `reason`.
//   checkConsistency(next: ObjectInput, view: StateView): void — rules across objects (CIDRs not
//     overlapping each other or existing node leases, node subnets inside the pod CIDR and not
//     overlapping each other, …); throws SY_STATE_INVALID (or SY_STATE_CONFLICT) naming the field.
//   checkDeletion(ref: ObjectRef, view: StateView): void — e.g. a Network still referenced.
export { validateInput } from './schema';
export { checkConsistency, checkDeletion, type StateView } from './consistency';
