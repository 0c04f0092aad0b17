import type { KV, KvEntry } from 'nats';
import { MergedScan, type StreamAccess } from './cursor.js';
import { type ClaimBatcher, isAlreadyThere } from './id-claims.js';

/** Key, in the state bucket, of the sequence up to which every stored event is settled. */
export const INDEXED_THROUGH_KEY = 'ids.indexed-through';

/** Messages one indexing pass reads at a time. */
const SCAN_BATCH = 1_000;
/** How soon after settling its own events a process records its contiguous progress. */
const QUICK_ADVANCE_MS = 200;
/** Attempts at moving the shared mark when other processes move it too. */
const MARK_ATTEMPTS = 5;
/** Keys whose event this process knows, answered without asking the index. */
const REMEMBERED_KEYS = 100_000;
/** A screen with more keys to look up than this first reads the mark again: it may spare them all. */
const MARK_REFRESH_KEYS = 16;
/** ...but not more often than this. */
const MARK_REFRESH_MS = 1_000;

/** JetStream's answer to deleting a message the stream no longer has (removed already). */
function isGone(error: unknown): boolean {
  const e = error as { api_error?: { err_code?: number; description?: string } };
  return e.api_error?.err_code === 10057 && e.api_error.description === 'no message found';
}

function sequenceIn(entry: KvEntry | null): number | null {
  if (entry?.operation !== 'PUT') return null;
  const seq = Number(entry.string());
  return Number.isSafeInteger(seq) && seq > 0 ? seq : null;
}

/** A stored message and its idempotency key ('' when it has none). */
export interface StoredCopy {
  readonly sequence: number;
  readonly key: string;
}

/**
 * Decides which stored copy of an idempotency key is the event, for as long as the stream keeps it
 * (JetStream's duplicate window only covers two minutes). The entries (`IdClaims`: a KV bucket, or
 * a table of the PostgreSQL state store) map each key to the sequence of its event; they are only
 * ever created, so the first copy claimed is the event for good, whoever claims it, and every
 * process comes to the same answer. A copy whose key points elsewhere is a late duplicate: it is removed from the stream
 * and readers never hand it out (`screen`).
 *
 * Appends publish first and claim after the acknowledgement, so a process that dies in between
 * leaves copies nobody has settled. The state bucket holds a mark, "every copy up to here is
 * settled" (claimed, or removed as a duplicate); opening a log settles whatever lies past it,
 * and every open log does so again periodically (well within the duplicate window, which answers
 * re-sends in the meantime). Readers check copies past the mark themselves.
 */
