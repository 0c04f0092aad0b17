import type { PgDatabase } from './pg-database.js';

/**
 * Schema versions of the PostgreSQL state store, applied in order; `schema_migrations` records
 * which ones ran. Text keys that are listed in order are sorted with `COLLATE "C"` in the queries,
 * so the order is the byte order the embedded store gives whatever the database's locale.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE clients (
     name TEXT PRIMARY KEY,
     key_prefix TEXT NOT NULL,
     key_hash TEXT NOT NULL,
     scopes JSONB NOT NULL,
     plants JSONB,
     created_at BIGINT NOT NULL,
     revoked_at BIGINT,
     rate_limit JSONB,
     supplier_id TEXT
   );
   CREATE INDEX clients_prefix ON clients (key_prefix);

   -- Documents are kept as JSON (verbatim text), not JSONB: events and attempts carry outside data
   -- (JSONB refuses the \\u0000 escape), and schemas keep their key order for the catalog. Nothing
   -- queries inside them; the fields filtered on have their own columns.
   CREATE TABLE dead_letters (
     position BIGSERIAL PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     route TEXT NOT NULL,
     reason TEXT NOT NULL,
     event_id TEXT NOT NULL,
     event_type TEXT NOT NULL,
     plant TEXT,
     event JSON NOT NULL,
     attempts JSON NOT NULL,
     at BIGINT NOT NULL,
     status TEXT NOT NULL,
     updated_at BIGINT NOT NULL,
     updated_by TEXT
   );
   CREATE INDEX dead_letters_route ON dead_letters (route, status);
   CREATE INDEX dead_letters_event ON dead_letters (event_id);

   CREATE TABLE audit (
     position BIGSERIAL PRIMARY KEY,
     at BIGINT NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     target TEXT NOT NULL,
     outcome TEXT NOT NULL,
     ip TEXT,
     detail JSON
   );
   CREATE INDEX audit_actor ON audit (actor, position);

   CREATE TABLE schema_types (
     type TEXT PRIMARY KEY,
     domain TEXT NOT NULL,
     owner TEXT NOT NULL,
     compatibility TEXT NOT NULL
   );
   CREATE TABLE schema_versions (
     type TEXT NOT NULL REFERENCES schema_types (type),
     version INTEGER NOT NULL,
     status TEXT NOT NULL,
     schema JSON NOT NULL,
     created_at BIGINT NOT NULL,
     created_by TEXT NOT NULL,
     updated_at BIGINT NOT NULL,
     updated_by TEXT NOT NULL,
     PRIMARY KEY (type, version)
   );

   CREATE TABLE idempotency (
     client TEXT NOT NULL,
     key TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     state TEXT NOT NULL,
     status INTEGER,
     headers JSON,
     body TEXT,
     created_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL,
     PRIMARY KEY (client, key)
   );
   CREATE INDEX idempotency_expiry ON idempotency (expires_at);

   CREATE TABLE quality_holds (
     hold_id TEXT PRIMARY KEY,
     plant TEXT NOT NULL,
     material TEXT NOT NULL,
     lots JSONB NOT NULL,
     reason TEXT NOT NULL,
     placed_at TEXT NOT NULL,
     status TEXT NOT NULL,
     disposition TEXT,
     updated_at BIGINT NOT NULL
   );
   CREATE TABLE quality_hold_lots (
     plant TEXT NOT NULL,
     lot TEXT NOT NULL,
     hold_id TEXT NOT NULL REFERENCES quality_holds (hold_id) ON DELETE CASCADE,
     PRIMARY KEY (plant, lot, hold_id)
   );

   CREATE TABLE source_dead_letters (
     position BIGSERIAL PRIMARY KEY,
     connector TEXT NOT NULL,
     message_id TEXT NOT NULL,
     origin TEXT NOT NULL,
     plant TEXT,
     error TEXT NOT NULL,
     raw BYTEA NOT NULL,
     at BIGINT NOT NULL
   );
   CREATE INDEX source_dead_letters_connector ON source_dead_letters (connector, position);

   CREATE TABLE suppliers (
     supplier_id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     plants JSONB NOT NULL,
     created_at BIGINT NOT NULL,
     created_by TEXT NOT NULL
   );`,
  // Work leases of hub instances.
  `CREATE TABLE leases (
     name TEXT PRIMARY KEY,
     holder TEXT NOT NULL,
     expires_at BIGINT NOT NULL
   );`,
  // Business milestones (src/milestones); `early` rows keep an end seen before its start.
  `CREATE TABLE milestones (
     position BIGSERIAL PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     name TEXT NOT NULL,
     correlation TEXT NOT NULL,
     plant TEXT,
     status TEXT NOT NULL,
     start_event JSON,
     started_at BIGINT,
     due_at BIGINT,
     late_at BIGINT,
     met_at BIGINT,
     end_event JSON,
     end_sequence BIGINT,
     late_alerted BOOLEAN NOT NULL DEFAULT FALSE,
     cleared_alerted BOOLEAN NOT NULL DEFAULT FALSE,
     met_alerted BOOLEAN NOT NULL DEFAULT FALSE,
     updated_at BIGINT NOT NULL
   );
   CREATE INDEX milestones_due ON milestones (status, due_at);
   CREATE INDEX milestones_name ON milestones (name, status, position);`,
  // The hub process (instance and boot) running an in-progress idempotency claim, so a claim left by a
  // dead process is taken over at once; claims from before have none and wait out the staleness bound.
  `ALTER TABLE idempotency ADD COLUMN owner_instance TEXT;
   ALTER TABLE idempotency ADD COLUMN owner_boot TEXT;`,
  // The identity of the event log this store belongs to (src/log/binding.ts).
  `CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // The id index of a JetStream event log (src/log/jetstream/pg-id-claims.ts): idempotency key ->
  // sequence of its event, per stream (`log` names the stream and its creation time).
  `CREATE TABLE log_event_ids (
     log TEXT NOT NULL,
     key TEXT NOT NULL,
     sequence BIGINT NOT NULL,
     PRIMARY KEY (log, key)
   );`,
];

/**
 * One number every Conveyor hub locks while migrating, so that hubs starting together against the
 * same database apply each migration once, one after the other ("Conv" in ASCII).
 */
export const MIGRATION_LOCK_KEY = 0x436f6e76;

/** Long enough for a migration that rewrites a big table; the usual statement limit is far shorter. */
const MIGRATION_TIMEOUT_MS = 300_000;

/**
 * Applies pending migrations in one transaction under a transaction-level advisory lock; a hub that
 * waited for the lock finds the work done and applies nothing. Returns the schema version.
 */
export async function migrate(db: PgDatabase, now: () => number = Date.now): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
    );
    const { rows } = await tx.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    const current = rows[0]?.v ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(
        `the state database is at schema version ${current}, newer than this hub knows (${MIGRATIONS.length}); upgrade the hub`,
      );
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      await tx.query(MIGRATIONS[v] as string);
      await tx.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [v + 1, now()]);
    }
    return MIGRATIONS.length;
  }, MIGRATION_TIMEOUT_MS);
}
