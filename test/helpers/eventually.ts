/**
 * Poll `check` until it neither throws nor returns `false`, or fail after `timeoutMs` with the
 * last error. Tests use this instead of sleeps (Traefik `integration/try`).
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 5000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = new Error('condition was never checked');
  for (;;) {
    try {
      const value = await check();
      if (value !== false) return value;
      lastError = new Error('condition returned false');
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) throw lastError;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
