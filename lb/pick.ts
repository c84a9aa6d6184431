import type { Balancer, Candidate } from './balance';
import type { BackendState, BackendStates } from './backend-state';
import type { Backend, Pool } from './route-table';

export interface PickedBackend extends Candidate {
  readonly backend: Backend;
  readonly state: BackendState;
}

/** A pool member as balancers see it; `active` reads the live in-flight count. */
class Member implements PickedBackend {
  readonly id: string;
  readonly weight: number;

  constructor(
    readonly backend: Backend,
    readonly state: BackendState,
  ) {
    this.id = backend.id;
    this.weight = backend.weight;
  }

  get active(): number {
    return this.state.active;
  }
}

/** The backends of a pool that can ever take traffic (weight > 0 and known), built once per table. */
export function poolMembers(pool: Pool, states: BackendStates): PickedBackend[] {
  const members: PickedBackend[] = [];
  for (const backend of pool.backends) {
    const state = states.get(backend.id);
    if (backend.weight > 0 && state) members.push(new Member(backend, state));
  }
  return members;
}

function isUp(state: BackendState): boolean {
  return state.admin === 'ready' && state.health === 'up';
}

function allEligible(members: readonly PickedBackend[], now: number, exclude?: ReadonlySet<string>): boolean {
  for (const member of members) {
    const state = member.state;
    if (!isUp(state) || state.isEjected(now) || exclude?.has(member.id)) return false;
  }
  return true;
}

/**
 * The backends of a pool that may take a new request: weight > 0, admin `ready`, UP by active
 * checks, not tried already by this request. Passively ejected ones are left out unless fewer than
 * `panicThresholdPercent` of the UP ones would remain (panic: Envoy's rule, route to all UP ones).
 * When every member qualifies (the common case), `members` itself is returned: no allocation.
 */
export function eligibleBackends(
  pool: Pool,
  states: BackendStates,
  now: number,
  panicThresholdPercent: number,
  exclude?: ReadonlySet<string>,
  members: readonly PickedBackend[] = poolMembers(pool, states),
): readonly PickedBackend[] {
  if (allEligible(members, now, exclude)) return members;
  const up: PickedBackend[] = [];
  let upCount = 0;
  let healthy = 0;
  for (const member of members) {
    if (!isUp(member.state)) continue;
    upCount++;
    if (!member.state.isEjected(now)) healthy++;
    if (!exclude?.has(member.id)) up.push(member);
  }
  if (healthy === upCount || healthy * 100 < upCount * panicThresholdPercent) return up;
  return up.filter((p) => !p.state.isEjected(now));
}

export function pickBackend(
  pool: Pool,
  states: BackendStates,
  balancer: Balancer,
  hashKey: string,
  now: number,
  panicThresholdPercent: number,
  exclude?: ReadonlySet<string>,
  members?: readonly PickedBackend[],
): PickedBackend | undefined {
  const candidates = eligibleBackends(pool, states, now, panicThresholdPercent, exclude, members);
  return balancer.pick(candidates, { hashKey });
}
