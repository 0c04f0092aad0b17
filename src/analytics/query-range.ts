import type { Principal } from '../auth/principal.js';
import { type FieldError, ProblemError } from '../errors/problem.js';
import { parseDuration } from '../util/duration.js';

const DAY_MS = 86_400_000;
/** The widest window one analytics or reconciliation request covers. */
export const MAX_RANGE_MS = 7 * DAY_MS;
/** The most buckets one answer holds. */
export const MAX_BUCKETS = 500;

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** The UTC day `YYYY-MM-DD` as [start, end) in ms, or null when it is not a real date. */
export function parseDay(text: string): { from: number; to: number } | null {
  if (!DAY_PATTERN.test(text)) return null;
  const from = Date.parse(`${text}T00:00:00Z`);
  if (Number.isNaN(from) || new Date(from).toISOString().slice(0, 10) !== text) return null;
  return { from, to: from + DAY_MS };
}

/** `YYYY-MM-DD` of a time, in UTC. */
export function dayOf(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

function parseTime(text: string, path: string, errors: FieldError[]): number | null {
  const day = parseDay(text);
  if (day) return day.from;
  const time = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(time)) {
    errors.push({
      path,
      message: 'must be an RFC 3339 time such as 2026-03-01T08:00:00Z, or a day 2026-03-01',
    });
    return null;
  }
  return time;
}

function bucketOf(text: string | undefined, from: number, to: number, errors: FieldError[]): number | null {
  if (text === undefined || text === '') return null;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    errors.push({ path: 'bucket', message: 'must be a duration such as 15m or 1h' });
    return null;
  }
  if (ms < 60_000) {
    errors.push({ path: 'bucket', message: 'must be at least 1m' });
    return null;
  }
  if (Math.ceil((to - from) / ms) > MAX_BUCKETS) {
    errors.push({
      path: 'bucket',
      message: `makes more than ${MAX_BUCKETS} buckets over this range; use a larger bucket or a shorter range`,
    });
    return null;
  }
  return ms;
}

export interface TimeWindow {
  readonly from: number;
  readonly to: number;
  /** Bucket length in ms; null for one figure over the whole window. */
  readonly bucketMs: number | null;
}

/**
 * `from`/`to` (RFC 3339 or days) and `bucket` of an analytics query: at most 7 days, default the
 * `defaultMs` before now.
 */
export function parseWindow(
  query: Record<string, string | undefined>,
  now: number,
  defaultMs: number,
): TimeWindow {
  const errors: FieldError[] = [];
  const to = query.to ? parseTime(query.to, 'to', errors) : now;
  const from = query.from ? parseTime(query.from, 'from', errors) : to === null ? null : to - defaultMs;
  if (from !== null && to !== null) {
    if (to <= from) errors.push({ path: 'to', message: 'must be after from' });
    else if (to - from > MAX_RANGE_MS)
      errors.push({ path: 'from', message: 'the range is at most 7 days; narrow from/to' });
  }
  const bucketMs = errors.length === 0 ? bucketOf(query.bucket, from as number, to as number, errors) : null;
  if (errors.length > 0 || from === null || to === null)
    throw new ProblemError('bad-request', 'invalid time range', { errors });
  return { from, to, bucketMs };
}

/**
 * `day` (one UTC day) or `from`/`to` days (inclusive, at most 7) of a reconciliation query: the
 * list of days it covers.
 */
export function parseDays(query: Record<string, string | undefined>): string[] {
  const errors: FieldError[] = [];
  const bad = (path: string) => errors.push({ path, message: 'must be a UTC day such as 2026-03-01' });
  let days: string[] = [];
  if (query.day) {
    if (query.from || query.to) errors.push({ path: 'day', message: 'give either day or from/to, not both' });
    else if (parseDay(query.day)) days = [query.day];
    else bad('day');
  } else if (query.from || query.to) {
    const from = query.from ? parseDay(query.from) : null;
    const to = query.to ? parseDay(query.to) : null;
    if (!from) bad('from');
    if (!to) bad('to');
    if (from && to) {
      if (to.from < from.from) errors.push({ path: 'to', message: 'must not be before from' });
      else if (to.to - from.from > MAX_RANGE_MS)
        errors.push({ path: 'from', message: 'from/to cover at most 7 days' });
      else for (let t = from.from; t < to.to; t += DAY_MS) days.push(dayOf(t));
    }
  } else {
    errors.push({
      path: 'day',
      message: 'required: the UTC day to reconcile, e.g. day=2026-03-01 (or from/to)',
    });
  }
  if (errors.length > 0) throw new ProblemError('bad-request', 'invalid reconciliation range', { errors });
  return days;
}

/**
 * The plants a request may see: the asked one (refused if the client is bound elsewhere), else
 * the client's plants, else every plant (`undefined`).
 */
export function plantsFor(principal: Principal, plant: string | undefined): readonly string[] | undefined {
  if (plant) {
    if (principal.plants !== null && !principal.plants.has(plant))
      throw new ProblemError('forbidden', `client "${principal.client}" may not read plant "${plant}"`);
    return [plant];
  }
  return principal.plants === null ? undefined : [...principal.plants];
}
