import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamManager,
  type MsgRequest,
  type NatsConnection,
  nanos,
} from 'nats';
import { type PulledMessage, pull } from './pull.js';

/**
 * The first message at or after `seq` on a subject matching `filter`, or null: `STREAM.MSG.GET`,
 * which the stream leader answers, so it reflects everything the stream has acknowledged.
 */
export async function leaderNext(
  jsm: JetStreamManager,
  stream: string,
  seq: number,
  filter: string,
): Promise<PulledMessage | null> {
  // The server takes `next_by_subj` here (as on the direct API); the client's type only lacks it.
  const query = { seq, next_by_subj: filter } as unknown as MsgRequest;
  try {
    const sm = await jsm.streams.getMessage(stream, query);
    return { seq: sm.seq, time: sm.time.getTime(), subject: sm.subject, data: sm.data, headers: sm.header };
  } catch (error) {
    if ((error as { code?: string }).code === '404') return null;
    throw error;
  }
}

/** What cursors share: the connection, the stream, and the log's knowledge of its head. */
export interface StreamAccess {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly stream: string;
  /** The highest sequence known to be in the stream (only ever grows). */
  knownHead(): number;
  /** Records a sequence seen in the stream. */
  observe(sequence: number): void;
  /** Consumer deletions still on their way (the log waits for them when it closes). */
  track(work: Promise<unknown>): void;
}

/**
 * Decides which of the items a scan received it must not hand out: returns their sequences.
 * Items stay back until their screen has run.
 */
export type Screen<T> = (items: readonly T[]) => Promise<ReadonlySet<number>>;

export interface ScanOptions<T> {
  /** Read only the messages' headers. @default false */
  readonly headersOnly?: boolean;
  readonly screen?: Screen<T>;
}

/** An ephemeral consumer the server drops by itself once nobody pulls from it for this long. */
const INACTIVE_THRESHOLD_MS = 60_000;
/** Pulls in a row that may go unanswered before a read gives up. */
const MAX_LOST_PULLS = 5;

/**
 * Reads one filter subject of the stream in order, through an ephemeral pull consumer (ack none,
 * in memory, one replica). Such a consumer lands on any node of the stream's group and delivers
 * what that node has stored, which may trail the leader by a moment; so whenever it runs dry, the
 * leader is asked (`STREAM.MSG.GET` with `next_by_subj`, always answered by the stream leader) for
 * the next matching message. Only that answer lets `through` move past what was delivered.
 */
export class FilterCursor<T extends { readonly sequence: number }> {
  /** Accepted (and screened) items not yet taken, in sequence order. */
  readonly items: T[] = [];
  /** Accepted items waiting for the scan's screen, in sequence order (all after `items`). */
  readonly unscreened: T[] = [];
  /** Every message matching the filter up to here has been received. */
  through: number;
  /** The last run of `pullAvailable` ended with nothing more to deliver. */
  exhausted = false;
  /** The highest sequence received. */
  private last: number;
  private consumer: string | null = null;
  private lost = 0;

  constructor(
    private readonly access: StreamAccess,
    readonly filter: string,
    after: number,
    private readonly accept: (msg: PulledMessage) => T | null,
    private readonly headersOnly = false,
    private readonly screened = false,
  ) {
    this.last = after;
    this.through = after;
  }

  /**
   * A consumer delivers its matches in stream order and a pull that goes wrong loses only what came
   * after what arrived, so whatever arrives completes a prefix: `through` follows `last`.
   */
  private receive(messages: readonly PulledMessage[]): void {
    for (const msg of messages) {
      // A recreated consumer, or the leader's copy taken ahead of it, can repeat what was received.
      if (msg.seq <= this.last) continue;
      this.last = msg.seq;
      this.access.observe(msg.seq);
      const item = this.accept(msg);
      if (item !== null) (this.screened ? this.unscreened : this.items).push(item);
    }
    this.through = Math.max(this.through, this.last);
  }

