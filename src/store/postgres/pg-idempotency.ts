import type { IdempotencyClaim, IdempotencyRecord, IdempotencyRepository } from '../port.js';
import type { Queryable } from './pg-database.js';

type Claim = Parameters<IdempotencyRepository['claim']>[0];

interface Row {
  client: string;
  key: string;
  fingerprint: string;
  state: 'in-progress' | 'done';
  status: number | null;
  headers: Record<string, string> | null;
  body: string | null;
  created_at: number;
  expires_at: number;
}

function fromRow(row: Row): IdempotencyRecord {
  return {
    client: row.client,
    key: row.key,
    fingerprint: row.fingerprint,
    state: row.state,
    status: row.status,
    headers: row.headers,
    body: row.body,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/**
 * Takes the key when it is free, expired, or held by a stale in-progress claim; one statement, so
 * of two racing claims the second waits on the row and then sees the first one's live claim.
 */
const CLAIM = `INSERT INTO idempotency AS i (client, key, fingerprint, state, status, headers, body, created_at, expires_at)
  VALUES ($1, $2, $3, 'in-progress', NULL, NULL, NULL, $4, $5)
  ON CONFLICT (client, key) DO UPDATE SET fingerprint = excluded.fingerprint, state = 'in-progress',
    status = NULL, headers = NULL, body = NULL, created_at = excluded.created_at, expires_at = excluded.expires_at
  WHERE i.expires_at <= excluded.created_at OR (i.state = 'in-progress' AND i.created_at < $6)
  RETURNING 1`;

/** A record seen live and gone before it could be read (released meanwhile) is retried this often. */
const CLAIM_ATTEMPTS = 5;

export class PgIdempotency implements IdempotencyRepository {
  constructor(private readonly db: Queryable) {}

  async claim(claim: Claim, staleBefore: number): Promise<IdempotencyClaim> {
    const params = [
      claim.client,
      claim.key,
      claim.fingerprint,
      claim.createdAt,
      claim.expiresAt,
      staleBefore,
    ];
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const taken = await this.db.query(CLAIM, params);
      if (taken.rowCount) return { claimed: true };
      const { rows } = await this.db.query<Row>('SELECT * FROM idempotency WHERE client = $1 AND key = $2', [
        claim.client,
        claim.key,
      ]);
      if (rows[0]) return { claimed: false, existing: fromRow(rows[0]) };
    }
    throw new Error(`idempotency key ${claim.key} kept changing while being claimed`);
  }

  async complete(
    client: string,
    key: string,
    response: { status: number; headers: Record<string, string>; body: string },
  ): Promise<void> {
    await this.db.query(
      // Only a claim still in progress: an answer once stored (and maybe replayed) never changes.
      `UPDATE idempotency SET state = 'done', status = $1, headers = $2, body = $3
       WHERE client = $4 AND key = $5 AND state = 'in-progress'`,
      [response.status, JSON.stringify(response.headers), response.body, client, key],
    );
  }

  async release(client: string, key: string): Promise<void> {
    await this.db.query(`DELETE FROM idempotency WHERE client = $1 AND key = $2 AND state = 'in-progress'`, [
      client,
      key,
    ]);
  }

  async purgeExpired(now: number): Promise<number> {
    const result = await this.db.query('DELETE FROM idempotency WHERE expires_at < $1', [now]);
    return result.rowCount ?? 0;
  }
}
