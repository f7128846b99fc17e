// Connect-rate limiter: a token bucket refilled continuously at `ratePerSec` with a burst of
// 50 ms worth of tokens (at least two), so connects spread evenly over each second. At least two:
// with room for one token only, a tick that comes late (a busy machine) lost the part of a token
// it brought beyond the first, and 20 connects/s with 40 ms ticks became 12.5.

export class TokenBucket {
  private tokens: number;
  private readonly burst: number;

  /** @param ratePerSec tokens per second; 0 = unlimited */
  constructor(
    readonly ratePerSec: number,
    private last: number,
  ) {
    this.burst = Math.max(2, ratePerSec / 20);
    this.tokens = this.burst;
  }

  /** Tokens available at `now` (ms); Infinity when unlimited. */
  available(now: number): number {
    if (this.ratePerSec === 0) return Infinity;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSec) / 1000);
    this.last = now;
    return Math.floor(this.tokens);
  }

  take(n = 1): void {
    if (this.ratePerSec !== 0) this.tokens -= n;
  }
}
