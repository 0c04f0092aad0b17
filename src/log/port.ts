import type { CloudEvent, StoredEvent } from '../model/envelope.js';

/** What became of one appended event. A duplicate keeps the sequence it was first stored at. */
export interface AppendOutcome {
  readonly sequence: number;
  readonly duplicate: boolean;
}

/** Which events a read or a consumer sees. Types are exact (`quality.hold.placed`) or `domain.*`. */
export interface EventFilter {
  readonly types?: readonly string[];
  readonly subject?: string;
  readonly plant?: string;
  readonly plants?: readonly string[];
}

export interface ReadOptions extends EventFilter {
  /** Exclusive: events with a greater sequence. @default 0 */
  readonly after?: number;
  /** @default 100 */
  readonly limit?: number;
}

/**
 * A named, durable position in the log. `fetch` hands out events past the read position;
 * `commit` makes a position durable, so after a restart the consumer resumes there and
 * re-reads what was fetched but not committed (at-least-once).
 */
export interface Consumer {
  readonly name: string;
  /** The last durably committed sequence. */
  committed(): number;
  /** How far `fetch` has read (every matching event up to here has been handed out). */
  readPosition(): number;
  /** Waits (up to `waitMs`) for events past the read position and returns at most `max` of them. */
  fetch(max: number, waitMs: number, signal?: AbortSignal): Promise<StoredEvent[]>;
  /** Durably records that every event up to `sequence` is done. */
  commit(sequence: number): Promise<void>;
  /** Moves both the read and committed positions (replay, or skipping ahead); durable. */
  seek(sequence: number): Promise<void>;
  close(): void;
}

/**
 * One bounded step of a read. Every matching event with a sequence in `(after, through]` is in
 * `events` (in order) and none lies beyond `through`, so a reader that continues from `through`
 * never passes over an event it did not see. `events` may be empty while `through` moved on (a run
 * of rows the filter leaves out); `through` never passes the head the read started from.
 */
export interface ReadPage {
  readonly events: StoredEvent[];
  readonly through: number;
}

export interface LogStats {
  readonly head: number;
  readonly events: number;
  readonly bytes: number;
  readonly domains: readonly string[];
}

/**
 * The event log port: every backend (embedded SQLite, NATS JetStream) implements this and
 * passes `eventLogContract()`. An append resolves only once the events are durable.
 */
export interface EventLog {
  readonly kind: string;
  /** Appends in order; idempotent by (source, id) for as long as the log keeps the event. */
  append(events: readonly CloudEvent[]): Promise<AppendOutcome[]>;
  /**
   * Up to `limit` matching events after `after`, in order; fewer only when nothing more matches up
   * to the head. May page through many filtered-out rows to get there: bounded callers (an API
   * page) use `readPage`.
   */
  read(options: ReadOptions): Promise<StoredEvent[]>;
  /** A bounded step of `read`: see `ReadPage`. */
  readPage(options: ReadOptions): Promise<ReadPage>;
  /** The highest sequence assigned so far (0 when empty). */
  head(): number;
  /** The first sequence whose event was appended at or after `time` (ms since epoch); head+1 if none. */
  sequenceAt(time: number): Promise<number>;
  /** Opens (or creates at `startAt`, default the current head) a durable consumer. */
  consume(name: string, filter: EventFilter, options?: { startAt?: number }): Promise<Consumer>;
  /** Names and committed positions of every durable consumer. */
  consumers(): Promise<Array<{ name: string; position: number }>>;
  stats(): Promise<LogStats>;
  /**
   * The random id that ties this log to its state store (recorded in both at the first start),
   * or null when none was recorded yet (a new log, or one made by an older version).
   */
  identity(): Promise<string | null>;
  /** Records `id` as the identity unless the log already has one; resolves to the one it has now. */
  claimIdentity(id: string): Promise<string>;
  /** True while appends fail because the log's disk (or size cap) is full. */
  storageFull(): boolean;
  /** Calls `listener` each time the log's storage becomes full or has room again. */
  onStorageChange(listener: (full: boolean) => void): void;
  /** Flushes pending appends, then releases resources. */
  close(): Promise<void>;
}

/** Compiles a type list into a predicate; `domain.*` matches every type of that domain. */
export function typeMatcher(types: readonly string[] | undefined): (type: string) => boolean {
  if (types === undefined || types.length === 0 || types.includes('*')) return () => true;
  const exact = new Set(types.filter((t) => !t.endsWith('.*')));
  const prefixes = types.filter((t) => t.endsWith('.*')).map((t) => t.slice(0, -1));
  return (type) => exact.has(type) || prefixes.some((p) => type.startsWith(p));
}

/**
 * `read` on top of `readPage`: pages until `limit` matches are found or the head (as of the
 * call) has been examined. Yields between pages so a sparse filter never holds the thread long.
 */
export async function readUpToLimit(
  readPage: (options: ReadOptions) => Promise<ReadPage>,
  options: ReadOptions,
  head: number,
): Promise<StoredEvent[]> {
  const limit = Math.max(1, options.limit ?? 100);
  const events: StoredEvent[] = [];
  let after = options.after ?? 0;
  while (events.length < limit && after < head) {
    const page = await readPage({ ...options, after, limit: limit - events.length });
    events.push(...page.events);
    if (page.through <= after) break; // nothing more can be read (defensive: pages always progress)
    after = page.through;
    if (page.events.length === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return events;
}
