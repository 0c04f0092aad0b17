import type { LeaseRecord, LeaseRepository } from '../port.js';
import type { Queryable } from './pg-database.js';

/**
 * Now in ms by the database server's clock: hubs on several machines share the leases, so they
 * must agree on when one lapses. Fixed for the duration of a statement.
 */
export const NOW_MS = '(extract(epoch FROM statement_timestamp()) * 1000)::bigint';

/** Leases shared by every hub on the database; taking or renewing one is a single atomic statement. */
export class PgLeases implements LeaseRepository {
  constructor(private readonly db: Queryable) {}

  async acquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const result = await this.db.query(
      `INSERT INTO leases AS l (name, holder, expires_at) VALUES ($1, $2, ${NOW_MS} + $3)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE l.holder = excluded.holder OR l.expires_at <= ${NOW_MS}`,
      [name, holder, Math.trunc(ttlMs)],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.db.query('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]);
  }

  async live(prefix: string): Promise<LeaseRecord[]> {
    const { rows } = await this.db.query<{ name: string; holder: string; expires_at: number }>(
      `SELECT name, holder, expires_at FROM leases
       WHERE starts_with(name, $1) AND expires_at > ${NOW_MS} ORDER BY name COLLATE "C"`,
      [prefix],
    );
    return rows.map((row) => ({ name: row.name, holder: row.holder, expiresAt: row.expires_at }));
  }
}
