import {
  type IdempotencyClaim,
  type IdempotencyRecord,
  type IdempotencyRepository,
  INSTANCE_LEASE_PREFIX,
} from '../port.js';
import type { Queryable } from './pg-database.js';
import { NOW_MS } from './pg-leases.js';

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
  owner_instance: string | null;
  owner_boot: string | null;
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
    owner: row.owner_instance === null ? null : { instance: row.owner_instance, boot: row.owner_boot ?? '' },
  };
}

/** The owner's heartbeat lease, when it has not lapsed; `$9` is the lease name prefix. */
const OWNER_LEASE = `SELECT l.expires_at FROM leases l
  WHERE l.name = $9::text || i.owner_instance AND l.expires_at > ${NOW_MS}`;

/**
 * Takes the key when it is free, expired, or held by an in-progress claim whose request died: one
 * older than `$6`, one whose owner instance has no live heartbeat lease, one by the claimant's own
 * instance ($7) in an earlier boot ($8). One statement, so of two racing claims the second waits on
 * the row and then sees the first one's live claim.
 */
const CLAIM = `INSERT INTO idempotency AS i
    (client, key, fingerprint, state, status, headers, body, created_at, expires_at, owner_instance, owner_boot)
  VALUES ($1, $2, $3, 'in-progress', NULL, NULL, NULL, $4, $5, $7::text, $8::text)
  ON CONFLICT (client, key) DO UPDATE SET fingerprint = excluded.fingerprint, state = 'in-progress',
    status = NULL, headers = NULL, body = NULL, created_at = excluded.created_at, expires_at = excluded.expires_at,
    owner_instance = excluded.owner_instance, owner_boot = excluded.owner_boot
  WHERE i.expires_at <= excluded.created_at OR (i.state = 'in-progress' AND (
    i.created_at < $6 OR (i.owner_instance IS NOT NULL AND CASE
      WHEN i.owner_instance = $7::text THEN i.owner_boot IS DISTINCT FROM $8::text
      ELSE NOT EXISTS (${OWNER_LEASE}) END)))
  RETURNING 1`;

/** The record and how long its owner's heartbeat lease has left. */
const EXISTING = `SELECT i.*, (SELECT l.expires_at - ${NOW_MS} FROM leases l
    WHERE l.name = $3::text || i.owner_instance AND l.expires_at > ${NOW_MS}) AS owner_lease_ms
  FROM idempotency i WHERE i.client = $1 AND i.key = $2`;

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
      claim.owner?.instance ?? null,
      claim.owner?.boot ?? null,
      INSTANCE_LEASE_PREFIX,
    ];
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const taken = await this.db.query(CLAIM, params);
      if (taken.rowCount) return { claimed: true };
      const { rows } = await this.db.query<Row & { owner_lease_ms: number | null }>(EXISTING, [
        claim.client,
        claim.key,
        INSTANCE_LEASE_PREFIX,
      ]);
      const row = rows[0];
      if (row) return { claimed: false, existing: fromRow(row), ownerLeaseMs: row.owner_lease_ms };
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
