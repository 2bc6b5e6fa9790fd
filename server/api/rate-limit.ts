// A token bucket per caller, held in this process. It protects one app
// instance from a runaway client; it is not a quota across instances.

const RATE_PER_SECOND = Number(process.env.FLOTILLA_RATE_PER_SECOND ?? 100);
const BURST = Number(process.env.FLOTILLA_RATE_BURST ?? 500);

interface Bucket {
  tokens: number;
  updatedMs: number;
}

const buckets = new Map<string, Bucket>();

/** Spends one request for `key`; returns null when allowed, or how long to
 * wait when the bucket is empty. */
export function takeRequestToken(
  key: string,
  nowMs = Date.now(),
): { retryAfterSeconds: number } | null {
  const bucket = buckets.get(key) ?? { tokens: BURST, updatedMs: nowMs };
  const elapsed = Math.max(0, nowMs - bucket.updatedMs) / 1000;
  bucket.tokens = Math.min(BURST, bucket.tokens + elapsed * RATE_PER_SECOND);
  bucket.updatedMs = nowMs;
  buckets.set(key, bucket);
  if (bucket.tokens < 1) {
    return {
      retryAfterSeconds: Math.ceil((1 - bucket.tokens) / RATE_PER_SECOND),
    };
  }
  bucket.tokens -= 1;

  return null;
}
