/** What a balancer chooses among: backends that may take traffic right now. */
export interface Candidate {
  readonly id: string;
  /** > 0; candidates of weight 0 are filtered out before a balancer sees them. */
  readonly weight: number;
  /** Requests or sessions in flight on this backend now. */
  readonly active: number;
}

export interface PickContext {
  /** Consistent hashing: the value hashed (a cookie value or the client IP). */
  readonly hashKey: string;
}

/**
 * One instance per pool, kept across route-table compiles so positions survive. `pick` never
 * returns something outside `candidates`; it returns undefined only when `candidates` is empty.
 * A candidates array is never changed once passed: a balancer may cache by its identity.
 */
export interface Balancer {
  pick<T extends Candidate>(candidates: readonly T[], context: PickContext): T | undefined;
  /** Drop per-backend state for ids no longer in the pool. */
  retain(ids: ReadonlySet<string>): void;
}
