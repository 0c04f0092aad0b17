import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  applyPragmas,
  BASE_DDL,
  dedupHash,
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
const db = new Database(options.path);
applyPragmas(db, options.synchronous, true);
db.exec(BASE_DDL);

const tables = new Map<string, string>(
  (db.prepare('SELECT name, tbl FROM domains').all() as Array<{ name: string; tbl: string }>).map((r) => [
    r.name,
    r.tbl,
  ]),
);
const inserts = new Map<string, Database.Statement>();
const lookups = new Map<string, Database.Statement>();

function prepareTable(table: string): void {
  db.exec(domainTableDdl(table));
  inserts.set(
    table,
    db.prepare(
      `INSERT INTO ${table} (seq, appended_at, type, source, id, subject, plant, pkey, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  );
}
for (const table of new Set(tables.values())) prepareTable(table);

function reloadTables(): void {
  tables.clear();
  inserts.clear();
  lookups.clear();
  for (const r of db.prepare('SELECT name, tbl FROM domains').all() as Array<{ name: string; tbl: string }>) {
    tables.set(r.name, r.tbl);
  }
  for (const table of new Set(tables.values())) prepareTable(table);
}

const insertDedup = db.prepare('INSERT INTO dedup (h, seq) VALUES (?, ?) ON CONFLICT DO NOTHING');
const findDedup = db.prepare('SELECT seq FROM dedup WHERE h = ?');
const insertExact = db.prepare(
  'INSERT INTO dedup_exact (source, id, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
);
const findExact = db.prepare('SELECT seq FROM dedup_exact WHERE source = ? AND id = ?');
const upsertCursor = db.prepare(
  'INSERT INTO cursors (name, position, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at',
);
const setMeta = db.prepare(
  'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
);
const insertDomain = db.prepare('INSERT INTO domains (name, tbl) VALUES (?, ?)');

function lookupIn(table: string): Database.Statement {
  let stmt = lookups.get(table);
  if (!stmt) {
    stmt = db.prepare(`SELECT source, id FROM ${table} WHERE seq = ?`);
    lookups.set(table, stmt);
  }
  return stmt;
}

function readHead(): number {
  let head = Number(
    (db.prepare("SELECT value FROM meta WHERE key = 'head'").get() as { value: string } | undefined)?.value ??
      0,
  );
  for (const table of new Set(tables.values())) {
    const row = db.prepare(`SELECT max(seq) AS m FROM ${table}`).get() as { m: number | null };
    head = Math.max(head, row.m ?? 0);
  }
  return head;
}

let head = readHead();
// appended_at never goes backwards, so sequence and time stay in the same order (binary search by time).
let lastAppendedAt = Number(
  (db.prepare("SELECT value FROM meta WHERE key = 'lastAppendedAt'").get() as { value: string } | undefined)
    ?.value ?? 0,
);

/** Finds which table holds a sequence (for collision checks); rare path. */
function sourceIdAt(seq: number): { source: string; id: string } | undefined {
  for (const table of new Set(tables.values())) {
    const row = lookupIn(table).get(seq) as { source: string; id: string } | undefined;
    if (row) return row;
  }
  return undefined;
}

const runRequest = db.transaction((request: WriteRequest): WriteReply => {
  const sequences: number[] = [];
  const newDomains: Array<[string, string]> = [];
  const now = Math.max(Date.now(), lastAppendedAt);
  for (const [type, source, id, subject, plant, pkey, domain, body] of request.rows) {
    const h = dedupHash(source, id);
    const seq = head + 1;
    if (insertDedup.run(h, seq).changes === 0) {
      const existing = (findDedup.get(h) as { seq: number }).seq;
      const stored = sourceIdAt(existing);
      if (stored === undefined || (stored.source === source && stored.id === id)) {
        sequences.push(-existing);
        continue;
      }
      // A different event has the same 64-bit hash: fall back to the exact key.
      if (insertExact.run(source, id, seq).changes === 0) {
        sequences.push(-(findExact.get(source, id) as { seq: number }).seq);
        continue;
      }
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
  return { id: request.id, sequences, newDomains, deleted };
});

/** Deletes events (and their idempotency entries) below a sequence, in bounded chunks. */
function applyRetention(beforeSequence: number): number {
  let deleted = 0;
  const deleteDedup = db.prepare('DELETE FROM dedup WHERE h = ? AND seq = ?');
  for (const table of new Set(tables.values())) {
    const rows = db
      .prepare(`SELECT seq, source, id FROM ${table} WHERE seq < ? ORDER BY seq LIMIT 5000`)
      .all(beforeSequence) as Array<{ seq: number; source: string; id: string }>;
    for (const row of rows) deleteDedup.run(dedupHash(row.source, row.id), row.seq);
    if (rows.length > 0) {
      const last = (rows[rows.length - 1] as { seq: number }).seq;
      deleted += db.prepare(`DELETE FROM ${table} WHERE seq <= ?`).run(last).changes;
      db.prepare('DELETE FROM dedup_exact WHERE seq <= ?').run(last);
    }
  }
  return deleted;
}

const port = parentPort;
if (!port) throw new Error('writer-worker must run as a worker thread');
port.postMessage({ ready: true, head } satisfies ReadyMessage);
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
    // The transaction rolled back: forget tables it created and re-read the head from disk.
    reloadTables();
    head = readHead();
    reply = { id: request.id, error: (error as Error).message };
  }
  port.postMessage(reply);
});
