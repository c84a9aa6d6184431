// Least connections (HAProxy `leastconn`): the candidate with the fewest in-flight requests per
// unit of weight wins; ties rotate so equal backends share the load instead of the first taking
// all of it. O(n) per pick, one cursor of state per pool.
import type { Balancer, Candidate, PickContext } from './types';

export class LeastConnectionsBalancer implements Balancer {
  private cursor = 0;

  pick<T extends Candidate>(candidates: readonly T[], _context?: PickContext): T | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    this.cursor = (this.cursor + 1) % n;
    let best: T | undefined;
    let bestLoad = Infinity;
    for (let i = 0; i < n; i++) {
      const candidate = candidates[(this.cursor + i) % n] as T;
      const load = candidate.active / candidate.weight;
      if (load < bestLoad) {
        best = candidate;
        bestLoad = load;
      }
    }
    return best;
  }

  retain(_ids: ReadonlySet<string>): void {
    // No per-backend state.
  }
}
