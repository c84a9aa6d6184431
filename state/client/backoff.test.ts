import { backoffDelay, delay, randomizedTimeout } from './backoff';

describe('backoffDelay', () => {
  const options = { initialMs: 100, maxMs: 1000 };
  it.each([
    { desc: 'first retry, lowest jitter', attempt: 0, random: 0, want: 50 },
    { desc: 'first retry, highest jitter', attempt: 0, random: 0.999999, want: 100 },
    { desc: 'doubles per attempt', attempt: 2, random: 0, want: 200 },
    { desc: 'capped at max', attempt: 10, random: 0.999999, want: 1000 },
    { desc: 'huge attempts stay finite', attempt: 5000, random: 0, want: 500 },
  ])('$desc', ({ attempt, random, want }) => {
    expect(backoffDelay(attempt, options, () => random)).toBe(want);
  });
});

describe('randomizedTimeout', () => {
  it.each([
    { desc: 'low end is -25%', random: 0, want: 750 },
    { desc: 'middle is the base', random: 0.5, want: 1000 },
    { desc: 'high end approaches +25%', random: 0.999999, want: 1250 },
  ])('$desc', ({ random, want }) => {
    expect(randomizedTimeout(1000, () => random)).toBe(want);
  });
});

describe('delay', () => {
  it('resolves at once when the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const waiting = delay(60_000, controller.signal);
    controller.abort();
    await waiting;
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
