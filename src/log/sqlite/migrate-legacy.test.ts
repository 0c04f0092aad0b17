import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { makeEvent } from '../../../test/helpers/events.js';
import { domainOfType } from '../../model/catalog.js';
import type { CloudEvent } from '../../model/envelope.js';
import { partitionKeyOf } from '../../model/envelope.js';
import { dedupHash, listPartitions, tableForDomain } from './schema.js';
import { SqliteEventLog } from './sqlite-event-log.js';

/** The layout logs were written in before index partitions: one hash table, a subject index per domain table. */
const LEGACY_DDL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE domains (name TEXT PRIMARY KEY, tbl TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE dedup (h INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE dedup_exact (source TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (source, id)) WITHOUT ROWID;
CREATE TABLE cursors (name TEXT PRIMARY KEY, position INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
`;

const legacyDomainTable = (table: string) => `
CREATE TABLE ${table} (seq INTEGER PRIMARY KEY, appended_at INTEGER NOT NULL, type TEXT NOT NULL,
  source TEXT NOT NULL, id TEXT NOT NULL, subject TEXT, plant TEXT, pkey TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX ${table}_subject ON ${table} (subject) WHERE subject IS NOT NULL;
`;

/** Writes `events` as the log did before index partitions, sequences from 1. */
function writeLegacyLog(path: string, events: readonly CloudEvent[]): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(LEGACY_DDL);
  const now = Date.now();
  db.transaction(() => {
    events.forEach((event, i) => {
      const domain = domainOfType(event.type);
      const table = tableForDomain(domain);
      if (db.prepare('SELECT 1 FROM domains WHERE name = ?').get(domain) === undefined) {
        db.exec(legacyDomainTable(table));
        db.prepare('INSERT INTO domains (name, tbl) VALUES (?, ?)').run(domain, table);
      }
      db.prepare(
        `INSERT INTO ${table} (seq, appended_at, type, source, id, subject, plant, pkey, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        i + 1,
        now,
        event.type,
        event.source,
        event.id,
        event.subject ?? null,
        event.plant ?? null,
        partitionKeyOf(event),
        JSON.stringify(event),
      );
      db.prepare('INSERT INTO dedup (h, seq) VALUES (?, ?)').run(dedupHash(event.source, event.id), i + 1);
    });
    db.prepare("INSERT INTO meta (key, value) VALUES ('head', ?), ('lastAppendedAt', ?)").run(
      String(events.length),
      String(now),
    );
    db.prepare("INSERT INTO cursors (name, position, updated_at) VALUES ('route-a', 100, ?)").run(now);
  })();
  db.close();
}

const TYPES = ['production.operation.completed', 'quality.hold.placed'] as const;
const events = (count: number, prefix: string) =>
  Array.from({ length: count }, (_, n) =>
    makeEvent({ id: `${prefix}-${n}`, subject: `S${n % 3}`, type: TYPES[n % 2] }),
  );

test('a log in the layout before index partitions is migrated on open and keeps its idempotency and subjects', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'conveyor-legacy-')), 'events.db');
  const old = events(250, 'old');
  writeLegacyLog(path, old);

  let log = await SqliteEventLog.open({ path, partitionSize: 100 });
  try {
    assert.equal(log.head(), 250);
    const resent = await log.append([old[0]!, old[150]!, old[249]!]);
    assert.deepEqual(
      resent.map((o) => [o.sequence, o.duplicate]),
      [
        [1, true],
        [151, true],
        [250, true],
      ],
    );
    const fresh = events(200, 'new');
    for (let i = 0; i < fresh.length; i += 40) await log.append(fresh.slice(i, i + 40));
    const [again] = await log.append([fresh[7]!]);
    assert.deepEqual(again, { sequence: 258, duplicate: true });

    // Subject reads span the migrated and the new partitions, in order.
    const all = await log.read({ limit: 1000 });
    assert.equal(all.length, 450);
    const cases: Array<{ subject: string; after?: number; limit: number; quality?: true }> = [
      { subject: 'S1', limit: 1000 },
      { subject: 'S2', quality: true, limit: 1000 },
      { subject: 'S0', after: 240, limit: 5 },
    ];
    for (const { subject, after = 0, limit, quality } of cases) {
      const want = all
        .filter(
          (e) => e.subject === subject && e.sequence > after && (!quality || e.type.startsWith('quality.')),
        )
        .slice(0, limit)
        .map((e) => e.id);
      assert.ok(want.some((id) => id.startsWith('old-')) && want.some((id) => id.startsWith('new-')));
      const got = await log.read({ subject, after, limit, ...(quality ? { types: ['quality.*'] } : {}) });
      assert.deepEqual(
        got.map((e) => e.id),
        want,
      );
    }
    const consumer = await log.consume('route-a', {});
    assert.equal(consumer.committed(), 100, 'consumer positions survive the migration');
    consumer.close();
  } finally {
    await log.close();
  }

  const db = new Database(path, { readonly: true });
  try {
    const names = db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')").pluck().all();
    assert.ok(!names.includes('dedup'), 'the global hash table is gone');
    assert.ok(!names.some((n) => String(n).endsWith('_subject')), 'the per-table subject indexes are gone');
    assert.deepEqual(listPartitions(db, 'dedup'), [0, 1, 2, 3, 4]);
    assert.equal(db.prepare('SELECT count(*) FROM dedup_p1').pluck().get(), 100);
    assert.equal(db.prepare("SELECT value FROM meta WHERE key = 'partitionSize'").pluck().get(), '100');
  } finally {
    db.close();
  }

  // A second open finds the new layout and leaves it as it is.
  log = await SqliteEventLog.open({ path });
  try {
    const outcomes = await log.append([old[99]!, old[100]!]);
    assert.deepEqual(
      outcomes.map((o) => o.sequence),
      [100, 101],
    );
    assert.ok(outcomes.every((o) => o.duplicate));
  } finally {
    await log.close();
  }
});
