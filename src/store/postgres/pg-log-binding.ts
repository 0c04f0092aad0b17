import type { LogBindingRepository } from '../port.js';
import type { Queryable } from './pg-database.js';

/** Several hubs may bind at once: the first identity inserted wins and every hub reads it back. */
export class PgLogBinding implements LogBindingRepository {
  constructor(private readonly db: Queryable) {}

  async identity(): Promise<string | null> {
    const { rows } = await this.db.query<{ value: string }>(
      "SELECT value FROM store_meta WHERE key = 'logIdentity'",
    );
    return rows[0]?.value ?? null;
  }

  async claimIdentity(id: string): Promise<string> {
    await this.db.query(
      "INSERT INTO store_meta (key, value) VALUES ('logIdentity', $1) ON CONFLICT (key) DO NOTHING",
      [id],
    );
    return (await this.identity()) as string;
  }

  async highestSequence(): Promise<number> {
    const { rows } = await this.db.query<{ m: string }>(
      `SELECT greatest(coalesce((SELECT max((event->>'sequence')::bigint) FROM dead_letters), 0),
                       coalesce((SELECT max(end_sequence) FROM milestones), 0)) AS m`,
    );
    return Number(rows[0]?.m ?? 0);
  }

  async holdsLogState(): Promise<boolean> {
    const { rows } = await this.db.query<{ held: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM dead_letters) OR EXISTS (SELECT 1 FROM milestones)
         OR EXISTS (SELECT 1 FROM quality_holds) AS held`,
    );
    return rows[0]?.held === true;
  }
}
