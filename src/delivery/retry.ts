import type { RetryPolicy } from '../config/index.js';

/**
 * Exponential backoff with full jitter (a uniformly random delay up to the exponential bound),
 * which spreads retries of many keys so a recovering endpoint is not hit by a synchronized wave.
 * A `Retry-After` from the endpoint wins when it asks for longer.
 */
export function backoffDelay(
  policy: RetryPolicy,
  failedAttempts: number,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number {
  const bound = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, failedAttempts - 1));
  const jittered = Math.max(1, Math.round(random() * bound));
  return retryAfterMs !== null ? Math.max(jittered, Math.min(retryAfterMs, policy.maxDelayMs)) : jittered;
}

/** Parses a `Retry-After` header (delta seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return null;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
