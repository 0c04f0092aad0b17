import type { Config, LaneName } from '../config/index.js';
import { ProblemError } from '../errors/problem.js';
import { laneOfType } from '../model/catalog.js';
import { TokenBucket } from '../util/token-bucket.js';

const SPECVERSION = Buffer.from('"specversion"');

/** How many times `needle` occurs in `haystack` (a native scan; no parsing). */
function countOccurrences(haystack: Buffer, needle: Buffer): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length))
    count++;
  return count;
}

/**
 * Admission per lane at ingress: the bulk lane's `ingressPerSecond` and `maxQueued` turn a flood
 * into 429s with Retry-After instead of an ever-growing backlog that would crowd critical traffic.
 */
export class LaneAdmission {
  private readonly buckets = new Map<LaneName, TokenBucket>();

  constructor(
    private readonly config: Config,
    /** Events waiting for delivery in a lane (the largest backlog of its routes). */
    private readonly backlog: (lane: LaneName) => number,
    private readonly now: () => number = Date.now,
  ) {
    for (const lane of ['critical', 'bulk'] as const) {
      const rate = config.lanes[lane].ingressPerSecond;
      if (Number.isFinite(rate)) this.buckets.set(lane, new TokenBucket(rate, Math.max(1, rate), now()));
    }
  }

  /**
   * Refuses a request before it is parsed when a lane it names is already exhausted: rejecting a
   * flood must cost less than accepting it, or the flood still takes the CPU that critical
   * traffic needs. `hint` is the raw body (or the ce-type header); only an explicit
   * `"type":"<bulk domain>.` attribute counts, so a critical request is never mistaken for bulk.
   */
  preCheck(hint: string | Buffer): void {
    // No lane has an ingress rate: nothing to check, and no body scan on the hot path.
    if (this.buckets.size === 0) return;
    const events = typeof hint === 'string' ? 1 : Math.max(1, countOccurrences(hint, SPECVERSION));
    for (const [lane, bucket] of this.buckets) {
      const wait = bucket.shortFor(events, this.now());
      if (wait === 0 && this.backlog(lane) < this.config.lanes[lane].maxQueued) continue;
      if (!this.mentionsLane(hint, lane)) continue;
      throw new ProblemError(
        'rate-limited',
        `the ${lane} lane is at its limit (lanes.${lane}); retry later`,
        {
          retryAfterSeconds: Math.max(wait, 1),
          extensions: { lane },
        },
      );
    }
  }

  private mentionsLane(hint: string | Buffer, lane: LaneName): boolean {
    if (lane !== 'bulk') return false;
    // Telemetry is the bulk domain; `"type":"telemetry.` (with or without a space) marks such an event.
    return (
      hint.includes('"type":"telemetry.') ||
      hint.includes('"type": "telemetry.') ||
      hint.toString().startsWith('telemetry.')
    );
  }

  /** Throws `rate-limited` when any lane of these event types is over its rate or queue bound. */
  admit(types: readonly string[]): void {
    const perLane = new Map<LaneName, number>();
    for (const type of types) {
      const lane = laneOfType(type);
      perLane.set(lane, (perLane.get(lane) ?? 0) + 1);
    }
    for (const [lane, count] of perLane) {
      const queued = this.backlog(lane);
      if (queued >= this.config.lanes[lane].maxQueued) {
        throw new ProblemError(
          'rate-limited',
          `the ${lane} lane has ${queued} events waiting for delivery (lanes.${lane}.maxQueued); retry later`,
          {
            retryAfterSeconds: 1,
            extensions: { lane },
          },
        );
      }
      const wait = this.buckets.get(lane)?.take(count, this.now()) ?? 0;
      if (wait > 0) {
        throw new ProblemError(
          'rate-limited',
          `the ${lane} lane admits ${this.config.lanes[lane].ingressPerSecond} events/s (lanes.${lane}.ingressPerSecond); retry later`,
          {
            retryAfterSeconds: wait,
            extensions: { lane },
          },
        );
      }
    }
  }
}
