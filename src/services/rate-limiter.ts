/**
 * In-process token buckets. Limits apply per server process; several processes behind one load
 * balancer each allow the configured rate.
 */
import { limitExceeded } from '../errors.js';

export interface Limit {
  per_second: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** Buckets beyond this many are swept of those that have refilled. */
const SWEEP_THRESHOLD = 10_000;

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    private readonly enabled: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes one token from the bucket `key`, or throws 429 M_LIMIT_EXCEEDED with the wait until a
   * token is available. With `consume: false` it only checks.
   */
  take(key: string, limit: Limit, options: { consume?: boolean } = {}): void {
    if (!this.enabled) return;
    const nowMs = this.now();
    const bucket = this.#refill(key, limit, nowMs);
    if (bucket.tokens < 1) {
      throw limitExceeded(((1 - bucket.tokens) / limit.per_second) * 1000);
    }
    if (options.consume !== false) bucket.tokens -= 1;
  }

  /** Takes a token if one is there, without failing: for recording failures after the fact. */
  penalize(key: string, limit: Limit): void {
    if (!this.enabled) return;
    const bucket = this.#refill(key, limit, this.now());
    bucket.tokens = Math.max(0, bucket.tokens - 1);
  }

  #refill(key: string, limit: Limit, nowMs: number): Bucket {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= SWEEP_THRESHOLD) this.#sweep(limit, nowMs);
      bucket = { tokens: limit.burst, updatedMs: nowMs };
      this.#buckets.set(key, bucket);
      return bucket;
    }
    const elapsed = Math.max(0, nowMs - bucket.updatedMs) / 1000;
    bucket.tokens = Math.min(limit.burst, bucket.tokens + elapsed * limit.per_second);
    bucket.updatedMs = nowMs;
    return bucket;
  }

  #sweep(limit: Limit, nowMs: number): void {
    for (const [key, bucket] of this.#buckets) {
      const elapsed = (nowMs - bucket.updatedMs) / 1000;
      if (bucket.tokens + elapsed * limit.per_second >= limit.burst) this.#buckets.delete(key);
    }
  }
}
