import { hash } from 'node:crypto';
import type Database from 'better-sqlite3';

/**
 * The embedded log's storage layout. One table per domain keeps a telemetry flood out of the
 * B-trees that critical reads walk; the sequence is global across them. Idempotency lives in
 * `dedup`, keyed by a 64-bit hash of (source, id) so the unique index stays a compact rowid
 * tree; a true hash collision is resolved exactly through `dedup_exact`.
 */
export const MAX_DOMAIN_TABLES = 64;

export function tableForDomain(domain: string): string {
  const clean = domain
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '_')
    .slice(0, 40);
  return `ev_${clean || 'other'}`;
}

export const BASE_DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS domains (name TEXT PRIMARY KEY, tbl TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dedup (h INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dedup_exact (source TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (source, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, position INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
`;

export function domainTableDdl(table: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${table} (
  seq INTEGER PRIMARY KEY,
  appended_at INTEGER NOT NULL,
  type TEXT NOT NULL,
  source TEXT NOT NULL,
  id TEXT NOT NULL,
  subject TEXT,
  plant TEXT,
  pkey TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ${table}_subject ON ${table} (subject) WHERE subject IS NOT NULL;
`;
}

/** 64-bit signed hash of the idempotency key; collisions are handled, so speed matters more than strength. */
export function dedupHash(source: string, id: string): bigint {
  return hash('sha1', `${source}\u0000${id}`, 'buffer').readBigInt64BE(0);
}

export type SynchronousMode = 'full' | 'normal';

export function applyPragmas(db: Database.Database, synchronous: SynchronousMode, writer: boolean): void {
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.pragma(writer ? 'cache_size = -131072' : 'cache_size = -32768');
  if (writer) {
    db.pragma('journal_size_limit = 67108864');
    // Small, frequent checkpoints: a large one stalls the commit that triggers it.
    db.pragma('wal_autocheckpoint = 1000');
  }
}
