// Waiting in tests: always bounded, and a timeout says what was awaited (and what was seen).

/** Resolve after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Call `check` every `everyMs` until it returns true; resolves with the ms that took. After
 * `timeoutMs` it throws "timed out after … waiting for <what>"; `what` may be a function, read
 * then, to say what was last seen.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string | (() => string),
  timeoutMs = 15_000,
  everyMs = 25,
): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
      );
    }
    await sleep(everyMs);
  }
}

/** Run the assertions in `check` every `everyMs` until they pass; after `timeoutMs`, rethrow their last failure. */
export async function eventually(
  check: () => void | Promise<void>,
  timeoutMs = 5_000,
  everyMs = 25,
): Promise<void> {
  let failure: unknown;
  const passes = async () => {
    try {
      await check();
      return true;
    } catch (err) {
      failure = err;
      return false;
    }
  };
  await waitUntil(passes, 'assertions to pass', timeoutMs, everyMs).catch(() => {
    throw failure;
  });
}
