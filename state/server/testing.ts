// Test support for the server and client suites (not part of the door): fixtures and cleanup.

export const TEST_TOKEN = 'test-token-0123456789abcdef';

export {
  taskInput as task,
  nodeInput as node,
  type TaskFixture as TaskOptions,
} from '../../test/helpers/fixtures';

/**
 * Cleanup registered right beside each resource (undici `after()`), run in reverse order after
 * each test: `const defer = useCleanup(afterEach); … defer(() => server.close());`. The hook is
 * passed in so this file builds without the jest globals.
 */
export function useCleanup(afterEachHook: (fn: () => Promise<void>) => void): (fn: () => unknown) => void {
  const cleanups: Array<() => unknown> = [];
  afterEachHook(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
  });
  return (fn) => {
    cleanups.push(fn);
  };
}
