/**
 * OEE arithmetic (ISO 22400 style), free of I/O: the query layer gathers the samples, these
 * functions turn them into figures. Times are ms since the epoch; windows are half-open [from, to).
 */

export type MachineState = 'running' | 'idle' | 'down' | 'setup' | 'unknown';

/** A machine entered `state` at `at`; it stays there until the next sample. */
export interface StateSample {
  readonly at: number;
  readonly state: MachineState;
}

/** A reading of a cumulative counter. */
export interface CounterSample {
  readonly at: number;
  readonly value: number;
}

/** Parts counted at `at` (a counter increment or a reported completion). */
export interface CountIncrement {
  readonly at: number;
  readonly good: number;
  readonly scrap: number;
}

/** A downtime from `maintenance.downtime.started` to `.ended` (or still open: `to` = the window end). */
export interface DowntimeInterval {
  readonly from: number;
  readonly to: number;
  readonly planned: boolean;
  readonly reasonCode: string;
}

export interface OeeInput {
  readonly from: number;
  readonly to: number;
  /** Any order; samples before `from` give the state at `from`. */
  readonly states: readonly StateSample[];
  readonly increments: readonly CountIncrement[];
  readonly downtimes: readonly DowntimeInterval[];
  /** Units per minute at full speed; `null` when not configured. */
  readonly idealRatePerMinute: number | null;
}

export interface DowntimeReason {
  readonly reasonCode: string;
  readonly planned: boolean;
  readonly seconds: number;
}

export interface OeeFigures {
  /** run / planned; `null` when nothing was planned (no known state in the window). */
  readonly availability: number | null;
  /** (good + scrap) × ideal cycle time / run, at most 1; `null` without an ideal rate or run time. */
  readonly performance: number | null;
  /** good / (good + scrap); `null` when nothing was counted. */
  readonly quality: number | null;
  /** availability × performance × quality; `null` when availability or the ideal rate is unknown. */
  readonly oee: number | null;
  readonly goodCount: number;
  readonly scrapCount: number;
  readonly runSeconds: number;
  readonly plannedSeconds: number;
  /** Planned time the machine did not run (idle, down, setup). */
  readonly downtimeSeconds: number;
  /** Time without a known state (before the first sample, or `unknown`): not planned, not run. */
  readonly unknownSeconds: number;
  /** Time inside a planned downtime: taken out of the planned time. */
  readonly plannedDowntimeSeconds: number;
  readonly idealRatePerMinute: number | null;
  /** Good units per hour of the window. */
  readonly throughputPerHour: number;
  /** Reported downtimes overlapping the window, by reason, longest first. */
  readonly downtimeReasons: readonly DowntimeReason[];
}

interface Segment {
  readonly from: number;
  readonly to: number;
  readonly state: MachineState;
}

/**
 * The state timeline over [from, to): before the first sample the state is unknown; each sample
 * holds until the next. Samples at the same instant: the last one given wins.
 */
export function stateTimeline(states: readonly StateSample[], from: number, to: number): Segment[] {
  if (to <= from) return [];
  const sorted = states
    .map((s, i) => ({ ...s, i }))
    .filter((s) => Number.isFinite(s.at))
    .sort((a, b) => a.at - b.at || a.i - b.i);
  const segments: Segment[] = [];
  let state: MachineState = 'unknown';
  let since = from;
  for (const sample of sorted) {
    if (sample.at >= to) break;
    if (sample.at <= from) {
      state = sample.state;
      continue;
    }
    if (sample.at > since) segments.push({ from: since, to: sample.at, state });
    state = sample.state;
    since = sample.at;
  }
  segments.push({ from: since, to, state });
  return segments;
}

/** Merges intervals clipped to [from, to) into disjoint, sorted ones. */
export function mergeIntervals(
  intervals: ReadonlyArray<{ from: number; to: number }>,
  from: number,
  to: number,
): Array<{ from: number; to: number }> {
  const clipped = intervals
    .map((i) => ({ from: Math.max(from, i.from), to: Math.min(to, i.to) }))
    .filter((i) => i.to > i.from)
    .sort((a, b) => a.from - b.from);
  const merged: Array<{ from: number; to: number }> = [];
  for (const interval of clipped) {
    const last = merged[merged.length - 1];
    if (last && interval.from <= last.to) last.to = Math.max(last.to, interval.to);
    else merged.push({ ...interval });
  }
  return merged;
}

/** How much of [from, to) the disjoint `intervals` cover. */
function covered(intervals: ReadonlyArray<{ from: number; to: number }>, from: number, to: number): number {
  let total = 0;
  for (const i of intervals) total += Math.max(0, Math.min(to, i.to) - Math.max(from, i.from));
  return total;
}

