import type Database from 'better-sqlite3';
import type { StoredEvent } from '../../model/envelope.js';
import type {
  AttemptRecord,
  DeadLetterFilter,
  DeadLetterRecord,
  DeadLetterRepository,
  DeadLetterStatus,
} from '../port.js';
import type { StateWriter } from './state-writer.js';
import type { NewDeadLetter } from './state-writes.js';

interface Row {
  position: number;
  id: string;
  route: string;
  reason: string;
  event: string;
  attempts: string;
  at: number;
  status: DeadLetterStatus;
  updated_at: number;
  updated_by: string | null;
}

function fromRow(row: Row): DeadLetterRecord {
  return {
    id: row.id,
    position: row.position,
    route: row.route,
    reason: row.reason,
    event: JSON.parse(row.event) as StoredEvent,
    attempts: JSON.parse(row.attempts) as AttemptRecord[],
    at: row.at,
    status: row.status,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

/** Builds the WHERE clause of a filter; shared by the SQL backends' dialect of positional parameters. */
export function deadLetterWhere(filter: DeadLetterFilter): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown) => {
    where.push(clause);
    params.push(value);
  };
  if (filter.route !== undefined) add('route = ?', filter.route);
  if (filter.type !== undefined) add('event_type = ?', filter.type);
  if (filter.reason !== undefined) add('reason = ?', filter.reason);
  if (filter.status !== undefined) add('status = ?', filter.status);
  if (filter.since !== undefined) add('at >= ?', filter.since);
  if (filter.until !== undefined) add('at < ?', filter.until);
  if (filter.plants !== undefined) {
    where.push(`plant IN (${filter.plants.map(() => '?').join(',') || "''"})`);
    params.push(...filter.plants);
  }
  return { sql: where.length ? where.join(' AND ') : '1 = 1', params };
}

/** Dead letters; the ones a burst of failing deliveries adds are committed together, off the event loop. */
export class SqliteDeadLetters implements DeadLetterRepository {
  private readonly byId: Database.Statement;
  private readonly counts: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly writer: StateWriter,
  ) {
    this.byId = db.prepare('SELECT * FROM dead_letters WHERE id = ?');
    this.counts = db.prepare(
      "SELECT route, count(*) AS n FROM dead_letters WHERE status = 'open' GROUP BY route",
    );
  }

  add(entry: NewDeadLetter): Promise<void> {
    return this.writer.write('deadLetter', entry);
  }

  async get(id: string): Promise<DeadLetterRecord | undefined> {
    const row = this.byId.get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async list(filter: DeadLetterFilter, after: number, limit: number): Promise<DeadLetterRecord[]> {
    const { sql, params } = deadLetterWhere(filter);
    const rows = this.db
      .prepare(`SELECT * FROM dead_letters WHERE position > ? AND ${sql} ORDER BY position LIMIT ?`)
      .all(after, ...params, limit) as Row[];
    return rows.map(fromRow);
  }

  async update(
    id: string,
    change: { status: DeadLetterStatus; attempts?: readonly AttemptRecord[]; at: number; by: string | null },
  ): Promise<boolean> {
    const result = change.attempts
      ? this.db
          .prepare(
            'UPDATE dead_letters SET status = ?, attempts = ?, updated_at = ?, updated_by = ? WHERE id = ?',
          )
          .run(change.status, JSON.stringify(change.attempts), change.at, change.by, id)
      : this.db
          .prepare('UPDATE dead_letters SET status = ?, updated_at = ?, updated_by = ? WHERE id = ?')
          .run(change.status, change.at, change.by, id);
    return result.changes > 0;
  }

  async openCounts(): Promise<Map<string, number>> {
    return new Map((this.counts.all() as Array<{ route: string; n: number }>).map((r) => [r.route, r.n]));
  }

  async forEvents(eventIds: readonly string[]): Promise<DeadLetterRecord[]> {
    const out: DeadLetterRecord[] = [];
    // Chunks keep each statement well under SQLite's parameter limit.
    for (let i = 0; i < eventIds.length; i += 500) {
      const chunk = eventIds.slice(i, i + 500);
      const rows = this.db
        .prepare(
          `SELECT * FROM dead_letters WHERE json_extract(event, '$.id') IN (${chunk.map(() => '?').join(',')}) ORDER BY position`,
        )
        .all(...chunk) as Row[];
      out.push(...rows.map(fromRow));
    }
    return out.sort((a, b) => a.position - b.position);
  }
}
