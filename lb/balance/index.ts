import type { Algorithm } from '../route-table';
import { ConsistentHashBalancer } from './consistent-hash';
import { LeastConnectionsBalancer } from './least-connections';
import { RoundRobinBalancer } from './round-robin';
import type { Balancer } from './types';

export type { Balancer, Candidate, PickContext } from './types';
export { RoundRobinBalancer } from './round-robin';
export { LeastConnectionsBalancer } from './least-connections';
export { ConsistentHashBalancer, hash32 } from './consistent-hash';

/** The built-in balancers, registered in one visible list. */
const BALANCERS: Readonly<Record<Algorithm, () => Balancer>> = {
  'round-robin': () => new RoundRobinBalancer(),
  'least-connections': () => new LeastConnectionsBalancer(),
  'consistent-hash': () => new ConsistentHashBalancer(),
};

export function createBalancer(algorithm: Algorithm): Balancer {
  return BALANCERS[algorithm]();
}
