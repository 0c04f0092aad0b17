import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  BASE_DDL,
  DEFAULT_PARTITION_SIZE,
  dedupHash,
  domainTableDdl,
  partitionDdl,
  partitionOf,
  tableForDomain,
} from '../log/sqlite/schema.js';
import { domainOfType } from '../model/catalog.js';
import type { CloudEvent } from '../model/envelope.js';
import { partitionKeyOf } from '../model/envelope.js';

/** Rows per transaction: large, since nothing here waits on a commit. */
const ROWS_PER_TRANSACTION = 50_000;

/**
 * Writes `count` events into `<dir>/events.db` in the embedded log's own layout (domain tables,
 * index partitions, head in `meta`), straight through SQLite with no sync, so a benchmark can
 * start a hub on a log of 10^6 or 10^7 events in seconds or minutes rather than through the API.
 * The hub opens it as any log it wrote itself (the writer rebuilds its Bloom filters from the
 * partitions). Only for an empty directory, and only events of one domain.
 */
export function prefillLog(
  dir: string,
  count: number,
  makeEvent: (n: number) => CloudEvent,
  progress: (done: number) => void = () => {},
  /** Consumers (e.g. `route:<name>`) positioned before the first event, so the whole log is their backlog. */
  consumersAtStart: readonly string[] = [],
): void {
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, 'events.db'));
  try {
    // Unsafe settings are fine for a file that is thrown away if this crashes; WAL is what the hub expects.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -65536');
    db.exec(BASE_DDL);
    const size = DEFAULT_PARTITION_SIZE;
    db.prepare("INSERT INTO meta (key, value) VALUES ('partitionSize', ?)").run(String(size));
    const first = makeEvent(0);
    const domain = domainOfType(first.type);
    const table = tableForDomain(domain);
    db.exec(domainTableDdl(table));
    db.prepare('INSERT INTO domains (name, tbl) VALUES (?, ?)').run(domain, table);
    db.prepare('INSERT INTO event_tables (tbl) VALUES (?)').run(table);
    const code = db.prepare('SELECT code FROM event_tables WHERE tbl = ?').pluck().get(table) as number;
    const insertEvent = db.prepare(
      `INSERT INTO ${table} (seq, appended_at, type, source, id, subject, plant, pkey, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const partitionStatements = new Map<number, { dedup: Database.Statement; subject: Database.Statement }>();
    const statementsFor = (partition: number) => {
      let found = partitionStatements.get(partition);
      if (!found) {
        db.exec(partitionDdl(partition));
        found = {
          dedup: db.prepare(`INSERT INTO dedup_p${partition} (h, seq) VALUES (?, ?)`),
          subject: db.prepare(`INSERT INTO subject_p${partition} (subject, seq, code) VALUES (?, ?, ?)`),
        };
        partitionStatements.set(partition, found);
      }
      return found;
    };
    const now = Date.now();
    const writeRange = db.transaction((from: number, to: number) => {
      for (let n = from; n < to; n++) {
        const event = makeEvent(n);
        if (domainOfType(event.type) !== domain) throw new Error('prefillLog: events of one domain only');
        const seq = n + 1;
        const partition = statementsFor(partitionOf(seq, size));
        partition.dedup.run(dedupHash(event.source, event.id), seq);
        const subject = event.subject ?? null;
        insertEvent.run(
          seq,
          now,
          event.type,
          event.source,
          event.id,
          subject,
          event.plant ?? null,
          partitionKeyOf(event),
          JSON.stringify(event),
        );
        if (subject !== null) partition.subject.run(subject, seq, code);
      }
    });
    for (let from = 0; from < count; from += ROWS_PER_TRANSACTION) {
      writeRange(from, Math.min(count, from + ROWS_PER_TRANSACTION));
      progress(Math.min(count, from + ROWS_PER_TRANSACTION));
    }
    const setMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    setMeta.run('head', String(count));
    setMeta.run('lastAppendedAt', String(now));
    const setCursor = db.prepare('INSERT INTO cursors (name, position, updated_at) VALUES (?, 0, ?)');
    for (const name of consumersAtStart) setCursor.run(name, now);
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}
