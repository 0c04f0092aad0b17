import type { EventLog } from '../log/port.js';
import type { StoredEvent } from '../model/envelope.js';

/** Events one request may scan before it is refused: a slow query must never hold the hub up. */
export const DEFAULT_SCAN_LIMIT = 200_000;
const PAGE = 1_000;

/** The query would scan more events than its limit; the caller should narrow it. */
export class ScanLimitExceeded extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} events to scan`);
    this.name = 'ScanLimitExceeded';
  }
}

export interface ScanOptions {
  /** Exact types (the log filters them itself, so no page comes back thinned out). */
  readonly types: readonly string[];
  /** Only these plants; `undefined`: every plant. One plant is filtered by the log, several here. */
  readonly plants?: readonly string[] | undefined;
  /** Events appended at or after this time (ms)... */
  readonly appendedFrom: number;
  /** ...and before this one. */
  readonly appendedTo: number;
  /** @default DEFAULT_SCAN_LIMIT */
  readonly limit?: number;
}

/**
 * Reads the events appended in a time range, in log order, a page at a time, handing each to
 * `visit`. It yields to the event loop between pages, so requests, deliveries and ingest keep
 * going while it runs, and throws ScanLimitExceeded past `limit` events.
 */
export async function scanLog(
  log: EventLog,
  options: ScanOptions,
  visit: (event: StoredEvent) => void,
): Promise<number> {
  const limit = options.limit ?? DEFAULT_SCAN_LIMIT;
  let after = (await log.sequenceAt(options.appendedFrom)) - 1;
  const last = (await log.sequenceAt(options.appendedTo)) - 1;
  const one = options.plants?.length === 1 ? options.plants[0] : undefined;
  const plants = options.plants && one === undefined ? new Set(options.plants) : null;
  let scanned = 0;
  while (after < last) {
    const page = await log.read({
      types: options.types,
      ...(one !== undefined ? { plant: one } : {}),
      after,
      limit: PAGE,
    });
    for (const event of page) {
      if (event.sequence > last) return scanned;
      scanned += 1;
      if (scanned > limit) throw new ScanLimitExceeded(limit);
      if (plants === null || (event.plant !== undefined && plants.has(String(event.plant)))) visit(event);
    }
    const tail = page[page.length - 1];
    // A short page is not proof of the end (a backend may thin a page out); an empty one is.
    if (!tail) break;
    after = tail.sequence;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return scanned;
}

/** The event's own time (ms), or null when it has none that parses. */
export function eventTime(event: StoredEvent): number | null {
  const time = event.time ? Date.parse(event.time) : Number.NaN;
  return Number.isNaN(time) ? null : time;
}
