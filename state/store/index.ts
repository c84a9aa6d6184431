// The store's door: the embedded (memory + WAL + snapshots) store and the memory-only store, both
// implementing StateApi, validating every write with state/validate unless told otherwise.
import { checkConsistency, checkDeletion, validateInput } from '../validate';
import { createMemoryStoreWith, openEmbeddedStoreWith } from './open';
import type { EmbeddedStore, EmbeddedStoreOptions, MemoryStore, StoreOptions, Validator } from './types';

export type {
  ChangeEvent,
  EmbeddedStore,
  EmbeddedStoreOptions,
  MemoryStore,
  Store,
  StoreOptions,
  StoreStats,
  StateView,
  SubscribeOptions,
  Validator,
} from './types';
export { DEFAULTS as STORE_DEFAULTS } from './options';

/** The validation every store runs by default. */
export const defaultValidator: Validator = { validateInput, checkConsistency, checkDeletion };

/**
 * Opens (creating if needed) the store in `options.dir`, holding an exclusive lock on the dir until
 * close(). Recovers the newest snapshot plus the WAL after it; a torn WAL tail is cut off with a warning.
 */
export function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  return openEmbeddedStoreWith(options, defaultValidator);
}

/** The same store with nothing on disk, for tests and benchmarks. */
export function createMemoryStore(options: StoreOptions = {}): MemoryStore {
  return createMemoryStoreWith(options, defaultValidator);
}