  private async ensureConsumer(): Promise<string> {
    if (this.consumer !== null) return this.consumer;
    const info = await this.access.jsm.consumers.add(this.access.stream, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Math.max(this.last, this.through) + 1,
      filter_subject: this.filter,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: nanos(INACTIVE_THRESHOLD_MS),
      ...(this.headersOnly ? { headers_only: true } : {}),
    });
    this.consumer = info.name;
    return info.name;
  }

  /** Drops the server-side consumer; the next pull starts a new one after what was received. */
  private discardConsumer(): void {
    const name = this.consumer;
    this.consumer = null;
    if (name === null) return;
    this.access.track(this.access.jsm.consumers.delete(this.access.stream, name).catch(() => false));
  }

  private onLost(signal?: AbortSignal): void {
    this.discardConsumer();
    if (signal?.aborted) return;
    if (++this.lost > MAX_LOST_PULLS) {
      this.lost = 0;
      throw new Error(
        `reading ${this.filter} from stream ${this.access.stream}: the server stopped answering`,
      );
    }
  }

  /** One no-wait pull for up to `batch` messages; sets `exhausted` when the consumer ran dry. */
  async pullAvailable(batch: number, signal?: AbortSignal): Promise<void> {
    const consumer = await this.ensureConsumer();
    const { messages, end } = await pull(this.access.nc, this.access.stream, consumer, {
      batch: Math.max(1, batch),
      noWait: true,
    });
    this.receive(messages);
    this.exhausted = end === 'exhausted';
    if (end === 'lost') {
      this.onLost(signal);
      return;
    }
    this.lost = 0;
  }

  /**
   * After the consumer ran dry: asks the stream leader for the next matching message past what was
   * received. None: everything matching up to the known head is here. One: the consumer's node is
   * behind; the leader's copy is taken and pulling goes on. Returns whether the cursor is complete.
   */
  async verifyExhausted(): Promise<boolean> {
    const head = this.access.knownHead();
    const from = Math.max(this.last, this.through) + 1;
    const next = await leaderNext(this.access.jsm, this.access.stream, from, this.filter);
    if (next === null) {
      this.through = Math.max(this.through, this.last, head);
      return true;
    }
    this.receive([next]);
    this.exhausted = false;
    return false;
  }

  /**
   * Waits up to `ms` for the next matching message (a pull the server holds open). True when one
   * arrived. An aborted wait leaves the server's pull open, so the consumer is replaced.
   */
  async waitForMore(ms: number, signal: AbortSignal): Promise<boolean> {
    const consumer = await this.ensureConsumer();
    const { messages, end } = await pull(
      this.access.nc,
      this.access.stream,
      consumer,
      { batch: 1, noWait: false, expiresMs: ms },
      signal,
    );
    this.receive(messages);
    if (end === 'lost') this.discardConsumer();
    return messages.length > 0;
  }

  /** Up to here, every matching item has been received and screened. */
  get ready(): number {
    const waiting = this.unscreened[0];
    return waiting === undefined ? this.through : Math.min(this.through, waiting.sequence - 1);
  }

  /** Moves the items screened (up to `upTo`) over, leaving out those the screen refused. */
  admit(upTo: number, refused: ReadonlySet<number>): void {
    let n = 0;
    while (n < this.unscreened.length && (this.unscreened[n] as T).sequence <= upTo) n++;
    for (const item of this.unscreened.splice(0, n)) if (!refused.has(item.sequence)) this.items.push(item);
  }

  /** Removes and returns the items with a sequence up to `upTo`. */
  takeUpTo(upTo: number): T[] {
    let n = 0;
    while (n < this.items.length && (this.items[n] as T).sequence <= upTo) n++;
    return this.items.splice(0, n);
  }

  close(): void {
    this.discardConsumer();
  }
}

/**
 * Reads several filter subjects as one sequence-ordered log: each has its own cursor, and only
 * items up to the lowest `through` of all of them can be handed out, since a lower sequence may
 * still come from a cursor that is not that far yet.
 */
export class MergedScan<T extends { readonly sequence: number }> {
  private readonly cursors: FilterCursor<T>[];
  private readonly screen: Screen<T> | undefined;

  constructor(
    access: StreamAccess,
    filters: readonly string[],
    after: number,
    accept: (msg: PulledMessage) => T | null,
    options: ScanOptions<T> = {},
  ) {
    this.screen = options.screen;
    this.cursors = filters.map(
      (f) => new FilterCursor(access, f, after, accept, options.headersOnly, this.screen !== undefined),
    );
  }

