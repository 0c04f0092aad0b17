/** Messages between the log's main-thread facade and its writer thread. */

/** One event as the writer stores it: columns precomputed on the main thread, body already JSON. */
export type RowInput = [
  type: string,
  source: string,
  id: string,
  subject: string | null,
  plant: string | null,
  pkey: string,
  domain: string,
  body: string,
];

export interface WriteRequest {
  readonly id: number;
  readonly rows: RowInput[];
  /** Cursor positions to make durable in the same transaction. */
  readonly cursors: Array<[name: string, position: number]>;
  readonly retention?: { readonly beforeSequence: number };
  /** Records this identity unless the log has one; the reply carries the identity it has now. */
  readonly identity?: string;
  /** Writes one small value, to learn whether the disk has room again. */
  readonly probe?: boolean;
}

export interface WriteReply {
  readonly id: number;
  /** Per row: its sequence; negative when the row was a duplicate of the event at -value. */
  readonly sequences?: number[];
  readonly newDomains?: Array<[domain: string, table: string]>;
  readonly deleted?: number;
  /** The log's identity, when the request claimed one. */
  readonly identity?: string | null;
  readonly error?: string;
  /** SQLite's error code with `error` (`SQLITE_FULL` when the disk or the page limit is full). */
  readonly code?: string;
}

export interface ReadyMessage {
  readonly ready: true;
  readonly head: number;
  /** Sequences per index partition, as stored in the log. */
  readonly partitionSize: number;
  /** The random id recorded when the log was first bound to a state store; null before that. */
  readonly identity: string | null;
}

export interface WriterOptions {
  readonly path: string;
  readonly synchronous: 'full' | 'normal';
  /** Index partition size for a new log; an existing log keeps its own. */
  readonly partitionSize: number;
  /** A cap on the file's pages (`PRAGMA max_page_count`): writes past it fail as a full disk. */
  readonly maxPages?: number;
  /** Files up to this size get a full quick check at open; larger ones a bounded one. */
  readonly startupCheckBytes?: number;
}
