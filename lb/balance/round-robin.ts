// Smooth weighted round-robin (nginx's algorithm; Traefik's `wrr` gives the same sequence): every
// pick adds each candidate's weight to its current score, takes the highest and subtracts the
// total from it. Spreads heavy backends out (a,b,a,c,a… rather than a,a,a,b,c). O(n) per pick,
// one number of state per backend, keyed by backend id so positions survive compiles.
import type { Balancer, Candidate, PickContext } from './types';

export class RoundRobinBalancer implements Balancer {
  private readonly current = new Map<string, number>();

  pick<T extends Candidate>(candidates: readonly T[], _context?: PickContext): T | undefined {
    let best: T | undefined;
    let bestScore = -Infinity;
    let total = 0;
    for (const candidate of candidates) {
      const score = (this.current.get(candidate.id) ?? 0) + candidate.weight;
      this.current.set(candidate.id, score);
      total += candidate.weight;
      if (score > bestScore) {
        best = candidate;
        bestScore = score;
      }
    }
    if (best) this.current.set(best.id, bestScore - total);
    return best;
  }

  retain(ids: ReadonlySet<string>): void {
    for (const id of this.current.keys()) if (!ids.has(id)) this.current.delete(id);
  }
}
