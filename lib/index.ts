// The shared room: helpers every other room may use. It imports no other room.
export { SwitchyardError, isSwitchyardError, type SwitchyardErrorOptions } from './errors';
export { createLogger, silentLogger, type Logger, type LoggerOptions } from './logger';
export {
  AggregatorRegistry,
  createRegistry,
  Registry,
  Counter,
  Gauge,
  Histogram,
  METRIC_NAME,
} from './metrics';
export {
  type Cidr,
  CidrParseError,
  parseIp,
  formatIp,
  parseCidr,
  cidrSize,
  cidrLast,
  cidrOverlaps,
  cidrContains,
  cidrContainsIp,
  nthSubnet,
} from './cidr';
export { sanitizeLabel, sanitizeDomain, trimCut, LABEL_LIMITS, type LabelSpec } from './mesos-labels';
export { hash32 } from './hash';
export { acquireDirLock, isDirLock, LOCK_FILE, type DirLock, type DirLockRefusal } from './dir-lock';
