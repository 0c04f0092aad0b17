import type Database from 'better-sqlite3';
import type { LeaseRecord, LeaseRepository } from '../port.js';
import type { StateWriter } from './state-writer.js';

interface Row {
  name: string;
  holder: string;
  expires_at: number;
}

/**
 * Leases in the embedded store: one process uses it, so its own clock is the store's clock. Takes,
 * renewals (every route and job, every few seconds) and releases go through the state writer, off
 * the event loop; reads stay on the main connection.
 */
export class SqliteLeases implements LeaseRepository {
  private readonly byPrefix: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly writer: StateWriter,
    private readonly now: () => number = Date.now,
  ) {
    this.byPrefix = db.prepare(
      `SELECT * FROM leases WHERE substr(name, 1, length(@prefix)) = @prefix AND expires_at > @now ORDER BY name`,
    );
  }

  async acquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    return this.writer.write('leaseAcquire', { name, holder, expiresAt: now + ttlMs, now });
  }

  async release(name: string, holder: string): Promise<void> {
    await this.writer.write('leaseRelease', { name, holder });
  }

  async live(prefix: string): Promise<LeaseRecord[]> {
    return (this.byPrefix.all({ prefix, now: this.now() }) as Row[]).map((row) => ({
      name: row.name,
      holder: row.holder,
      expiresAt: row.expires_at,
    }));
  }
}
