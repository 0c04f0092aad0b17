/** Schema versions of the embedded state store, applied in order; `user_version` records progress. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE clients (
     name TEXT PRIMARY KEY,
     key_prefix TEXT NOT NULL,
     key_hash TEXT NOT NULL,
     scopes TEXT NOT NULL,
     plants TEXT,
     created_at INTEGER NOT NULL,
     revoked_at INTEGER
   );
   CREATE INDEX clients_prefix ON clients (key_prefix);`,
  `CREATE TABLE dead_letters (
     position INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     route TEXT NOT NULL,
     reason TEXT NOT NULL,
     event_type TEXT NOT NULL,
     plant TEXT,
     event TEXT NOT NULL,
     attempts TEXT NOT NULL,
     at INTEGER NOT NULL,
     status TEXT NOT NULL,
     updated_at INTEGER NOT NULL,
     updated_by TEXT
   );
   CREATE INDEX dead_letters_route ON dead_letters (route, status);
   CREATE TABLE audit (
     position INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     target TEXT NOT NULL,
     outcome TEXT NOT NULL,
     detail TEXT
   );`,
  `CREATE TABLE schema_types (
     type TEXT PRIMARY KEY,
     domain TEXT NOT NULL,
     owner TEXT NOT NULL,
     compatibility TEXT NOT NULL
   );
   CREATE TABLE schema_versions (
     type TEXT NOT NULL REFERENCES schema_types (type),
     version INTEGER NOT NULL,
     status TEXT NOT NULL,
     schema TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     created_by TEXT NOT NULL,
     updated_at INTEGER NOT NULL,
     updated_by TEXT NOT NULL,
     PRIMARY KEY (type, version)
   );`,
  `ALTER TABLE clients ADD COLUMN rate_limit TEXT;
   ALTER TABLE clients ADD COLUMN supplier_id TEXT;
   ALTER TABLE audit ADD COLUMN ip TEXT;
   CREATE INDEX audit_actor ON audit (actor, position);
   CREATE TABLE idempotency (
     client TEXT NOT NULL,
     key TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     state TEXT NOT NULL,
     status INTEGER,
     headers TEXT,
     body TEXT,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     PRIMARY KEY (client, key)
   );
   CREATE INDEX idempotency_expiry ON idempotency (expires_at);
   CREATE INDEX dead_letters_event ON dead_letters (json_extract(event, '$.id'));
   CREATE TABLE quality_holds (
     hold_id TEXT PRIMARY KEY,
     plant TEXT NOT NULL,
     material TEXT NOT NULL,
     lots TEXT NOT NULL,
     reason TEXT NOT NULL,
     placed_at TEXT NOT NULL,
     status TEXT NOT NULL,
     disposition TEXT,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE quality_hold_lots (
     plant TEXT NOT NULL,
     lot TEXT NOT NULL,
     hold_id TEXT NOT NULL REFERENCES quality_holds (hold_id),
     PRIMARY KEY (plant, lot, hold_id)
   );
   CREATE TABLE source_dead_letters (
     position INTEGER PRIMARY KEY,
     connector TEXT NOT NULL,
     message_id TEXT NOT NULL,
     origin TEXT NOT NULL,
     plant TEXT,
     error TEXT NOT NULL,
     raw BLOB NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX source_dead_letters_connector ON source_dead_letters (connector, position);
   CREATE TABLE suppliers (
     supplier_id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     plants TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     created_by TEXT NOT NULL
   );`,
  // Work leases of hub instances.
  `CREATE TABLE leases (
     name TEXT PRIMARY KEY,
     holder TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   );`,
  // Business milestones (src/milestones); `early` rows keep an end seen before its start.
  `CREATE TABLE milestones (
     position INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     name TEXT NOT NULL,
     correlation TEXT NOT NULL,
     plant TEXT,
     status TEXT NOT NULL,
     start_event TEXT,
     started_at INTEGER,
     due_at INTEGER,
     late_at INTEGER,
     met_at INTEGER,
     end_event TEXT,
     end_sequence INTEGER,
     late_alerted INTEGER NOT NULL DEFAULT 0,
     cleared_alerted INTEGER NOT NULL DEFAULT 0,
     met_alerted INTEGER NOT NULL DEFAULT 0,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX milestones_due ON milestones (status, due_at);
   CREATE INDEX milestones_name ON milestones (name, status, position);`,
  // The hub process (instance and boot) running an in-progress idempotency claim, so a claim left by a
  // dead process is taken over at once; claims from before have none and wait out the staleness bound.
  `ALTER TABLE idempotency ADD COLUMN owner_instance TEXT;
   ALTER TABLE idempotency ADD COLUMN owner_boot TEXT;`,
  // The identity of the event log this store belongs to (src/log/binding.ts).
  `CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`,
];
