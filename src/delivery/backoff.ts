/**
 * Retry timing: exponential backoff with full jitter (a random delay between 0 and
 * min(cap, base × 2^(attempt−1))), which spreads retries of many rows that failed together.
 * A target's Retry-After is honoured: the delay is never shorter than what the target asked for.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** After this many attempts a transient failure becomes a dead letter. */
  maxAttempts: number;
  /** The longest Retry-After we honour; longer requests are clamped to it. */
  maxRetryAfterMs: number;
}

export const defaultBackoff: BackoffPolicy = { baseMs: 2_000, capMs: 15 * 60_000, maxAttempts: 20, maxRetryAfterMs: 6 * 60 * 60_000 };

/** Delay before the next try after `attempt` failed tries (attempt ≥ 1). */
export function retryDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random, retryAfterSeconds?: number): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  const jittered = Math.floor(random() * ceiling);
  const asked = retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0 ? Math.min(retryAfterSeconds * 1000, policy.maxRetryAfterMs) : 0;
  return Math.max(jittered, asked);
}
