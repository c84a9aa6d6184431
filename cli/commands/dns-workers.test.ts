import { availableParallelism } from 'node:os';
import { isSwitchyardError } from '../../lib';
import { MAX_WORKERS, parseWorkers } from './dns-primary';
import { RESTART_MAX_MS, RESTART_MIN_MS, restartDelayMs } from './dns-workers';

describe('parseWorkers', () => {
  it.each([
    { desc: 'one', text: '1', want: 1 },
    { desc: 'several', text: '4', want: 4 },
    { desc: 'the most', text: String(MAX_WORKERS), want: MAX_WORKERS },
    { desc: 'auto', text: 'auto', want: Math.min(availableParallelism(), MAX_WORKERS) },
  ])('accepts $desc', ({ text, want }) => {
    expect(parseWorkers(text)).toBe(want);
  });

  it.each([
    { desc: 'zero', text: '0' },
    { desc: 'negative', text: '-2' },
    { desc: 'a fraction', text: '2.5' },
    { desc: 'hex', text: '0x2' },
    { desc: 'exponent', text: '1e1' },
    { desc: 'spaces', text: ' 2' },
    { desc: 'empty', text: '' },
    { desc: 'a word', text: 'all' },
    { desc: 'too many', text: String(MAX_WORKERS + 1) },
  ])('refuses $desc with a usage error naming the flag', ({ text }) => {
    let caught: unknown;
    try {
      parseWorkers(text);
    } catch (err) {
      caught = err;
    }
    expect(isSwitchyardError(caught, 'SY_CLI_USAGE')).toBe(true);
    expect((caught as Error).message).toBe(
      `--workers: expected a number of processes from 1 to ${MAX_WORKERS}, or auto; got "${text}"`,
    );
  });
});

describe('restartDelayMs', () => {
  it.each([
    { desc: 'the first death', failures: 0, want: RESTART_MIN_MS },
    { desc: 'the second in a row', failures: 1, want: 2 * RESTART_MIN_MS },
    { desc: 'the fourth in a row', failures: 3, want: 8 * RESTART_MIN_MS },
    { desc: 'a crash loop, capped', failures: 30, want: RESTART_MAX_MS },
  ])('waits $want ms after $desc', ({ failures, want }) => {
    expect(restartDelayMs(failures)).toBe(want);
  });
});
