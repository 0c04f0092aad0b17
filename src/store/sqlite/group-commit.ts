import type Database from 'better-sqlite3';

interface Pending<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * Group commit for small, frequent state writes (audit rows, dead letters): every write queued in
 * one turn of the event loop goes into one transaction, committed (and synced) once. Each caller's
 * promise resolves only after that commit, so "resolved" still means durable; what changes is
 * that a burst of N writes costs one fsync on the main thread instead of N.
 */
export class GroupCommit<T> {
  private queued: Pending<T>[] = [];
  private scheduled = false;
  private committed = 0;
  private readonly writeAll: (items: readonly T[]) => void;

  /** `write` inserts one item; it runs inside the batch's transaction. */
  constructor(db: Database.Database, write: (item: T) => void) {
    this.writeAll = db.transaction((items: readonly T[]) => {
      for (const item of items) write(item);
    });
  }

  /** Transactions committed so far. */
  get commits(): number {
    return this.committed;
  }

  /** Queues `item`; resolves once the transaction holding it has committed. */
  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued.push({ item, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // The requests read from sockets in this turn join the same transaction.
      setImmediate(() => this.flush());
    });
  }

  /** Commits what is queued now (the store calls it before it closes). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queued;
    if (batch.length === 0) return;
    this.queued = [];
    try {
      this.writeAll(batch.map((p) => p.item));
    } catch {
      // One bad item must not fail its neighbours: write them one by one, so only it is refused.
      for (const p of batch) {
        try {
          this.writeAll([p.item]);
          this.committed++;
          p.resolve();
        } catch (error) {
          p.reject(error as Error);
        }
      }
      return;
    }
    this.committed++;
    for (const p of batch) p.resolve();
  }
}