  /** Up to here, every matching item has been received (and screened) by every cursor. */
  get through(): number {
    return Math.min(...this.cursors.map((c) => c.ready));
  }

  /** Runs the screen over what the cursors received since its last run. */
  async screenReceived(): Promise<void> {
    if (this.screen === undefined) return;
    const waiting = new Map<number, T>(); // overlapping filters receive an item more than once
    for (const cursor of this.cursors) for (const item of cursor.unscreened) waiting.set(item.sequence, item);
    if (waiting.size === 0) return;
    const upTo = Math.max(...waiting.keys());
    const refused = await this.screen([...waiting.values()]);
    for (const cursor of this.cursors) cursor.admit(upTo, refused);
  }

  /** Whether `take` would hand out anything now. */
  private hasReady(): boolean {
    const bound = this.through;
    return this.cursors.some((c) => c.items[0] !== undefined && c.items[0].sequence <= bound);
  }

  /**
   * Pulls until every cursor holds `want` items or has verifiably received everything there is,
   * and screens what it received. Cursors pull side by side; the leader checks come after all
   * pulls of a round, so that the head they vouch for covers whatever any cursor has just received.
   *
   * With `firstReady`, it returns as soon as a round leaves something to take: while events keep
   * arriving, each leader check finds one more and the fill would chase the head for as long as
   * they do, holding back what it already has. A single cursor skips the leader check too when its
   * pull brought something: what a cursor received is a prefix of its matches, so the items taken
   * stay in order, and the next fill asks the leader.
   */
  async fill(want: number, signal?: AbortSignal, firstReady = false): Promise<void> {
    const settled = new Set<FilterCursor<T>>();
    for (;;) {
      // First, what a wait or the previous round received: a cursor's count is of screened items.
      await this.screenReceived();
      if (signal?.aborted) return;
      if (firstReady && this.hasReady()) return;
      const active = this.cursors.filter((c) => !settled.has(c) && c.items.length < want);
      if (active.length === 0) return;
      await Promise.all(active.map((c) => c.pullAvailable(want - c.items.length, signal)));
      if (firstReady && this.cursors.length === 1) {
        // One cursor's own received prefix bounds what it hands out: a leader check could only
        // add to it, never release more of what is here.
        await this.screenReceived();
        if (signal?.aborted || this.hasReady()) return;
      }
      const dry = active.filter((c) => c.exhausted);
      const complete = await Promise.all(dry.map((c) => c.verifyExhausted()));
      dry.forEach((c, i) => {
        if (complete[i]) settled.add(c);
      });
    }
  }

  /** Takes up to `max` items in sequence order, none past `through`; items of overlapping filters once. */
  take(max: number): T[] {
    const bound = this.through;
    if (this.cursors.length === 1) {
      const cursor = this.cursors[0] as FilterCursor<T>;
      const upTo = cursor.items.length > max ? (cursor.items[max - 1] as T).sequence : bound;
      return cursor.takeUpTo(Math.min(upTo, bound));
    }
    const merged = new Map<number, T>();
    for (const cursor of this.cursors) {
      for (const item of cursor.items) {
        if (item.sequence > bound) break;
        merged.set(item.sequence, item);
      }
    }
    const out = [...merged.values()].sort((a, b) => a.sequence - b.sequence).slice(0, max);
    const last = out[out.length - 1];
    if (last) for (const cursor of this.cursors) cursor.takeUpTo(last.sequence);
    return out;
  }

  /** Waits up to `ms` until any cursor receives something; the other waits are cut short. */
  async waitForMore(ms: number, signal?: AbortSignal): Promise<boolean> {
    const cut = new AbortController();
    const onAbort = () => cut.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const results = await Promise.all(
        this.cursors.map(async (c) => {
          const got = await c.waitForMore(ms, cut.signal);
          if (got) cut.abort();
          return got;
        }),
      );
      return results.some(Boolean);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): void {
    for (const cursor of this.cursors) cursor.close();
  }
}
