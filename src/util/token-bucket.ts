/** A token bucket: `rate` tokens a second, holding at most `burst`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Seconds until `n` tokens are available (0 when they are); takes nothing. */
  shortFor(n: number, now: number): number {
    const tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    const need = Math.min(n, this.burst);
    return tokens >= need ? 0 : (need - tokens) / this.rate;
  }

  /** Takes `n` tokens if there are; otherwise returns the seconds until there will be. */
  take(n: number, now: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens >= n) {
      this.tokens -= n;
      return 0;
    }
    return (n - this.tokens) / this.rate;
  }
}
