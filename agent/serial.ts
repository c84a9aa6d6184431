/**
 * A coalescing serial runner: `request()` resolves once a run that *started after the call* has
 * finished, and bursts of requests share one run. Used for the NAT table and the route table, whose
 * apply step compiles the latest state itself, so the last writer always wins.
 */
export interface SerialRunner {
  request(): Promise<void>;
  /** Resolves when nothing is running or queued. */
  idle(): Promise<void>;
}

export function createSerialRunner(run: () => Promise<void>): SerialRunner {
  let current: Promise<void> | undefined;
  let next: Promise<void> | undefined;

  function start(): Promise<void> {
    const p = run();
    current = p;
    const clear = (): void => {
      if (current === p) current = undefined;
    };
    p.then(clear, clear);
    return p;
  }

  return {
    request() {
      if (current === undefined) return start();
      next ??= current
        .catch(() => undefined)
        .then(() => {
          next = undefined;
          return start();
        });
      return next;
    },
    async idle() {
      while (current !== undefined || next !== undefined) await (next ?? current)?.catch(() => undefined);
    },
  };
}