export class IdIndex {
  /** Sequences past the mark that this process settled. */
  private readonly settledHere = new Set<number>();
  /** Key -> its event's sequence, as the index holds it; oldest first. */
  private readonly remembered = new Map<string, number>();
  /** Claims under way, by key. */
  private readonly claiming = new Map<string, Promise<number>>();
  /** The highest mark seen: every copy up to here is settled. */
  private mark = 0;
  private markReadAt = 0;
  private advancing: Promise<void> = Promise.resolve();
  private quickTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    /** Where the entries are (`IdClaims`), claims of one turn of the event loop going together. */
    private readonly claims: ClaimBatcher,
    private readonly state: KV,
    private readonly access: StreamAccess,
  ) {}

  /** The sequence of the key's event, if this process knows it without asking. */
  known(key: string): number | undefined {
    return this.remembered.get(key);
  }

  private remember(key: string, sequence: number): void {
    this.remembered.delete(key);
    this.remembered.set(key, sequence);
    if (this.remembered.size > REMEMBERED_KEYS)
      this.remembered.delete(this.remembered.keys().next().value as string);
  }

  /**
   * Which copy of `key` is the event: the sequence the index holds, claimed for `sequence` when it
   * holds none. `likelyClaimed`: the entry usually exists already (a copy another process appended).
   */
  async settle(key: string, sequence: number, likelyClaimed = false): Promise<number> {
    const owner = this.remembered.get(key) ?? (await this.claimOnce(key, sequence, likelyClaimed));
    this.remember(key, owner);
    if (owner === sequence) this.settledAt(sequence);
    return owner;
  }

  /**
   * One claim per key at a time: whichever sequence a claim names, it answers the sequence the key
   * holds, so a reader screening an event its appender is claiming right now waits for that claim.
   */
  private claimOnce(key: string, sequence: number, likelyClaimed: boolean): Promise<number> {
    const under = this.claiming.get(key);
    if (under) return under;
    const claim = this.claims.claim(key, sequence, likelyClaimed);
    this.claiming.set(key, claim);
    const done = () => {
      if (this.claiming.get(key) === claim) this.claiming.delete(key);
    };
    claim.then(done, done);
    return claim;
  }

  /** Removes a late duplicate from the stream (settled once it is gone). */
  async removeCopy(sequence: number): Promise<void> {
    try {
      await this.access.jsm.streams.deleteMessage(this.access.stream, sequence, false);
    } catch (error) {
      if (!isGone(error)) throw error;
    }
    this.settledAt(sequence);
  }

  private settledAt(sequence: number): void {
    if (sequence <= this.mark) return;
    this.settledHere.add(sequence);
    this.scheduleQuickAdvance();
  }

  /**
   * The sequences among `copies` that are late duplicates, which a reader must not hand out.
   * Copies up to the mark are settled; past it, a copy this process knows is decided here, the
   * others by the index (a copy nobody has claimed yet is claimed by the reader, as its appender
   * would: first claim wins).
   */
  async screen(copies: readonly StoredCopy[]): Promise<Set<number>> {
    const late = new Set<number>();
    const open = () =>
      copies.filter((c) => {
        if (c.key === '' || c.sequence <= this.mark) return false;
        const known = this.remembered.get(c.key);
        if (known !== undefined && known !== c.sequence) late.add(c.sequence);
        return known === undefined;
      });
    let unknown = open();
    if (unknown.length > MARK_REFRESH_KEYS && Date.now() - this.markReadAt > MARK_REFRESH_MS) {
      await this.readMark();
      late.clear();
      unknown = open();
    }
    await Promise.all(
      unknown.map(async (c) => {
        if ((await this.settle(c.key, c.sequence, true)) !== c.sequence) late.add(c.sequence);
      }),
    );
    return late;
  }

  private async readMark(): Promise<KvEntry | null> {
    const entry = await this.state.get(INDEXED_THROUGH_KEY);
    this.markReadAt = Date.now();
    this.raiseMark(sequenceIn(entry) ?? 0);
    return entry;
  }

  private raiseMark(to: number): void {
    if (to <= this.mark) return;
    this.mark = to;
    for (const seq of this.settledHere) if (seq <= to) this.settledHere.delete(seq);
  }

  private scheduleQuickAdvance(): void {
    if (this.quickTimer !== null || this.closed) return;
    this.quickTimer = setTimeout(() => {
      this.quickTimer = null;
      void this.advance(0, false).catch(() => undefined);
    }, QUICK_ADVANCE_MS);
    this.quickTimer.unref();
  }

  /**
   * Moves the mark as far as it can. Without `scan`, only over sequences this process settled
   * itself (the common single-writer case, no reads). With `scan`, also reads the stream's message
   * headers (the message id is the key) up to `target` and settles every copy there: claims the
   * ones nobody claimed, removes late duplicates. Runs one at a time.
   */
  advance(target: number, scan: boolean): Promise<void> {
    const run = this.advancing.then(() => this.advanceNow(target, scan));
    this.advancing = run.catch(() => undefined);
    return run;
  }

  private async advanceNow(target: number, scan: boolean): Promise<void> {
    let entry = await this.readMark();
    let reach = this.mark;
    while (this.settledHere.has(reach + 1)) reach++;
    if (scan && reach < target) reach = await this.settleRange(reach, target);
    // Only claims on disk may fall under the mark: nothing below it is ever settled again.
    if (reach > (sequenceIn(entry) ?? 0)) await this.claims.sync();
    for (let attempt = 0; reach > (sequenceIn(entry) ?? 0) && attempt < MARK_ATTEMPTS; attempt++) {
      try {
        if (entry) await this.state.update(INDEXED_THROUGH_KEY, String(reach), entry.revision);
        else await this.state.create(INDEXED_THROUGH_KEY, String(reach));
        break;
      } catch (error) {
        if (!isAlreadyThere(error)) throw error;
        entry = await this.readMark(); // another process moved it meanwhile
      }
    }
    // What this process settled is settled whether or not its write of the mark won.
    this.raiseMark(reach);
  }

  /** Settles the copies after `from`; returns how far everything is settled. */
  private async settleRange(from: number, target: number): Promise<number> {
    const scan = new MergedScan(
      this.access,
      [`${this.access.stream}.>`],
      from,
      (msg) => ({ sequence: msg.seq, key: msg.headers?.get('Nats-Msg-Id') ?? '' }),
      { headersOnly: true },
    );
    let reach = from;
    try {
      // A closing log stops here: the mark records only what was settled, the next open goes on.
      while (reach < target && !this.closed) {
        await scan.fill(SCAN_BATCH);
        const batch = scan.take(SCAN_BATCH);
        await Promise.all(
          batch.map(async ({ sequence, key }) => {
            if (key === '' || this.settledHere.has(sequence)) return;
            if ((await this.settle(key, sequence, true)) !== sequence) await this.removeCopy(sequence);
          }),
        );
        const next =
          batch.length === SCAN_BATCH ? (batch[batch.length - 1]?.sequence ?? reach) : scan.through;
        if (next <= reach) break;
        reach = next;
      }
    } finally {
      scan.close();
    }
    return reach;
  }

  /** Records this process's progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.quickTimer !== null) clearTimeout(this.quickTimer);
    this.quickTimer = null;
    await this.advance(0, false).catch(() => undefined);
  }
}
