/** Exponential backoff with full jitter, honouring Retry-After. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultBackoff, retryDelayMs } from '../../src/delivery';

const policy = { ...defaultBackoff, baseMs: 1_000, capMs: 60_000 };

describe('retryDelayMs', () => {
  it('stays within 0 … min(cap, base × 2^(attempt−1)) for any attempt and any random draw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
        const delay = retryDelayMs(attempt, policy, () => r);
        const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
        return delay >= 0 && delay < Math.max(1, ceiling);
      }),
      { numRuns: 2_000 },
    );
  });

  it('grows exponentially until the cap', () => {
    const half = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((a) => retryDelayMs(a, policy, half))).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });

  it('spreads retries (full jitter), not a fixed delay', () => {
    const draws = [0, 0.25, 0.5, 0.99];
    const delays = draws.map((r) => retryDelayMs(5, policy, () => r));
    expect(new Set(delays).size).toBe(draws.length);
  });

  it('never retries sooner than Retry-After, clamped to the policy’s limit', () => {
    expect(retryDelayMs(1, policy, () => 0, 30)).toBe(30_000);
    expect(retryDelayMs(10, policy, () => 0.9, 1)).toBe(54_000);
    expect(retryDelayMs(1, { ...policy, maxRetryAfterMs: 10_000 }, () => 0, 3_600)).toBe(10_000);
    expect(retryDelayMs(1, policy, () => 0, Number.NaN)).toBe(0);
  });
});
