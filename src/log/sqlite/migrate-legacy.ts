import type Database from 'better-sqlite3';
import { dedupTable, partitionDdl, partitionOf, subjectTable } from './schema.js';

const CHUNK = 20_000;

/**
 * Moves a log written before the index partitions existed (one global `dedup` table, a
 * `<table>_subject` index on every domain table) to the partitioned layout, in a single
 * transaction: a crash leaves the old layout intact and the next start migrates again.
 * `codes` maps every domain table to its code. Returns whether there was anything to migrate.
 */
export function migrateLegacyLayout(
  db: Database.Database,
  partitionSize: number,
  codes: ReadonlyMap<string, number>,
): boolean {
  const legacy = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dedup'").get();
  if (legacy === undefined) return false;
  db.transaction(() => {
    const created = new Set<number>();
    const ensure = (partition: number) => {
      if (created.has(partition)) return;
      db.exec(partitionDdl(partition));
      created.add(partition);
    };

    // Hash order, so that each partition's rowid tree is written left to right.
    const first = db.prepare('SELECT h, seq FROM dedup ORDER BY h LIMIT ?').safeIntegers(true);
    const next = db.prepare('SELECT h, seq FROM dedup WHERE h > ? ORDER BY h LIMIT ?').safeIntegers(true);
    const inserts = new Map<number, Database.Statement>();
    let rows = first.all(CHUNK) as Array<{ h: bigint; seq: bigint }>;
    while (rows.length > 0) {
      for (const { h, seq } of rows) {
        const partition = partitionOf(Number(seq), partitionSize);
        let insert = inserts.get(partition);
        if (!insert) {
          ensure(partition);
          insert = db.prepare(`INSERT INTO ${dedupTable(partition)} (h, seq) VALUES (?, ?)`);
          inserts.set(partition, insert);
        }
        insert.run(h, seq);
      }
      if (rows.length < CHUNK) break;
      rows = next.all((rows[rows.length - 1] as { h: bigint }).h, CHUNK) as typeof rows;
    }

    for (const [table, code] of codes) {
      const bounds = db.prepare(`SELECT min(seq) AS lo, max(seq) AS hi FROM ${table}`).get() as {
        lo: number | null;
        hi: number | null;
      };
      if (bounds.lo === null || bounds.hi === null) continue;
      const last = partitionOf(bounds.hi, partitionSize);
      for (let partition = partitionOf(bounds.lo, partitionSize); partition <= last; partition++) {
        ensure(partition);
        db.prepare(
          `INSERT INTO ${subjectTable(partition)} (subject, seq, code)
           SELECT subject, seq, ? FROM ${table} WHERE subject IS NOT NULL AND seq >= ? AND seq < ?`,
        ).run(code, partition * partitionSize, (partition + 1) * partitionSize);
      }
      db.exec(`DROP INDEX IF EXISTS ${table}_subject`);
    }
    db.exec('DROP TABLE dedup');
  })();
  return true;
}
