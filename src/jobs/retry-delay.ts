/**
 * The wait before retry `attempt` (1, 2, …), as pg-boss computes it: `delay` seconds, or with
 * backoff `delay × 2^attempt / 2`, plus up to as much again at random, so that retries spread.
 */
export function retryDelayMs(delaySeconds: number, backoff: boolean, attempt: number): number {
  if (!backoff) return delaySeconds * 1000;
  const base = (delaySeconds * 2 ** Math.min(16, attempt)) / 2;
  return (base + base * Math.random()) * 1000;
}
