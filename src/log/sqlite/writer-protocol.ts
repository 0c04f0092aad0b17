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
}

export interface WriteReply {
  readonly id: number;
  /** Per row: its sequence; negative when the row was a duplicate of the event at -value. */
  readonly sequences?: number[];
  readonly newDomains?: Array<[domain: string, table: string]>;
  readonly deleted?: number;
  readonly error?: string;
}

export interface ReadyMessage {
  readonly ready: true;
  readonly head: number;
  /** Sequences per index partition, as stored in the log. */
  readonly partitionSize: number;
}

export interface WriterOptions {
  readonly path: string;
  readonly synchronous: 'full' | 'normal';
  /** Index partition size for a new log; an existing log keeps its own. */
  readonly partitionSize: number;
}
