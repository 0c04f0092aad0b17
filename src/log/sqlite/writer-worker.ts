import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { headerFault, STARTUP_CHECK_BYTES, startupFaults } from '../../util/sqlite-integrity.js';
import { IndexPartitions, type RetainedRow } from './index-partitions.js';
import { migrateLegacyLayout } from './migrate-legacy.js';
import {
  applyPragmas,
  BASE_DDL,
  type DedupKey,
  dedupKey,
  domainTableDdl,
  MAX_DOMAIN_TABLES,
  tableForDomain,
} from './schema.js';
import type { ReadyMessage, WriteReply, WriteRequest, WriterOptions } from './writer-protocol.js';

/**
 * The log's single writer. It runs in its own thread so that the fsync of one group commit
 * overlaps with the main thread parsing the next requests. Each request is one transaction.
 */
const options = workerData as WriterOptions;

/**
 * Thrown while opening: a plain Error, because a SqliteError crosses to the main thread as a
 * bare `{ code }` with no message. `damaged` tells the opener the file itself is at fault.
 */
function openFailure(message: string, damaged: boolean): Error {
  const error = new Error(message);
  error.name = damaged ? 'LogDamaged' : 'LogOpenFailed';
  return error;
}

function describe(error: unknown): string {
  const { message, code } = error as { message?: string; code?: string };
  return code && message && !message.includes(code)
    ? `${message} (${code})`
    : (message ?? code ?? String(error));
}

