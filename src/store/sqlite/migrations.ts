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
];
