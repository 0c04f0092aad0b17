import type Database from 'better-sqlite3';
import type { LogBindingRepository } from '../port.js';

export class SqliteLogBinding implements LogBindingRepository {
  private readonly get: Database.Statement;
  private readonly claim: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.get = db.prepare("SELECT value FROM store_meta WHERE key = 'logIdentity'").pluck();
    this.claim = db.prepare(
      "INSERT INTO store_meta (key, value) VALUES ('logIdentity', ?) ON CONFLICT (key) DO NOTHING",
    );
  }

  async identity(): Promise<string | null> {
    return (this.get.get() as string | undefined) ?? null;
  }

  async claimIdentity(id: string): Promise<string> {
    this.claim.run(id);
    return this.get.get() as string;
  }

  async highestSequence(): Promise<number> {
    const row = this.db
      .prepare(
        `SELECT max(coalesce((SELECT max(json_extract(event, '$.sequence')) FROM dead_letters), 0),
                    coalesce((SELECT max(end_sequence) FROM milestones), 0)) AS m`,
      )
      .get() as { m: number };
    return Number(row.m);
  }

  async holdsLogState(): Promise<boolean> {
    return (
      this.db
        .prepare(
          `SELECT EXISTS (SELECT 1 FROM dead_letters) OR EXISTS (SELECT 1 FROM milestones)
             OR EXISTS (SELECT 1 FROM quality_holds)`,
        )
        .pluck()
        .get() === 1
    );
  }
}