/** Opens the file and checks it (bounded) before anything reads from it. */
function openChecked(): Database.Database {
  const fault = headerFault(options.path);
  if (fault !== null) throw openFailure(fault, true);
  let opened: Database.Database;
  try {
    opened = new Database(options.path);
    applyPragmas(opened, options.synchronous, true);
    if (options.maxPages !== undefined) opened.pragma(`max_page_count = ${options.maxPages}`);
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    throw openFailure(describe(error), code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB');
  }
  let faults: string[];
  try {
    faults = startupFaults(opened, options.startupCheckBytes ?? STARTUP_CHECK_BYTES);
  } catch (error) {
    faults = [describe(error)];
  }
  if (faults.length > 0) {
    opened.close();
    throw openFailure(`its integrity check failed: ${faults.slice(0, 3).join('; ')}`, true);
  }
  opened.exec(BASE_DDL);
  return opened;
}

const db = openChecked();

const getMeta = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
const setMeta = db.prepare(
  'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
);
// The partition a sequence falls in must never change, so a log keeps the size it was created with.
const storedPartitionSize = getMeta.get('partitionSize') as string | undefined;
const partitionSize = storedPartitionSize === undefined ? options.partitionSize : Number(storedPartitionSize);
if (storedPartitionSize === undefined) setMeta.run('partitionSize', String(partitionSize));

const tables = new Map<string, string>();
/** Domain table → the code its subject index entries carry. */
const codes = new Map<string, number>();
const inserts = new Map<string, Database.Statement>();
const lookups = new Map<string, Database.Statement>();
const insertCode = db.prepare('INSERT INTO event_tables (tbl) VALUES (?) ON CONFLICT (tbl) DO NOTHING');
const findCode = db.prepare('SELECT code FROM event_tables WHERE tbl = ?').pluck();

function prepareTable(table: string): void {
  db.exec(domainTableDdl(table));
  if (!codes.has(table)) {
    insertCode.run(table);
    codes.set(table, findCode.get(table) as number);
  }
  inserts.set(
    table,
    db.prepare(
      `INSERT INTO ${table} (seq, appended_at, type, source, id, subject, plant, pkey, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  );
}

function reloadTables(): void {
  tables.clear();
  codes.clear();
  inserts.clear();
  lookups.clear();
  for (const r of db.prepare('SELECT name, tbl FROM domains').all() as Array<{ name: string; tbl: string }>) {
    tables.set(r.name, r.tbl);
  }
  for (const r of db.prepare('SELECT code, tbl FROM event_tables').all() as Array<{
    code: number;
    tbl: string;
  }>) {
    codes.set(r.tbl, r.code);
  }
  for (const table of new Set(tables.values())) prepareTable(table);
}
reloadTables();
migrateLegacyLayout(db, partitionSize, codes);

const insertExact = db.prepare(
  'INSERT INTO dedup_exact (source, id, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
);
const findExact = db.prepare('SELECT seq FROM dedup_exact WHERE source = ? AND id = ?');
const upsertCursor = db.prepare(
  'INSERT INTO cursors (name, position, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at',
);
const insertDomain = db.prepare('INSERT INTO domains (name, tbl) VALUES (?, ?)');
const claimIdentity = db.prepare(
  "INSERT INTO meta (key, value) VALUES ('identity', ?) ON CONFLICT (key) DO NOTHING",
);
const readIdentity = (): string | null => (getMeta.get('identity') as string | undefined) ?? null;

function lookupIn(table: string): Database.Statement {
  let stmt = lookups.get(table);
  if (!stmt) {
    stmt = db.prepare(`SELECT source, id FROM ${table} WHERE seq = ?`);
    lookups.set(table, stmt);
  }
  return stmt;
}

function readHead(): number {
  let head = Number(getMeta.get('head') ?? 0);
  for (const table of new Set(tables.values())) {
    const row = db.prepare(`SELECT max(seq) AS m FROM ${table}`).get() as { m: number | null };
    head = Math.max(head, row.m ?? 0);
  }
  return head;
}

let head = readHead();
const partitions = new IndexPartitions(db, partitionSize);
partitions.load(head + 1);
// appended_at never goes backwards, so sequence and time stay in the same order (binary search by time).
let lastAppendedAt = Number(getMeta.get('lastAppendedAt') ?? 0);

/** Finds which table holds a sequence (for collision checks); rare path. */
function sourceIdAt(seq: number): { source: string; id: string } | undefined {
  for (const table of new Set(tables.values())) {
    const row = lookupIn(table).get(seq) as { source: string; id: string } | undefined;
    if (row) return row;
  }
  return undefined;
}

/**
 * The sequence of the stored event that this one repeats, or `undefined` when it is new (its
 * idempotency entry is then recorded in this transaction).
 */
function duplicateOf(key: DedupKey, seq: number, source: string, id: string): number | undefined {
  const found = partitions.claim(key, seq);
  if (found === undefined) return undefined;
  const stored = sourceIdAt(found.holder);
  if (stored === undefined) {
    // Retention deleted that event but not yet its partition: the id is free again.
    if (found.inHot) partitions.reassign(key, seq);
    return undefined;
  }
  if (!found.inHot) partitions.release(key, seq);
  if (stored.source === source && stored.id === id) return found.holder;
  // A different event has the same 64-bit hash: fall back to the exact key.
  if (insertExact.run(source, id, seq).changes === 0) {
    return (findExact.get(source, id) as { seq: number }).seq;
  }
  return undefined;
}

const runRequest = db.transaction((request: WriteRequest): WriteReply => {
  const sequences: number[] = [];
  const newDomains: Array<[string, string]> = [];
  const now = Math.max(Date.now(), lastAppendedAt);
  for (const [type, source, id, subject, plant, pkey, domain, body] of request.rows) {
    const key = dedupKey(source, id);
    const seq = head + 1;
    partitions.roll(seq);
    const original = duplicateOf(key, seq, source, id);
    if (original !== undefined) {
      sequences.push(-original);
      continue;
    }
    let table = tables.get(domain);
    if (table === undefined) {
      table = tables.size >= MAX_DOMAIN_TABLES ? tableForDomain('other') : tableForDomain(domain);
      if (!inserts.has(table)) prepareTable(table);
      insertDomain.run(domain, table);
      tables.set(domain, table);
      newDomains.push([domain, table]);
    }
    (inserts.get(table) as Database.Statement).run(seq, now, type, source, id, subject, plant, pkey, body);
    if (subject !== null) partitions.addSubject(subject, seq, codes.get(table) as number);
    head = seq;
    sequences.push(seq);
  }
  lastAppendedAt = now;
  if (request.rows.length > 0) {
    setMeta.run('head', String(head));
    setMeta.run('lastAppendedAt', String(now));
  }
  for (const [name, position] of request.cursors) upsertCursor.run(name, position, now);
  let deleted = 0;
  if (request.retention) deleted = applyRetention(request.retention.beforeSequence);
  if (request.identity !== undefined) claimIdentity.run(request.identity);
  // A page written, so that a probe after a full disk proves there is room again.
  if (request.probe) setMeta.run('probedAt', String(now));
  return {
    id: request.id,
    sequences,
    newDomains,
    deleted,
    ...(request.identity !== undefined ? { identity: readIdentity() } : {}),
  };
});

/**
 * Deletes events below a sequence in bounded chunks, with their index entries; index
 * partitions whose whole range is gone are dropped rather than emptied row by row.
 */
function applyRetention(beforeSequence: number): number {
  let deleted = 0;
  for (const table of new Set(tables.values())) {
    const rows = db
      .prepare(`SELECT seq, source, id, subject FROM ${table} WHERE seq < ? ORDER BY seq LIMIT 5000`)
      .all(beforeSequence) as RetainedRow[];
    partitions.forget(rows, beforeSequence);
    if (rows.length > 0) {
      const last = (rows[rows.length - 1] as RetainedRow).seq;
      deleted += db.prepare(`DELETE FROM ${table} WHERE seq <= ?`).run(last).changes;
      db.prepare('DELETE FROM dedup_exact WHERE seq <= ?').run(last);
    }
  }
  partitions.dropEmpty(firstStored());
  return deleted;
}

/** The lowest stored sequence (head + 1 when the log is empty). */
function firstStored(): number {
  let first = head + 1;
  for (const table of new Set(tables.values())) {
    const row = db.prepare(`SELECT min(seq) AS m FROM ${table}`).get() as { m: number | null };
    if (row.m !== null && row.m < first) first = row.m;
  }
  return first;
}

const port = parentPort;
if (!port) throw new Error('writer-worker must run as a worker thread');
port.postMessage({ ready: true, head, partitionSize, identity: readIdentity() } satisfies ReadyMessage);
port.on('message', (request: WriteRequest | 'close') => {
  if (request === 'close') {
    db.close();
    port.close();
    return;
  }
  let reply: WriteReply;
  try {
    reply = runRequest(request);
  } catch (error) {
    reply = { id: request.id, error: describe(error), code: (error as { code?: string }).code ?? 'UNKNOWN' };
    try {
      // The transaction rolled back: forget tables it created and re-read the head from disk.
      reloadTables();
      head = readHead();
      partitions.reconcile(head + 1);
    } catch {
      // Re-reading can fail for the same reason (a full disk); the next request tries again,
      // and this thread must live on so that appends resume once there is room.
    }
  }
  port.postMessage(reply);
});
