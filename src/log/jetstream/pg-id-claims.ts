import { migrate } from '../../store/postgres/migrations.js';
import { PgDatabase } from '../../store/postgres/pg-database.js';
import { StoreUnavailableError } from '../../store/store-errors.js';
import { LogUnavailableError } from '../log-errors.js';
import type { Claim, IdClaims } from './id-claims.js';

/** Connections the index keeps to PostgreSQL: a claim statement covers many events. */
const POOL_SIZE = 4;

/**
 * The id index in the hub's PostgreSQL state store (table `log_event_ids`): one statement claims a
 * whole batch of keys, the primary key refusing a second entry for a key, so the cluster's
 * JetStream nodes carry one replicated write per event (the event) instead of two. Claims commit
 * asynchronously (no WAL flush awaited): a PostgreSQL crash can lose the last fraction of a second
 * of claims, all past the index's mark, which `sync` moves only over flushed claims; the index
 * settles everything past its mark again from the stream (on open, periodically, on reads).
 */
export class PgIdClaims implements IdClaims {
  readonly kind = 'postgres';
  /** Statements at once; one commit (one WAL flush) covers every claim of a statement. */
  readonly concurrency = 2;

  private constructor(
    private readonly db: PgDatabase,
    /** The stream and its creation time: a stream deleted and made again is another log. */
    private readonly log: string,
  ) {}

  static async open(url: string, log: string): Promise<PgIdClaims> {
    // Claims commit without waiting for the WAL flush; `sync` waits for it before the mark moves.
    const db = new PgDatabase(url, { max: POOL_SIZE, settings: { synchronous_commit: 'off' } });
    try {
      await migrate(db);
    } catch (error) {
      await db.close();
      throw error;
    }
    return new PgIdClaims(db, log);
  }

  async claim(claims: readonly Claim[], _likelyClaimed: boolean): Promise<number[]> {
    // Lowest sequence first for each key: the insert takes the first row of a key it meets.
    const first = new Map<string, number>();
    for (const { key, sequence } of claims) {
      const held = first.get(key);
      if (held === undefined || sequence < held) first.set(key, sequence);
    }
    const keys = [...first.keys()];
    const sequences = keys.map((k) => first.get(k) as number);
    try {
      const inserted = await this.db.query<{ key: string; sequence: number }>(
        `INSERT INTO log_event_ids (log, key, sequence)
         SELECT $1, k, s FROM unnest($2::text[], $3::bigint[]) AS t(k, s)
         ON CONFLICT (log, key) DO NOTHING
         RETURNING key, sequence`,
        [this.log, keys, sequences],
      );
      const owners = new Map(inserted.rows.map((r) => [r.key, r.sequence]));
      const taken = keys.filter((k) => !owners.has(k));
      if (taken.length > 0) {
        // A later statement sees every committed entry, including one another process was inserting.
        const { rows } = await this.db.query<{ key: string; sequence: number }>(
          'SELECT key, sequence FROM log_event_ids WHERE log = $1 AND key = ANY($2::text[])',
          [this.log, taken],
        );
        for (const r of rows) owners.set(r.key, r.sequence);
      }
      return claims.map(({ key }) => {
        const owner = owners.get(key);
        if (owner === undefined) throw new Error(`id index entry ${key} was claimed but is not there`);
        return owner;
      });
    } catch (error) {
      if (error instanceof StoreUnavailableError)
        throw new LogUnavailableError(`claiming event ids: ${error.message}`, { cause: error });
      throw error;
    }
  }

  /**
   * A transaction that commits synchronously: its WAL flush covers every commit before it, so every
   * claim answered before this call is on disk when it resolves. It writes one row per log (the
   * empty key, which no event has) since a commit without a write flushes nothing.
   */
  async sync(): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        await tx.query('SET LOCAL synchronous_commit = on');
        await tx.query(
          `INSERT INTO log_event_ids (log, key, sequence) VALUES ($1, '', 0)
           ON CONFLICT (log, key) DO UPDATE SET sequence = log_event_ids.sequence + 1`,
          [this.log],
        );
      });
    } catch (error) {
      if (error instanceof StoreUnavailableError)
        throw new LogUnavailableError(`syncing the event id index: ${error.message}`, { cause: error });
      throw error;
    }
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
