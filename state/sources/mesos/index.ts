// The Mesos source's door (inside the state room): fetch the leading master's state, convert it
// with a pure function, write only the differences. See README.md for the contract.
export { createMesosSource, sourceOptionsFromMesosDns, type MesosSourceOptions } from './source';
export { MesosSync, type MesosSyncOptions, type SyncResult, type StateFetcher } from './sync';
export { MesosStateFetcher, STATE_PATH, LEGACY_STATE_PATH, type FetcherOptions } from './fetch';
export { convertMesosState, type ConvertInput, type ConvertOptions, type Conversion } from './convert';
export { parseMesosState, decodeMesosState } from './decode';
export { planSync, type SyncPlan } from './plan';
export {
  parseMesosDnsConfig,
  readMesosDnsConfig,
  type MesosDnsConfig,
  type MesosDnsSourceSettings,
  type MesosDnsServerSettings,
  type MesosDnsUnmapped,
  type ConfigWarning,
  type ParseMesosDnsConfigOptions,
} from './mesos-dns-config';
export {
  SOURCE_LABEL,
  DEFAULT_SOURCE_NAME,
  MESOS_ROLE_LABEL,
  MESOS_LEADER_LABEL,
  MESOS_MASTER_INDEX_LABEL,
  MESOS_PORT_LABEL,
  MESOS_FRAMEWORK_LABEL,
  MESOS_FRAMEWORK_ID_LABEL,
  MESOS_ID_LABEL,
  type MesosRole,
} from './labels';
export { objectNameFor } from './names';
export { SourceError, SOURCE_ERROR_CODES, type SourceErrorCode } from './errors';
export { IP_SOURCES, DEFAULT_IP_SOURCES, type IpSource, type MesosState, type FetchedState } from './types';
export { createSourceMetrics, type SourceMetrics } from './metrics';
