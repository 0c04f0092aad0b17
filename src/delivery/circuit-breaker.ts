import type { Clock } from './clock.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 5 */
  readonly failureThreshold: number;
  /** How long an open circuit waits before letting one probe through. @default 30000 */
  readonly resetAfterMs: number;
}

/**
 * A circuit breaker per endpoint. While open nothing is sent; callers wait for `whenCallable()`
 * instead of failing, so events wait rather than burning their retry budget. After
 * `resetAfterMs` exactly one probe goes through (half-open): success closes the circuit,
 * failure opens it again. Written here rather than taken from a library because the engine
 * needs the waiting form and an injectable clock.
 */
export class CircuitBreaker {
  private stateValue: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probeInFlight = false;
  private readonly listeners = new Set<(state: CircuitState) => void>();

  constructor(
    readonly endpoint: string,
    private readonly options: CircuitBreakerOptions,
    private readonly clock: Clock,
  ) {}

  get state(): CircuitState {
    if (this.stateValue === 'open' && this.clock.now() - this.openedAt >= this.options.resetAfterMs)
      return 'half-open';
    return this.stateValue;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Resolves at the next state change (lets waiters wake as soon as a probe succeeds). */
  changed(): Promise<void> {
    return new Promise((resolve) => {
      const off = this.onChange(() => {
        off();
        resolve();
      });
    });
  }

  onChange(listener: (state: CircuitState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes permission for one call: true when closed, or when this caller becomes the half-open probe. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'half-open' && !this.probeInFlight) {
      this.probeInFlight = true;
      this.set('half-open');
      return true;
    }
    return false;
  }

  /** Milliseconds until a call may be tried again (0 when it may be tried now). */
  waitMs(): number {
    const state = this.state;
    if (state === 'closed') return 0;
    if (state === 'half-open') return this.probeInFlight ? Math.min(1000, this.options.resetAfterMs) : 0;
    return Math.max(1, this.options.resetAfterMs - (this.clock.now() - this.openedAt));
  }

  success(): void {
    this.failures = 0;
    this.probeInFlight = false;
    if (this.stateValue !== 'closed') this.set('closed');
  }

  failure(): void {
    this.failures++;
    const wasProbe = this.probeInFlight;
    this.probeInFlight = false;
    if (wasProbe || (this.stateValue === 'closed' && this.failures >= this.options.failureThreshold)) {
      this.openedAt = this.clock.now();
      this.set('open');
    }
  }

  /** A call that ended without telling anything about the endpoint (e.g. shutdown) gives the probe back. */
  release(): void {
    this.probeInFlight = false;
  }

  private set(state: CircuitState): void {
    this.stateValue = state === 'half-open' ? 'open' : state;
    for (const listener of this.listeners) listener(state);
  }
}
