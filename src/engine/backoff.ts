// Reconnect delays: exponential backoff with full jitter (delay uniform in [0, ceiling], the
// ceiling doubling per failed attempt from RECONNECT_MIN_MS up to RECONNECT_MAX_MS), so a fleet
// dropped at once does not come back as one synchronized storm.

/** Delay before reconnect attempt `attempt` (0 = first retry), ms. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, rand: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return rand() * ceiling;
}
