import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import {
  type StateWriteItem,
  type StateWriteKind,
  type StateWriteKinds,
  type StateWriteOutcome,
  stateCommitter,
} from './state-writes.js';

interface Queued {
  readonly item: StateWriteItem;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** The writer thread's young generation (MiB): its garbage is one batch of rows at a time. */
const WRITER_YOUNG_GENERATION_MB = 6;

/** Commits a batch, now or on another thread; resolves with one outcome per item, in order. */
type Committer = (items: readonly StateWriteItem[]) => Promise<StateWriteOutcome[]>;

/** A write the store refused, with SQLite's code when there is one. */
export class StateWriteError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'StateWriteError';
  }
}

/**
 * Group commit for the state store's frequent writes. Every write queued in one turn of the
 * event loop, and all queued while a commit is under way, go into the next transaction; each
 * caller's promise resolves only once that transaction is durable, so "resolved" still means
 * "written". With `onThread` the transactions (and their fsyncs) run on a writer thread with its
 * own connection, off the event loop.
 */
export class StateWriter {
  private queued: Queued[] = [];
  private scheduled = false;
  private inFlight: Promise<void> | null = null;
  private committed = 0;
  private failure: Error | null = null;

  private constructor(
    private readonly committer: Committer,
    private readonly finish: () => Promise<void>,
  ) {}

  /** Writes on a thread of its own, over a second connection to the store's file. */
  static onThread(path: string): StateWriter {
    const worker = new Worker(new URL('./state-writer-worker.js', import.meta.url), {
      workerData: { path },
      // Left at the default, this thread's young generation grows to 32 MiB of resident memory.
      resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB },
    });
    // Only a commit under way keeps the process alive; an idle writer does not.
    worker.unref();
    const waiting = new Map<
      number,
      { resolve: (outcomes: StateWriteOutcome[]) => void; reject: (error: Error) => void }
    >();
    let nextId = 1;
    let failed: Error | null = null;
    let exited = false;
    const exit = new Promise<void>((resolve) =>
      worker.once('exit', () => {
        exited = true;
        resolve();
      }),
    );
    const fail = (error: Error) => {
      failed ??= new Error(`the state writer stopped: ${error.message}`);
      for (const pending of waiting.values()) pending.reject(failed);
      waiting.clear();
    };
    worker.on('message', (reply: { id: number; outcomes: StateWriteOutcome[] }) => {
      const pending = waiting.get(reply.id);
      waiting.delete(reply.id);
      if (waiting.size === 0) worker.unref();
      pending?.resolve(reply.outcomes);
    });
    worker.on('error', (error) => fail(error));
    worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
    const committer: Committer = (items) => {
      if (failed) return Promise.reject(failed);
      const id = nextId++;
      worker.ref();
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, items });
      });
    };
    return new StateWriter(committer, async () => {
      if (exited) return;
      worker.ref();
      worker.postMessage({ close: true });
      await exit;
    });
  }

  /** Writes on this thread, through `db` (for tools and tests that hold one connection). */
  static inline(db: Database.Database): StateWriter {
    const commit = stateCommitter(db);
    return new StateWriter(
      async (items) => commit(items),
      async () => undefined,
    );
  }

  /** Transactions committed so far. */
  get commits(): number {
    return this.committed;
  }

  /** Queues one write; resolves with its result once the transaction holding it is durable. */
  write<K extends StateWriteKind>(
    kind: K,
    arg: StateWriteKinds[K]['arg'],
  ): Promise<StateWriteKinds[K]['result']> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queued.push({
        item: [kind, arg] as StateWriteItem,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    // The writes of this turn (a burst of requests read from sockets) join the same commit.
    setImmediate(() => {
      this.scheduled = false;
      this.commitQueued();
    });
  }

  private commitQueued(): void {
    if (this.inFlight || this.queued.length === 0) return;
    const batch = this.queued;
    this.queued = [];
    this.inFlight = this.committer(batch.map((q) => q.item)).then(
      (outcomes) => {
        this.committed++;
        batch.forEach((q, i) => {
          const outcome = outcomes[i] as StateWriteOutcome;
          if (outcome.ok) q.resolve(outcome.value);
          else q.reject(new StateWriteError(outcome.message, outcome.code));
        });
        this.afterCommit();
      },
      (error: Error) => {
        for (const q of batch) q.reject(error);
        this.afterCommit();
      },
    );
  }

  private afterCommit(): void {
    this.inFlight = null;
    // What queued meanwhile goes at once: it has already waited for a whole commit.
    this.commitQueued();
  }

  /** Resolves once everything queued so far is committed. */
  async flush(): Promise<void> {
    while (this.inFlight || this.queued.length > 0) {
      this.commitQueued();
      await this.inFlight;
    }
  }

  /** Commits what is queued, then stops the writer; later writes are refused. */
  async close(): Promise<void> {
    await this.flush();
    this.failure = new Error('the state store is closed');
    await this.finish();
  }
}
