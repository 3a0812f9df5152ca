/** Exponential backoff with full jitter, for retrying a sink write until it succeeds or stops. */

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Random source in [0, 1); injectable for tests. */
  random?: () => number;
}

/** The delay before retry number `attempt` (1-based): uniform in [d/2, d], d = min(max, initial·2^(attempt-1)). */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt - 1, 30));
  const random = options.random ?? Math.random;
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface RetryHooks {
  /** Called after each failure with the attempt number and the delay before the next one. */
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
  /** Stop retrying (the pipeline is shutting down): the last error is rethrown. */
  shouldStop?(): boolean;
  /** Stop retrying this error after `attempt` failures (it is rethrown). */
  giveUp?(error: unknown, attempt: number): boolean;
}

/**
 * Runs `operation` until it succeeds. Errors with `retriable === false` are rethrown at once;
 * other errors are retried with backoff, without limit, until `shouldStop()` or `giveUp()` says
 * otherwise.
 */
export async function retryForever<T>(
  operation: () => Promise<T>,
  options: BackoffOptions,
  hooks: RetryHooks = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if ((error as { retriable?: boolean }).retriable === false || hooks.shouldStop?.()) throw error;
      if (hooks.giveUp?.(error, attempt)) throw error;
      const delay = backoffDelay(attempt, options);
      hooks.onRetry?.(error, attempt, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
