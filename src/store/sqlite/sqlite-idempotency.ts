import type Database from 'better-sqlite3';
import {
  type IdempotencyClaim,
  type IdempotencyRecord,
  type IdempotencyRepository,
  instanceLeaseName,
} from '../port.js';

type Claim = Parameters<IdempotencyRepository['claim']>[0];

interface Row {
  client: string;
  key: string;
  fingerprint: string;
  state: 'in-progress' | 'done';
  status: number | null;
  headers: string | null;
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
    headers: row.headers === null ? null : (JSON.parse(row.headers) as Record<string, string>),
    body: row.body,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    owner: row.owner_instance === null ? null : { instance: row.owner_instance, boot: row.owner_boot ?? '' },
  };
}

/**
 * Idempotency records in the embedded store; a claim is one immediate transaction, so two racing
 * requests cannot both win. Leases are read by `now`, the clock the lease repository uses.
 */
export class SqliteIdempotency implements IdempotencyRepository {
  private readonly select: Database.Statement;
  private readonly leaseLeft: Database.Statement;
  private readonly replace: Database.Statement;
  private readonly completeStmt: Database.Statement;
  private readonly releaseStmt: Database.Statement;
  private readonly purgeStmt: Database.Statement;
  private readonly claimTx: Database.Transaction<(claim: Claim, staleBefore: number) => IdempotencyClaim>;

  constructor(
    db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {
    this.select = db.prepare('SELECT * FROM idempotency WHERE client = ? AND key = ?');
    this.leaseLeft = db.prepare(
      'SELECT expires_at - @now AS ms FROM leases WHERE name = @name AND expires_at > @now',
    );
    this.replace = db.prepare(
      `INSERT OR REPLACE INTO idempotency
         (client, key, fingerprint, state, status, headers, body, created_at, expires_at, owner_instance, owner_boot)
       VALUES (@client, @key, @fingerprint, 'in-progress', NULL, NULL, NULL, @createdAt, @expiresAt, @instance, @boot)`,
    );
    this.completeStmt = db.prepare(
      // Only a claim still in progress: an answer once stored (and maybe replayed) never changes.
      `UPDATE idempotency SET state = 'done', status = ?, headers = ?, body = ?
       WHERE client = ? AND key = ? AND state = 'in-progress'`,
    );
    this.releaseStmt = db.prepare(
      `DELETE FROM idempotency WHERE client = ? AND key = ? AND state = 'in-progress'`,
    );
    this.purgeStmt = db.prepare('DELETE FROM idempotency WHERE expires_at < ?');
    this.claimTx = db.transaction((claim: Claim, staleBefore: number): IdempotencyClaim => {
      const row = this.select.get(claim.client, claim.key) as Row | undefined;
      if (row !== undefined && row.expires_at > claim.createdAt) {
        const ownerLeaseMs = this.ownerLeaseMs(row);
        const dead =
          row.state === 'in-progress' &&
          (row.created_at < staleBefore ||
            (row.owner_instance !== null &&
              (row.owner_instance === claim.owner?.instance
                ? row.owner_boot !== claim.owner.boot
                : ownerLeaseMs === null)));
        if (!dead) return { claimed: false, existing: fromRow(row), ownerLeaseMs };
      }
      this.replace.run({
        client: claim.client,
        key: claim.key,
        fingerprint: claim.fingerprint,
        createdAt: claim.createdAt,
        expiresAt: claim.expiresAt,
        instance: claim.owner?.instance ?? null,
        boot: claim.owner?.boot ?? null,
      });
      return { claimed: true };
    });
  }

  /** How long the owner's heartbeat lease has left; null when there is none. */
  private ownerLeaseMs(row: Row): number | null {
    if (row.owner_instance === null) return null;
    const lease = this.leaseLeft.get({ name: instanceLeaseName(row.owner_instance), now: this.now() }) as
      | { ms: number }
      | undefined;
    return lease?.ms ?? null;
  }

  async claim(claim: Claim, staleBefore: number): Promise<IdempotencyClaim> {
    return this.claimTx.immediate(claim, staleBefore);
  }

  async complete(
    client: string,
    key: string,
    response: { status: number; headers: Record<string, string>; body: string },
  ): Promise<void> {
    this.completeStmt.run(response.status, JSON.stringify(response.headers), response.body, client, key);
  }

  async release(client: string, key: string): Promise<void> {
    this.releaseStmt.run(client, key);
  }

  async purgeExpired(now: number): Promise<number> {
    return this.purgeStmt.run(now).changes;
  }
}
