// Consistent hashing on a ring (Karger et al.; Envoy RING_HASH, ketama): each backend owns
// VNODES × weight points on a 32-bit ring; a key goes to the first point at or after its hash.
// When a backend leaves, only the keys it owned move. Pick: O(log(points)) binary search. The
// ring is rebuilt (O(points · log points)) only when the candidate set changes, then cached.
import { hash32 } from '../../lib';
import type { Balancer, Candidate, PickContext } from './types';

const VNODES = 160;

export { hash32 };

interface Ring {
  readonly key: string;
  readonly points: Uint32Array;
  /** Index into the candidate list the ring was built from, per point. */
  readonly owners: Uint32Array;
}

function buildRing(candidates: readonly Candidate[], key: string): Ring {
  const entries: Array<[number, number]> = [];
  candidates.forEach((candidate, index) => {
    const count = VNODES * Math.max(1, Math.round(candidate.weight));
    for (let v = 0; v < count; v++) entries.push([hash32(`${candidate.id}#${v}`), index]);
  });
  entries.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return {
    key,
    points: Uint32Array.from(entries, (e) => e[0]),
    owners: Uint32Array.from(entries, (e) => e[1]),
  };
}

export class ConsistentHashBalancer implements Balancer {
  private ring: Ring | undefined;
  /** The list the ring was last checked against: callers hand the same array while nothing changes. */
  private checked: readonly Candidate[] | undefined;

  pick<T extends Candidate>(candidates: readonly T[], context: PickContext): T | undefined {
    if (candidates.length === 0) return undefined;
    if (!this.ring || candidates !== this.checked) {
      const key = candidates.map((c) => `${c.id}*${c.weight}`).join('\n');
      if (this.ring?.key !== key) this.ring = buildRing(candidates, key);
      this.checked = candidates;
    }
    const { points, owners } = this.ring;
    const target = hash32(context.hashKey);
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    return candidates[owners[lo === points.length ? 0 : lo] as number];
  }

  retain(_ids: ReadonlySet<string>): void {
    // The ring is keyed by the candidate set itself.
  }
}