/**
 * Increments of a cumulative counter, one per reading after the first (in time order). A reading
 * lower than the one before means the counter was reset: it counted from 0 up to its new value.
 * The first reading is only a baseline (what it counted before is unknown); readings that are not
 * finite non-negative numbers are skipped. A gap between readings puts the whole increment at the
 * reading after the gap. Never negative.
 */
export function counterIncrements(samples: readonly CounterSample[]): Array<{ at: number; delta: number }> {
  const sorted = samples
    .filter((s) => Number.isFinite(s.at) && Number.isFinite(s.value) && s.value >= 0)
    .sort((a, b) => a.at - b.at);
  const increments: Array<{ at: number; delta: number }> = [];
  let previous: number | null = null;
  for (const sample of sorted) {
    if (previous !== null) {
      const delta = sample.value >= previous ? sample.value - previous : sample.value;
      if (delta > 0) increments.push({ at: sample.at, delta });
    }
    previous = sample.value;
  }
  return increments;
}

const seconds = (ms: number) => ms / 1000;

/** The figures of one window. */
export function computeOee(input: OeeInput): OeeFigures {
  const { from, to } = input;
  const span = Math.max(0, to - from);
  const plannedStops = mergeIntervals(
    input.downtimes.filter((d) => d.planned),
    from,
    to,
  );
  let knownMs = 0;
  let runMs = 0;
  let unknownMs = 0;
  let plannedStopMs = 0;
  for (const segment of stateTimeline(input.states, from, to)) {
    const length = segment.to - segment.from;
    const stopped = covered(plannedStops, segment.from, segment.to);
    if (segment.state === 'unknown') {
      unknownMs += length;
      continue;
    }
    plannedStopMs += stopped;
    knownMs += length - stopped;
    if (segment.state === 'running') runMs += length - stopped;
  }
  let good = 0;
  let scrap = 0;
  for (const increment of input.increments) {
    if (increment.at < from || increment.at >= to) continue;
    good += Math.max(0, increment.good);
    scrap += Math.max(0, increment.scrap);
  }
  const total = good + scrap;
  const rate =
    input.idealRatePerMinute !== null && input.idealRatePerMinute > 0 ? input.idealRatePerMinute : null;
  const availability = knownMs > 0 ? runMs / knownMs : null;
  const performance = rate !== null && runMs > 0 ? Math.min(1, (total * 60_000) / rate / runMs) : null;
  const quality = total > 0 ? good / total : null;
  return {
    availability,
    performance,
    quality,
    oee: oeeOf(availability, performance, quality, rate),
    goodCount: good,
    scrapCount: scrap,
    runSeconds: seconds(runMs),
    plannedSeconds: seconds(knownMs),
    downtimeSeconds: seconds(knownMs - runMs),
    unknownSeconds: seconds(unknownMs),
    plannedDowntimeSeconds: seconds(plannedStopMs),
    idealRatePerMinute: rate,
    throughputPerHour: span > 0 ? (good * 3_600_000) / span : 0,
    downtimeReasons: downtimeReasons(input.downtimes, from, to),
  };
}

/**
 * A × P × Q. Without availability or an ideal rate there is no OEE. A machine that never ran
 * (A = 0), or ran without making anything (P = 0), has an OEE of 0 even though P or Q is undefined.
 */
function oeeOf(
  availability: number | null,
  performance: number | null,
  quality: number | null,
  rate: number | null,
): number | null {
  if (availability === null || rate === null) return null;
  if (availability === 0 || performance === 0) return 0;
  if (performance === null || quality === null) return null;
  return availability * performance * quality;
}

function downtimeReasons(downtimes: readonly DowntimeInterval[], from: number, to: number): DowntimeReason[] {
  const byReason = new Map<string, DowntimeReason>();
  for (const d of downtimes) {
    const ms = Math.max(0, Math.min(to, d.to) - Math.max(from, d.from));
    if (ms <= 0) continue;
    const key = `${d.planned}\u0000${d.reasonCode}`;
    const before = byReason.get(key);
    byReason.set(key, {
      reasonCode: d.reasonCode,
      planned: d.planned,
      seconds: (before?.seconds ?? 0) + seconds(ms),
    });
  }
  return [...byReason.values()].sort((a, b) => b.seconds - a.seconds);
}

/** Splits [from, to) into buckets of `bucketMs` (the last one may be shorter). */
export function bucketsOf(from: number, to: number, bucketMs: number): Array<{ from: number; to: number }> {
  const buckets: Array<{ from: number; to: number }> = [];
  for (let start = from; start < to; start += bucketMs)
    buckets.push({ from: start, to: Math.min(to, start + bucketMs) });
  return buckets;
}
