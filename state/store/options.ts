// Store options: defaults filled and checked in one place, before anything is opened.
import { silentLogger, type Logger } from '../../lib';
import { invalid } from '../errors';
import { StoreMetrics } from './metrics';
import type { EmbeddedStoreOptions, StoreOptions, Validator } from './types';

export const DEFAULTS = {
  historyLimit: 100_000,
  watchBufferLimit: 10_000,
  snapshotEveryRecords: 100_000,
  snapshotEveryBytes: 64 * 1024 * 1024,
} as const;

export interface ResolvedOptions {
  logger: Logger;
  metrics: StoreMetrics;
  validator: Validator;
  historyLimit: number;
  bufferLimit: number;
}

export interface ResolvedEmbeddedOptions extends ResolvedOptions {
  dir: string;
  snapshotEveryRecords: number;
  snapshotEveryBytes: number;
}

export function resolveOptions(options: StoreOptions, defaultValidator: Validator): ResolvedOptions {
  return {
    logger: (options.logger ?? silentLogger()).child({ room: 'state', component: 'store' }),
    metrics: new StoreMetrics(options.registry),
    validator: options.validate ?? defaultValidator,
    historyLimit: positive('historyLimit', options.historyLimit, DEFAULTS.historyLimit),
    bufferLimit: positive('watchBufferLimit', options.watchBufferLimit, DEFAULTS.watchBufferLimit),
  };
}

export function resolveEmbeddedOptions(
  options: EmbeddedStoreOptions,
  defaultValidator: Validator,
): ResolvedEmbeddedOptions {
  if (typeof options.dir !== 'string' || options.dir === '') throw invalid('dir', 'a data dir is required');
  // Checked before resolveOptions registers metrics, so a bad option leaves the registry untouched.
  const snapshotEveryRecords = positive(
    'snapshotEveryRecords',
    options.snapshotEveryRecords,
    DEFAULTS.snapshotEveryRecords,
  );
  const snapshotEveryBytes = positive(
    'snapshotEveryBytes',
    options.snapshotEveryBytes,
    DEFAULTS.snapshotEveryBytes,
  );
  return {
    ...resolveOptions(options, defaultValidator),
    dir: options.dir,
    snapshotEveryRecords,
    snapshotEveryBytes,
  };
}

function positive(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw invalid(field, 'must be a positive integer');
  return value;
}
