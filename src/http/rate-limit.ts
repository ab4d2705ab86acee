/**
 * Token buckets by client (a token, or an address for requests without a valid one): each holds
 * `burstSeconds` seconds' worth of requests and refills at `perSecond`. A request finding its bucket
 * empty is refused (429) and told when to come back.
 */
export interface RateLimiter {
  /** Takes one request from `key`'s bucket: 0 when allowed, else the seconds to wait. */
  take(key: string, perSecond: number): number;
}

/** Buckets kept at most: past it, full (idle) buckets are dropped first, then the oldest. */
const MAX_BUCKETS = 100_000;

export function createRateLimiter(burstSeconds: number, now: () => number = () => performance.now()): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const forgetIdle = (at: number, perSecond: number) => {
    for (const [key, bucket] of buckets) {
      if (bucket.tokens + ((at - bucket.at) / 1000) * perSecond >= perSecond * burstSeconds) buckets.delete(key);
    }
    // Still full of active clients: the oldest go (they start again with a full bucket).
    for (const key of buckets.keys()) {
      if (buckets.size < MAX_BUCKETS) break;
      buckets.delete(key);
    }
  };
  return {
    take(key, perSecond) {
      const at = now();
      const capacity = perSecond * burstSeconds;
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size >= MAX_BUCKETS) forgetIdle(at, perSecond);
        bucket = { tokens: capacity, at };
        buckets.set(key, bucket);
      }
      bucket.tokens = Math.min(capacity, bucket.tokens + ((at - bucket.at) / 1000) * perSecond);
      bucket.at = at;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
    },
  };
}
