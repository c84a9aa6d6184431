import type { Balancer, Candidate } from './balance';
import type { BackendState, BackendStates } from './backend-state';
import type { Backend, Pool } from './route-table';

export interface PickedBackend extends Candidate {
  readonly backend: Backend;
  readonly state: BackendState;
}

/**
 * The backends of a pool that may take a new request: weight > 0, admin `ready`, UP by active
 * checks, not tried already by this request. Passively ejected ones are left out unless fewer than
 * `panicThresholdPercent` of the UP ones would remain (panic: Envoy's rule, route to all UP ones).
 */
export function eligibleBackends(
  pool: Pool,
  states: BackendStates,
  now: number,
  panicThresholdPercent: number,
  exclude?: ReadonlySet<string>,
): PickedBackend[] {
  const up: PickedBackend[] = [];
  let upCount = 0;
  let healthy = 0;
  for (const backend of pool.backends) {
    if (backend.weight <= 0) continue;
    const state = states.get(backend.id);
    if (!state || state.admin !== 'ready' || state.health !== 'up') continue;
    upCount++;
    if (!state.isEjected(now)) healthy++;
    if (exclude?.has(backend.id)) continue;
    up.push({ id: backend.id, weight: backend.weight, active: state.active, backend, state });
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
): PickedBackend | undefined {
  const candidates = eligibleBackends(pool, states, now, panicThresholdPercent, exclude);
  return balancer.pick(candidates, { hashKey });
}
