/**
 * Polls `check` until it returns something truthy and returns that. The limit only bounds a test
 * that would otherwise hang (it stays under vitest's 30 s test timeout so the message says what
 * never happened); it is generous on purpose and is never a timing assertion.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T> | T,
  options: { limitMs?: number; everyMs?: number } = {},
): Promise<NonNullable<T>> {
  const { limitMs = 25_000, everyMs = 25 } = options;
  const giveUp = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > giveUp) throw new Error(`gave up waiting for ${what} after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
