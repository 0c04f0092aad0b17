import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { applyPragmas, BASE_DDL, dedupHash, domainTableDdl, partitionDdl } from '../log/sqlite/schema.js';
import type { CloudEvent } from '../model/envelope.js';

/**
 * Raw better-sqlite3 inserts into the log's own schema (idempotency, event and subject row per event),
 * one transaction per batch, FULL sync, rows prepared before timing: the most the storage
 * layer alone can do on this machine with this batching.
 */
export function measureSqliteCeiling(
  makeEvent: (n: number) => CloudEvent,
  batchSize: number,
  totalEvents: number,
): number {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-ceiling-'));
  try {
    const db = new Database(join(dir, 'raw.db'));
    applyPragmas(db, 'full', true);
    db.exec(BASE_DDL);
    db.exec(domainTableDdl('ev_production'));
    db.exec(partitionDdl(0));
    const insertDedup = db.prepare('INSERT INTO dedup_p0 (h, seq) VALUES (?, ?) ON CONFLICT DO NOTHING');
    const insertSubject = db.prepare('INSERT INTO subject_p0 (subject, seq, code) VALUES (?, ?, 1)');
    const insertEvent = db.prepare(
      'INSERT INTO ev_production (seq, appended_at, type, source, id, subject, plant, pkey, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const rows = Array.from({ length: totalEvents }, (_, n) => {
      const e = makeEvent(n);
      return [
        dedupHash(e.source, e.id),
        e.type,
        e.source,
        e.id,
        e.subject ?? null,
        e.plant ?? null,
        e.subject ?? e.id,
        JSON.stringify(e),
      ] as const;
    });
    const writeBatch = db.transaction((from: number, to: number) => {
      const now = Date.now();
      for (let i = from; i < to; i++) {
        const [h, type, source, id, subject, plant, pkey, body] = rows[i] as (typeof rows)[number];
        insertDedup.run(h, i + 1);
        insertEvent.run(i + 1, now, type, source, id, subject, plant, pkey, body);
        if (subject !== null) insertSubject.run(subject, i + 1);
      }
    });
    const started = performance.now();
    for (let from = 0; from < totalEvents; from += batchSize)
      writeBatch(from, Math.min(totalEvents, from + batchSize));
    const seconds = (performance.now() - started) / 1000;
    db.close();
    return totalEvents / seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
