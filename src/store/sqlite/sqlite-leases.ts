import type Database from 'better-sqlite3';
import type { LeaseRecord, LeaseRepository } from '../port.js';

interface Row {
  name: string;
  holder: string;
  expires_at: number;
}

/** Leases in the embedded store: one process uses it, so its own clock is the store's clock. */
export class SqliteLeases implements LeaseRepository {
  private readonly take: Database.Statement;
  private readonly drop: Database.Statement;
  private readonly byPrefix: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {
    this.take = db.prepare(
      `INSERT INTO leases (name, holder, expires_at) VALUES (@name, @holder, @expiresAt)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at <= @now`,
    );
    this.drop = db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?');
    this.byPrefix = db.prepare(
      `SELECT * FROM leases WHERE substr(name, 1, length(@prefix)) = @prefix AND expires_at > @now ORDER BY name`,
    );
  }

  async acquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    return this.take.run({ name, holder, expiresAt: now + ttlMs, now }).changes > 0;
  }

  async release(name: string, holder: string): Promise<void> {
    this.drop.run(name, holder);
  }

  async live(prefix: string): Promise<LeaseRecord[]> {
    return (this.byPrefix.all({ prefix, now: this.now() }) as Row[]).map((row) => ({
      name: row.name,
      holder: row.holder,
      expiresAt: row.expires_at,
    }));
  }
}
