/**
 * Polls `condition` until it returns a truthy value (which it resolves to), or fails after
 * `timeoutMs`. The default is long because it only bounds a failure: on a starved 2-core
 * machine a child process can take many seconds to start, and a passing wait ends at once.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, what: string, timeoutMs = 60_000, intervalMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
