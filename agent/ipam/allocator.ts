/**
 * Round-robin address allocation on integers (pure), like host-local: start after the last address
 * handed out (so a released address is not reused at once), wrap at the end of the range, and give
 * up after one full turn. Cost: O(range size) in the worst case, O(1) typically.
 */
export interface AllocatorRange {
  /** First and last usable address, inclusive. */
  first: bigint;
  last: bigint;
}

export function allocate(
  range: AllocatorRange,
  isUsed: (address: bigint) => boolean,
  cursor?: bigint,
): bigint | undefined {
  if (range.last < range.first) return undefined;
  const size = range.last - range.first + 1n;
  const inRange = cursor !== undefined && cursor >= range.first && cursor <= range.last;
  let candidate = inRange ? cursor + 1n : range.first;
  for (let i = 0n; i < size; i++) {
    if (candidate > range.last) candidate = range.first;
    if (!isUsed(candidate)) return candidate;
    candidate++;
  }
  return undefined;
}

/** How many addresses of the range are in use, for metrics and exhaustion messages. */
export function rangeSize(range: AllocatorRange): bigint {
  return range.last < range.first ? 0n : range.last - range.first + 1n;
}
