// The store's data-dir lock (lib's lock, refused with the store's own error).
import { acquireDirLock as acquire, isDirLock, type DirLock, type Logger } from '../../lib';
import { StateError, StateErrorCode } from '../errors';

export { LOCK_FILE, type DirLock } from '../../lib';

export function acquireDirLock(dir: string, logger: Logger): DirLock {
  const result = acquire(dir, logger);
  if (isDirLock(result)) return result;
  if ('raced' in result)
    throw new StateError(
      StateErrorCode.UNAVAILABLE,
      `Could not lock data dir ${dir}: another process raced us`,
    );
  throw new StateError(
    StateErrorCode.UNAVAILABLE,
    `Data dir ${dir} is locked by running process ${result.heldBy} (${result.path})`,
    { details: { dir, pid: result.heldBy } },
  );
}
