/**
 * Dates and times as EDI sends them (compact digits, usually without a time zone) turned into
 * RFC 3339. A time is kept only when its offset from UTC is known; otherwise the value is the date
 * alone, because a local time without a zone would name a different instant at every reader.
 */

export interface DateParts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

export interface TimeParts {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** Decimal seconds digits as sent (`HHMMSSDD`), without the dot. */
  readonly fraction?: string;
}

/**
 * `CCYYMMDD`, or `YYMMDD` (older X12 versions, EDIFACT format 101). Two-digit years are windowed:
 * 00–49 are 2000–2049, 50–99 are 1950–1999.
 */
export function parseCompactDate(value: string): DateParts | undefined {
  const v = value.trim();
  let year: number;
  let rest: string;
  if (/^\d{8}$/.test(v)) {
    year = Number(v.slice(0, 4));
    rest = v.slice(4);
  } else if (/^\d{6}$/.test(v)) {
    const yy = Number(v.slice(0, 2));
    year = yy < 50 ? 2000 + yy : 1900 + yy;
    rest = v.slice(2);
  } else {
    return undefined;
  }
  const month = Number(rest.slice(0, 2));
  const day = Number(rest.slice(2, 4));
  if (month < 1 || month > 12 || day < 1) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  return { year, month, day };
}

/** `HHMM`, `HHMMSS`, `HHMMSSD` or `HHMMSSDD` (24-hour clock). */
export function parseCompactTime(value: string): TimeParts | undefined {
  const v = value.trim();
  if (!/^\d{4}(\d{2}\d{0,2})?$/.test(v)) return undefined;
  const hour = Number(v.slice(0, 2));
  const minute = Number(v.slice(2, 4));
  const second = v.length >= 6 ? Number(v.slice(4, 6)) : 0;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const fraction = v.length > 6 ? v.slice(6) : undefined;
  return fraction ? { hour, minute, second, fraction } : { hour, minute, second };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** RFC 3339 full-date, `2024-03-01`. */
export function formatDate(d: DateParts): string {
  return `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`;
}

/** RFC 3339 date-time with the given offset (`Z` or `±HH:MM`). */
export function formatDateTime(d: DateParts, t: TimeParts, offset: string): string {
  const fraction = t.fraction ? `.${t.fraction}` : '';
  return `${formatDate(d)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}${fraction}${offset}`;
}

const UTC_OFFSET = /^(Z|[+-](0\d|1[0-4]):[0-5]\d)$/;

/** `Z` or `±HH:MM`, the offsets RFC 3339 accepts. */
export function isUtcOffset(value: string): boolean {
  return UTC_OFFSET.test(value);
}

/**
 * X12 time codes (element 623, e.g. DTM04) that name a fixed offset. Codes such as `ET` (Eastern
 * Time) depend on daylight saving and `LT` (local time) names no zone, so they are not here.
 */
export const X12_TIME_CODE_OFFSETS: Readonly<Record<string, string>> = {
  UT: 'Z',
  GM: 'Z',
  ES: '-05:00',
  ED: '-04:00',
  CS: '-06:00',
  CD: '-05:00',
  MS: '-07:00',
  MD: '-06:00',
  PS: '-08:00',
  PD: '-07:00',
  AS: '-04:00',
  AD: '-03:00',
  HS: '-10:00',
};

/**
 * Combines a date and an optional time into RFC 3339. With a time but no known offset the result
 * is the date alone and `warn` says how to keep the time.
 */
export function toRfc3339(
  date: DateParts,
  time: TimeParts | undefined,
  offset: string | undefined,
  warn: (message: string) => void,
  label: string,
): string {
  if (!time) return formatDate(date);
  if (offset) return formatDateTime(date, time, offset);
  warn(
    `${label} carries the time ${pad(time.hour)}:${pad(time.minute)} without a time zone; the date alone is kept. ` +
      'Set the utcOffset option for this partner to keep the time.',
  );
  return formatDate(date);
}
