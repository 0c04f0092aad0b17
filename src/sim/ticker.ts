/**
 * Runs a simulated system's periodic work: an unref'd interval that skips a tick while too many
 * earlier ones are still waiting on the hub (so an outage does not pile up requests), and tracks
 * the running work so close() can wait for it.
 */
export class Ticker {
  /** Ticks skipped because `maxInFlight` earlier ones were unfinished. */
  skipped = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly intervalMs: number,
    private readonly tick: () => Promise<unknown>,
    private readonly maxInFlight = 8,
  ) {}

  start(): void {
    // A rate of 0 gives an infinite interval, which setInterval would turn into 1 ms.
    if (this.timer || !Number.isFinite(this.intervalMs)) return;
    this.timer = setInterval(
      () => {
        if (this.running.size >= this.maxInFlight) this.skipped++;
        else void this.track(this.tick());
      },
      Math.max(5, this.intervalMs),
    );
    // The hub's server keeps the demo alive; a simulated system must not keep a stopping one.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Tracks work started outside a tick (a delivery, a delayed decision) until it settles. */
  track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return work;
  }

  /** Work still running. */
  get inFlight(): number {
    return this.running.size;
  }

  /** Resolves once all tracked work has settled. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
