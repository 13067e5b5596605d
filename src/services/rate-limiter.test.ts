import { describe, expect, it } from 'vitest';
import { MatrixError } from '../errors.js';
import { RateLimiter } from './rate-limiter.js';

/** A limiter whose clock only moves when the test says so. */
function limiterWithClock(enabled = true) {
  const clock = { nowMs: 1_000_000 };
  return { clock, limiter: new RateLimiter(enabled, () => clock.nowMs) };
}

/** The MatrixError `fn` throws, or undefined when it does not throw. */
function refusal(fn: () => void): MatrixError | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof MatrixError) return err;
    throw err;
  }
  return undefined;
}

const limit = { per_second: 2, burst: 3 };

describe('RateLimiter.take', () => {
  it('allows a burst, then refuses with 429 M_LIMIT_EXCEEDED', () => {
    const { limiter } = limiterWithClock();
    for (let i = 0; i < 3; i++) expect(refusal(() => limiter.take('k', limit))).toBeUndefined();
    const error = refusal(() => limiter.take('k', limit));
    expect(error?.errcode).toBe('M_LIMIT_EXCEEDED');
    expect(error?.status).toBe(429);
  });

  it('says how long to wait until the next token: 1 / per_second', () => {
    const { limiter } = limiterWithClock();
    for (let i = 0; i < 3; i++) limiter.take('k', limit);
    const error = refusal(() => limiter.take('k', limit));
    expect(error?.toJSON()).toEqual({
      errcode: 'M_LIMIT_EXCEEDED',
      error: expect.any(String),
      retry_after_ms: 500,
    });
  });

  it('counts down the wait as the clock moves', () => {
    const { clock, limiter } = limiterWithClock();
    for (let i = 0; i < 3; i++) limiter.take('k', limit);
    clock.nowMs += 200;
    expect(refusal(() => limiter.take('k', limit))?.extra.retry_after_ms).toBe(300);
  });

  it('gives a positive integer wait even for a fraction of a millisecond', () => {
    const { clock, limiter } = limiterWithClock();
    const slow = { per_second: 3, burst: 1 };
    limiter.take('k', slow);
    clock.nowMs += 333;
    const wait = refusal(() => limiter.take('k', slow))?.extra.retry_after_ms;
    expect(Number.isInteger(wait)).toBe(true);
    expect(wait).toBeGreaterThan(0);
  });

  it('refills at per_second tokens a second', () => {
    const { clock, limiter } = limiterWithClock();
    for (let i = 0; i < 3; i++) limiter.take('k', limit);
    clock.nowMs += 499;
    expect(refusal(() => limiter.take('k', limit))).toBeDefined();
    clock.nowMs += 1;
    expect(refusal(() => limiter.take('k', limit))).toBeUndefined();
    expect(refusal(() => limiter.take('k', limit))).toBeDefined();
  });

  it('refills no further than the burst', () => {
    const { clock, limiter } = limiterWithClock();
    limiter.take('k', limit);
    clock.nowMs += 3_600_000;
    for (let i = 0; i < 3; i++) expect(refusal(() => limiter.take('k', limit))).toBeUndefined();
    expect(refusal(() => limiter.take('k', limit))).toBeDefined();
  });

  it('keeps one bucket per key', () => {
    const { limiter } = limiterWithClock();
    for (let i = 0; i < 3; i++) limiter.take('login:10.0.0.1', limit);
    expect(refusal(() => limiter.take('login:10.0.0.1', limit))).toBeDefined();
    expect(refusal(() => limiter.take('login:10.0.0.2', limit))).toBeUndefined();
  });

  it('only checks with consume: false', () => {
    const { limiter } = limiterWithClock();
    for (let i = 0; i < 10; i++) {
      expect(refusal(() => limiter.take('k', limit, { consume: false }))).toBeUndefined();
    }
    for (let i = 0; i < 3; i++) limiter.take('k', limit);
    expect(refusal(() => limiter.take('k', limit, { consume: false }))).toBeDefined();
  });

  it('keeps working past the sweep threshold, and still limits a busy key', () => {
    const { limiter } = limiterWithClock();
    for (let i = 0; i < 3; i++) limiter.take('busy', limit);
    for (let i = 0; i < 10_050; i++) limiter.take(`other:${i}`, limit);
    expect(refusal(() => limiter.take('busy', limit))).toBeDefined();
  });
});

describe('RateLimiter.penalize', () => {
  it('uses up tokens without throwing, so a later take is refused', () => {
    const { limiter } = limiterWithClock();
    for (let i = 0; i < 5; i++) limiter.penalize('k', limit);
    const error = refusal(() => limiter.take('k', limit, { consume: false }));
    expect(error?.errcode).toBe('M_LIMIT_EXCEEDED');
    expect(error?.extra.retry_after_ms).toBe(500);
  });
});

describe('RateLimiter when disabled', () => {
  it('never refuses, however many requests come', () => {
    const { limiter } = limiterWithClock(false);
    const tight = { per_second: 0.001, burst: 1 };
    for (let i = 0; i < 100; i++) limiter.penalize('k', tight);
    for (let i = 0; i < 100; i++) expect(refusal(() => limiter.take('k', tight))).toBeUndefined();
  });
});
