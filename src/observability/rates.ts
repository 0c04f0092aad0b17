import type { EventLog } from '../log/port.js';

/** Running totals the sampler turns into rates; each only ever grows (a restart of one may reset it). */
export interface RateTotals {
  /** Events this instance appended to the log (API, commands, source connectors). */
  readonly ingest: number;
  /** Deliveries its routes' endpoints accepted. */
  readonly delivered: number;
  /** Delivery attempts that failed (retried or dead-lettered). */
  readonly failed: number;
}

/** Rates per second over the interval that ended at `t` (ms since the epoch). */
export interface RatePoint {
  readonly t: number;
  readonly ingest: number;
  readonly delivered: number;
  readonly failed: number;
}

export interface RateSamplerOptions {
  /** @default Date.now */
  readonly now?: () => number;
  /** How often a sample is taken. @default 2000 */
  readonly intervalMs?: number;
  /** How much history is kept. @default 600000 (10 minutes) */
  readonly windowMs?: number;
}

/**
 * Samples the hub's own running totals at a fixed interval into a ring buffer, so the console can
 * show rates and their last minutes without an external metrics system. The rates are this hub
 * instance's: other instances sharing the store keep their own.
 */
export class RateSampler {
  private readonly now: () => number;
  readonly intervalMs: number;
  readonly windowMs: number;
  private readonly points: Array<RatePoint | undefined>;
  private next = 0;
  private size = 0;
  private last: { at: number; totals: RateTotals } | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly read: () => RateTotals,
    options: RateSamplerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.intervalMs = options.intervalMs ?? 2_000;
    this.windowMs = options.windowMs ?? 600_000;
    if (!(this.intervalMs > 0) || !(this.windowMs >= this.intervalMs))
      throw new RangeError('intervalMs must be > 0 and windowMs at least one interval');
    this.points = new Array(Math.ceil(this.windowMs / this.intervalMs));
  }

  /** Takes one sample now; the first only sets the baseline. */
  sample(): void {
    const at = this.now();
    const totals = this.read();
    const previous = this.last;
    this.last = { at, totals };
    if (!previous || at <= previous.at) return;
    const seconds = (at - previous.at) / 1000;
    // A total that went down was reset (a route restarted): count from zero, as Prometheus' rate() does.
    const rate = (key: keyof RateTotals) => {
      const delta = totals[key] - previous.totals[key];
      return (delta >= 0 ? delta : totals[key]) / seconds;
    };
    this.points[this.next] = {
      t: at,
      ingest: rate('ingest'),
      delivered: rate('delivered'),
      failed: rate('failed'),
    };
    this.next = (this.next + 1) % this.points.length;
    this.size = Math.min(this.size + 1, this.points.length);
  }

  /** The kept points, oldest first, none older than the window. */
  series(): RatePoint[] {
    const out: RatePoint[] = [];
    const start = (this.next - this.size + this.points.length) % this.points.length;
    const oldest = this.now() - this.windowMs;
    for (let i = 0; i < this.size; i++) {
      const point = this.points[(start + i) % this.points.length];
      if (point && point.t >= oldest) out.push(point);
    }
    return out;
  }

  /** The most recent rates (zero before the second sample) and the totals at the last sample. */
  current(): { rates: Omit<RatePoint, 't'>; totals: RateTotals } {
    const latest =
      this.size > 0 ? this.points[(this.next - 1 + this.points.length) % this.points.length] : undefined;
    return {
      rates: { ingest: latest?.ingest ?? 0, delivered: latest?.delivered ?? 0, failed: latest?.failed ?? 0 },
      totals: this.last?.totals ?? this.read(),
    };
  }

  start(): void {
    if (this.timer) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/**
 * The log as it is, except that `append` also counts the events it newly stored (duplicates
 * are not ingest). A proxy rather than a wrapper class: backends carry methods beyond the port
 * (SQLite's `retain`, which retention looks for), and those must stay reachable.
 */
export function countAppends(log: EventLog): { log: EventLog; appended: () => number } {
  let appended = 0;
  const append: EventLog['append'] = async (events) => {
    const outcomes = await log.append(events);
    for (const outcome of outcomes) if (!outcome.duplicate) appended++;
    return outcomes;
  };
  const bound = new Map<PropertyKey, unknown>();
  const counted = new Proxy(log, {
    get(target, property) {
      if (property === 'append') return append;
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      // Methods run on the log itself (private fields), bound once rather than on every call.
      let method = bound.get(property);
      if (method === undefined) {
        method = (value as (...args: unknown[]) => unknown).bind(target);
        bound.set(property, method);
      }
      return method;
    },
  });
  return { log: counted, appended: () => appended };
}
