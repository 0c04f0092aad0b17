import { hash } from 'node:crypto';
import type Database from 'better-sqlite3';

/**
 * The embedded log's storage layout. One table per domain keeps a telemetry flood out of the
 * B-trees that critical reads walk; the sequence is global across them.
 *
 * The two lookups with random keys, idempotency (a 64-bit hash of source and id) and subject,
 * live in index partitions by sequence range: partition p covers sequences [p*P, (p+1)*P).
 * Only the newest partition is written, so the pages a commit dirties stay few and cached
 * however large the log grows; retention drops whole partitions. A true hash collision is
 * resolved exactly through `dedup_exact`.
 */
export const MAX_DOMAIN_TABLES = 64;

/** Sequences per index partition for a new log; an existing log keeps the size it was created with. */
export const DEFAULT_PARTITION_SIZE = 131_072;

export function tableForDomain(domain: string): string {
  const clean = domain
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '_')
    .slice(0, 40);
  return `ev_${clean || 'other'}`;
}

/**
 * `event_tables` gives each domain table a small code, so that a subject index entry names the
 * table holding its event. `meta` holds `partitionSize` next to the head.
 */
export const BASE_DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS domains (name TEXT PRIMARY KEY, tbl TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS event_tables (code INTEGER PRIMARY KEY, tbl TEXT NOT NULL UNIQUE);
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
`;
}

/** The partition holding a sequence. */
export function partitionOf(sequence: number, partitionSize: number): number {
  return Math.floor(sequence / partitionSize);
}

export const dedupTable = (partition: number): string => `dedup_p${partition}`;
export const subjectTable = (partition: number): string => `subject_p${partition}`;

/** Partition numbers of the tables named `<prefix>_p<N>` in `sqlite_master`, ascending. */
export function listPartitions(db: Database.Database, prefix: 'dedup' | 'subject'): number[] {
  const names = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB ?")
    .pluck()
    .all(`${prefix}_p[0-9]*`) as string[];
  return names.map((n) => Number(n.slice(prefix.length + 2))).sort((a, b) => a - b);
}

/**
 * `dedup_p<N>` stays a rowid table keyed by the hash (8 bytes a key, no separate index).
 * `subject_p<N>` is clustered on (subject, seq), so a subject read is one range scan per
 * partition; `code` names the domain table that holds the event.
 */
export function partitionDdl(partition: number): string {
  return `
CREATE TABLE IF NOT EXISTS ${dedupTable(partition)} (h INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ${subjectTable(partition)} (subject TEXT NOT NULL, seq INTEGER NOT NULL,
  code INTEGER NOT NULL, PRIMARY KEY (subject, seq)) WITHOUT ROWID;
`;
}

/** The idempotency key: a 64-bit signed hash for the table, and its two 32-bit halves for Bloom filters. */
export interface DedupKey {
  readonly h: bigint;
  readonly hi: number;
  readonly lo: number;
}

/** Collisions are handled, so speed matters more than strength. */
export function dedupKey(source: string, id: string): DedupKey {
  const digest = hash('sha1', `${source}\u0000${id}`, 'buffer');
  return { h: digest.readBigInt64BE(0), hi: digest.readUInt32BE(0), lo: digest.readUInt32BE(4) };
}

/** 64-bit signed hash of the idempotency key, as stored in `dedup_p<N>.h`. */
export function dedupHash(source: string, id: string): bigint {
  return dedupKey(source, id).h;
}

export type SynchronousMode = 'full' | 'normal';

/** Page cache of the writer connection (KiB): the hot index partition (~7 MiB at 131,072 sequences) and table tails. */
export const WRITER_CACHE_KIB = 16_384;
/** Page cache of the reader connection (KiB). */
export const READER_CACHE_KIB = 8_192;

export function applyPragmas(db: Database.Database, synchronous: SynchronousMode, writer: boolean): void {
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  // Page caches are resident memory, so they are sized for the pages that are hot, not the log: the
  // writer touches the newest index partition and the tables' tails (Bloom filters keep it off cold
  // partitions); the reader scans forwards, which the OS page cache serves as well. No mmap either:
  // mapped pages of a large log would count against the hub's RSS.
  db.pragma(writer ? `cache_size = -${WRITER_CACHE_KIB}` : `cache_size = -${READER_CACHE_KIB}`);
  db.pragma('mmap_size = 0');
  if (writer) {
    db.pragma('journal_size_limit = 67108864');
    // Small, frequent checkpoints: a large one stalls the commit that triggers it.
    db.pragma('wal_autocheckpoint = 1000');
  }
}
