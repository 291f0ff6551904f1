/**
 * A job's retry policy (the job field `retry`). The engine applies it in SQL (run-state.ts,
 * jobAfterAttempt); this is its shape, its limits and its defaults, declared once for the API,
 * the job service and the tests.
 */
export interface RetryPolicy {
  /** Runs per slot, the first included: 1 (the default) never retries. */
  max_attempts: number;
  /** `exponential`: the delay cap doubles with each attempt; `fixed`: it stays the same. */
  backoff: 'exponential' | 'fixed';
  /** The delay cap before the first retry. */
  initial_delay_seconds: number;
  /** No delay cap grows beyond this. */
  max_delay_seconds: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  max_attempts: 1,
  backoff: 'exponential',
  initial_delay_seconds: 30,
  max_delay_seconds: 3600,
};

export const retryLimits = {
  max_attempts: { min: 1, max: 10 },
  initial_delay_seconds: { min: 1, max: 86_400 },
  max_delay_seconds: { min: 1, max: 86_400 },
} as const;

/**
 * The longest a retry after `attempt` may wait: min(max, initial × 2^(attempt − 1)) for
 * exponential backoff, min(max, initial) for fixed. The actual delay is uniformly random in
 * [0, this] ("full jitter"), so retries of many jobs failing at once spread out.
 */
export function retryDelayCapSeconds(policy: RetryPolicy, attempt: number): number {
  const growth = policy.backoff === 'fixed' ? 1 : 2 ** (attempt - 1);
  return Math.min(policy.max_delay_seconds, policy.initial_delay_seconds * growth);
}
