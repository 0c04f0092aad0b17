/**
 * The (value, id) cursor: the cursor value of the last row delivered (e.g. its updatedAt) and,
 * to break ties between rows that share it, that row's id. Pure functions, so the ordering and
 * the query the cursor becomes are tested without a server.
 */

export type CursorValue = string | number;

/** Where the next poll starts; `id` is null when the rows have none or an old state file had none. */
export interface CursorKey {
  readonly value: CursorValue;
  readonly id: CursorValue | null;
}

/** Compiled `cursor`. */
export interface CursorConfig {
  /** Query parameter carrying the value (or the filter). */
  readonly param: string;
  /** Query parameter carrying the id of the last row; null when the API takes none. */
  readonly idParam: string | null;
  /** A filter text sent in `param`, with `{value}` and `{id}` replaced; null sends the bare value. */
  readonly filter: string | null;
  /** The API answers rows at the cursor value too (`>=`), not only after it (`>`). */
  readonly inclusive: boolean;
}

const DATE_LIKE = /^\d{4}-\d{2}-\d{2}/;

/**
 * Orders cursor values: numbers by value, timestamps by instant (so `...:00Z` and `...:00.5Z`
 * compare right), other strings by code unit.
 */
export function compareCursor(a: CursorValue, b: CursorValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  if (DATE_LIKE.test(x) && DATE_LIKE.test(y)) {
    const diff = Date.parse(x) - Date.parse(y);
    if (!Number.isNaN(diff) && diff !== 0) return diff;
  }
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Orders (value, id) keys: by value, then by id (a missing id first). */
export function compareKey(a: CursorKey, b: CursorKey): number {
  const byValue = compareCursor(a.value, b.value);
  if (byValue !== 0) return byValue;
  if (a.id === null || b.id === null) return a.id === null ? (b.id === null ? 0 : -1) : 1;
  return compareCursor(a.id, b.id);
}

/** A string or finite number, else null. */
export function asCursorValue(value: unknown): CursorValue | null {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  return null;
}

/**
 * True when a row at `row` was delivered already: at or before the saved key. A row without a
 * cursor value cannot be placed and is never skipped (the row ids dedupe it).
 */
export function alreadyDelivered(row: CursorKey | null, saved: CursorKey | null): boolean {
  if (row === null || saved === null) return false;
  // A saved key without an id (an older state file) only knows the value: ties are offered again.
  if (saved.id === null) return compareCursor(row.value, saved.value) < 0;
  return compareKey(row, saved) <= 0;
}

/** True when the API itself is told the id, so it can answer the rows past a tie. */
export function breaksTies(cursor: CursorConfig): boolean {
  return cursor.idParam !== null || (cursor.filter?.includes('{id}') ?? false);
}

/** Puts the cursor into the query of `url` (nothing before the first row was delivered). */
export function applyCursor(url: URL, cursor: CursorConfig, key: CursorKey | null): void {
  if (key === null) return;
  const id = key.id === null ? '' : String(key.id);
  if (cursor.filter !== null) {
    const text = cursor.filter.replaceAll('{value}', String(key.value)).replaceAll('{id}', id);
    url.searchParams.set(cursor.param, text);
    return;
  }
  url.searchParams.set(cursor.param, String(key.value));
  if (cursor.idParam !== null && key.id !== null) url.searchParams.set(cursor.idParam, id);
}

/** Reads a saved key: `{value, id}`, or a bare value as older state files kept it. */
export function parseSavedKey(saved: unknown): CursorKey | null {
  const bare = asCursorValue(saved);
  if (bare !== null) return { value: bare, id: null };
  if (saved === null || typeof saved !== 'object') return null;
  const { value, id } = saved as { value?: unknown; id?: unknown };
  const v = asCursorValue(value);
  return v === null ? null : { value: v, id: asCursorValue(id) };
}
