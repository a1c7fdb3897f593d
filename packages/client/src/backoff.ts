/** Retry timing for refreshes that fail on the network: exponential backoff with jitter, and `Retry-After`. */

/** Never wait longer than this for a `Retry-After`, ms: a broken header must not park the session for days. */
const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Delay before attempt `attempt + 1`, ms: `base * 2^(attempt-1)` capped at `max`, then "equal
 * jitter" (half fixed, half random) so tabs and devices that failed together do not retry together.
 */
export function computeBackoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/** `Retry-After` (RFC 9110 10.2.3) in ms from `now`: delta-seconds or an HTTP date; undefined when absent or bad. */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  let ms: number;
  if (/^\d{1,10}$/.test(value)) ms = Number(value) * 1000;
  else {
    const date = Date.parse(value);
    if (!Number.isFinite(date)) return undefined;
    ms = date - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}
