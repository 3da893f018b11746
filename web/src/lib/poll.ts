// Waiting for the ranking workers: ask again after the server's Retry-After until the answer is ready.

export interface PollAnswer<T> {
  ready: T | null;
  retryAfterSeconds: number;
}

/** Calls `ask` until it gives a ready value or `signal` aborts; waits between calls as the server says. */
export async function pollUntilReady<T>(ask: () => Promise<PollAnswer<T>>, signal: AbortSignal, maxWaitSeconds = 5): Promise<T | null> {
  while (!signal.aborted) {
    const { ready, retryAfterSeconds } = await ask();
    if (ready !== null) return ready;
    const wait = Math.min(Math.max(retryAfterSeconds, 0.5), maxWaitSeconds) * 1000;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return null;
}
