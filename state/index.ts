// The state room's door: the model, the StateApi contract, the stores, the servers and the client.
// Other rooms import state only from here.
export * from './model';
export type { StateApi, WriteOptions, ListQuery, ListResult, WatchOptions, WatchEvent } from './api';
export { StateError, StateErrorCode, invalid, HTTP_STATUS } from './errors';
export { ensureToken, readTokenFile, TOKEN_FILE, type TokenResult } from './token';
export { validateInput, checkConsistency, checkDeletion, type StateView } from './validate';
export {
  parseLabelSelector,
  matchesLabelSelector,
  selectorFromSpec,
  formatLabelSelector,
  serviceSelectsTask,
  EVERYTHING,
  type LabelSelector,
} from './selector';
export { openEmbeddedStore, createMemoryStore, type EmbeddedStore } from './store';
export { startStateServer, type StateServer } from './server';
export { createGrpcStateClient, createInformer, type Informer, type InformerEvent } from './client';
// Sources: outside state turned into whole snapshots (STYLE.md item 5).
export {
  createMesosSource,
  sourceOptionsFromMesosDns,
  readMesosDnsConfig,
  parseMesosDnsConfig,
  MESOS_ROLE_LABEL,
  MESOS_LEADER_LABEL,
  MESOS_MASTER_INDEX_LABEL,
  MESOS_PORT_LABEL,
  SOURCE_LABEL,
  SourceError,
  SOURCE_ERROR_CODES,
  type MesosSync,
  type MesosSourceOptions,
  type MesosDnsConfig,
} from './sources/mesos';
