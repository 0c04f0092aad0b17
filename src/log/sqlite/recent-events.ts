import { asStoredEvent, type CloudEvent, type StoredEvent } from '../../model/envelope.js';

/** A just-committed event, as its row: enough to filter it without parsing it. */
interface RecentEvent {
  readonly seq: number;
  readonly type: string;
  readonly plant: string | null;
  readonly body: string;
  /** Parsed on first read and handed to every reader that wants it, while among the newest. */
  event: StoredEvent | null;
}

export interface RecentFilter {
  readonly matches: (type: string) => boolean;
  readonly plant?: string | undefined;
  readonly plants: ReadonlySet<string> | null;
}

/** Events newest first are kept until either bound is reached. */
export interface RecentEventsLimits {
  readonly maxEvents: number;
  readonly maxBytes: number;
}

export const DEFAULT_RECENT_LIMITS: RecentEventsLimits = { maxEvents: 8192, maxBytes: 4 * 1024 * 1024 };

/**
 * How far back from the newest event a parsed object is kept for the next reader: as deep as
 * readers have read lately, and at least this many. A parsed event is about four times its text
 * in heap, and one kept for seconds survives the young generation's collections to be copied and
 * promoted: with only readers at the head (the milestone tracker takes an event within
 * milliseconds of its commit), keeping every one was most of what each collection moved and the
 * larger part of its pause. Routes that lag keep sharing one parse for as far as they lag.
 */
const PARSED_KEPT_MIN = 256;

/**
 * The newest committed events, in sequence order without gaps, for the readers that keep up with
 * the head (routes, the milestone tracker): they are served from here instead of each querying
 * SQLite and parsing the same body again. A body is parsed once, by the first reader that wants
 * it, and while it is among the newest that one object goes to every reader, so readers must
 * treat events as read-only (the object is frozen to catch one that does not). Bounded in count
 * and in body bytes; a reader further behind reads from the file as before.
 */
export class RecentEvents {
  private entries: RecentEvent[] = [];
  /** Index of the oldest kept entry in `entries` (the array is compacted now and then). */
  private start = 0;
  private bytes = 0;
  /** The deepest read (entries back from the newest) in this period of additions and the one before. */
  private deepestRead = 0;
  private deepestBefore = 0;
  private addsInPeriod = 0;

  constructor(private readonly limits: RecentEventsLimits = DEFAULT_RECENT_LIMITS) {}

  /** Records a committed event. A sequence that does not follow the last one starts afresh. */
  add(seq: number, type: string, plant: string | null, body: string): void {
    const last = this.entries[this.entries.length - 1];
    if (this.entries.length > this.start && last !== undefined && last.seq + 1 !== seq) this.clear();
    this.entries.push({ seq, type, plant, body, event: null });
    this.bytes += body.length;
    // A period is as many additions as the ring holds: a reader's depth counts until it has turned.
    if (++this.addsInPeriod >= this.limits.maxEvents) {
      this.deepestBefore = this.deepestRead;
      this.deepestRead = 0;
      this.addsInPeriod = 0;
    }
    const unparsed = this.entries.length - 1 - this.parsedKept();
    if (unparsed >= this.start) (this.entries[unparsed] as RecentEvent).event = null;
    while (
      this.entries.length - this.start > this.limits.maxEvents ||
      (this.bytes > this.limits.maxBytes && this.entries.length - this.start > 1)
    ) {
      this.bytes -= (this.entries[this.start] as RecentEvent).body.length;
      this.entries[this.start++] = undefined as unknown as RecentEvent;
    }
    if (this.start > 4096 && this.start * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
  }

  private parsedKept(): number {
    return Math.max(PARSED_KEPT_MIN, this.deepestRead, this.deepestBefore);
  }

  /** Forgets events below `sequence` (retention deleted them). */
  dropBefore(sequence: number): void {
    while (this.start < this.entries.length && (this.entries[this.start] as RecentEvent).seq < sequence) {
      this.bytes -= (this.entries[this.start] as RecentEvent).body.length;
      this.entries[this.start++] = undefined as unknown as RecentEvent;
    }
  }

  clear(): void {
    this.entries = [];
    this.start = 0;
    this.bytes = 0;
  }

  /** Whether every sequence in (after, upTo] is kept here. */
  covers(after: number, upTo: number): boolean {
    const first = this.entries[this.start];
    const last = this.entries[this.entries.length - 1];
    return first !== undefined && last !== undefined && after + 1 >= first.seq && upTo <= last.seq;
  }

  /**
   * The matching events in (after, upTo], at most `limit`; `through` is the last sequence
   * examined. Call only when `covers(after, upTo)`.
   */
  read(
    after: number,
    upTo: number,
    limit: number,
    filter: RecentFilter,
  ): { events: StoredEvent[]; through: number } {
    const first = (this.entries[this.start] as RecentEvent).seq;
    const from = this.start + (after + 1 - first);
    this.deepestRead = Math.max(this.deepestRead, this.entries.length - from);
    const newest = this.entries.length - this.parsedKept();
    const events: StoredEvent[] = [];
    for (let i = from; i < this.entries.length; i++) {
      const entry = this.entries[i] as RecentEvent;
      if (entry.seq > upTo) break;
      if (!filter.matches(entry.type)) continue;
      if (filter.plant !== undefined && entry.plant !== filter.plant) continue;
      if (filter.plants !== null && (entry.plant === null || !filter.plants.has(entry.plant))) continue;
      events.push(i >= newest ? eventOf(entry) : parsed(entry));
      if (events.length === limit) return { events, through: entry.seq };
    }
    return { events, through: upTo };
  }
}

/** The entry's event, parsed once and kept for the next reader. */
function eventOf(entry: RecentEvent): StoredEvent {
  entry.event ??= parsed(entry);
  return entry.event;
}

/** The entry's event (its kept parse if it still has one), frozen as a shared one would be. */
function parsed(entry: RecentEvent): StoredEvent {
  return (
    entry.event ?? Object.freeze(asStoredEvent(JSON.parse(entry.body) as CloudEvent, entry.seq, entry.body))
  );
}
