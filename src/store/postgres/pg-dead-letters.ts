import type { StoredEvent } from '../../model/envelope.js';
import type {
  AttemptRecord,
  DeadLetterFilter,
  DeadLetterRecord,
  DeadLetterRepository,
  DeadLetterStatus,
} from '../port.js';
import { Conditions } from './pg-conditions.js';
import type { Queryable } from './pg-database.js';

interface Row {
  position: number;
  id: string;
  route: string;
  reason: string;
  event: StoredEvent;
  attempts: AttemptRecord[];
  at: number;
  status: DeadLetterStatus;
  updated_at: number;
  updated_by: string | null;
}

const COLUMNS = 'position, id, route, reason, event, attempts, at, status, updated_at, updated_by';

function fromRow(row: Row): DeadLetterRecord {
  return {
    id: row.id,
    position: row.position,
    route: row.route,
    reason: row.reason,
    event: row.event,
    attempts: row.attempts,
    at: row.at,
    status: row.status,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

function conditions(filter: DeadLetterFilter, after: number): Conditions {
  const where = new Conditions().add('position > ?', after);
  if (filter.route !== undefined) where.add('route = ?', filter.route);
  if (filter.type !== undefined) where.add('event_type = ?', filter.type);
  if (filter.reason !== undefined) where.add('reason = ?', filter.reason);
  if (filter.status !== undefined) where.add('status = ?', filter.status);
  if (filter.since !== undefined) where.add('at >= ?', filter.since);
  if (filter.until !== undefined) where.add('at < ?', filter.until);
  if (filter.plants !== undefined) where.add('plant = ANY(?::text[])', [...filter.plants]);
  return where;
}

export class PgDeadLetters implements DeadLetterRepository {
  constructor(private readonly db: Queryable) {}

  async add(entry: Omit<DeadLetterRecord, 'position' | 'updatedAt' | 'updatedBy'>): Promise<void> {
    await this.db.query(
      `INSERT INTO dead_letters (id, route, reason, event_id, event_type, plant, event, attempts, at, status, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9)`,
      [
        entry.id,
        entry.route,
        entry.reason,
        entry.event.id,
        entry.event.type,
        entry.event.plant ?? null,
        JSON.stringify(entry.event),
        JSON.stringify(entry.attempts),
        entry.at,
        entry.status,
      ],
    );
  }

  async get(id: string): Promise<DeadLetterRecord | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT ${COLUMNS} FROM dead_letters WHERE id = $1`, [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async list(filter: DeadLetterFilter, after: number, limit: number): Promise<DeadLetterRecord[]> {
    const where = conditions(filter, after);
    const { rows } = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM dead_letters WHERE ${where.sql()} ORDER BY position LIMIT ${where.param(limit)}`,
      where.params,
    );
    return rows.map(fromRow);
  }

  async update(
    id: string,
    change: { status: DeadLetterStatus; attempts?: readonly AttemptRecord[]; at: number; by: string | null },
  ): Promise<boolean> {
    const result = await this.db.query(
      // attempts stay as they are when the change brings none.
      `UPDATE dead_letters SET status = $1, attempts = COALESCE($2::json, attempts), updated_at = $3, updated_by = $4
       WHERE id = $5`,
      [change.status, change.attempts ? JSON.stringify(change.attempts) : null, change.at, change.by, id],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async openCounts(): Promise<Map<string, number>> {
    const { rows } = await this.db.query<{ route: string; n: number }>(
      "SELECT route, count(*) AS n FROM dead_letters WHERE status = 'open' GROUP BY route",
    );
    return new Map(rows.map((r) => [r.route, r.n]));
  }

  async forEvents(eventIds: readonly string[]): Promise<DeadLetterRecord[]> {
    if (eventIds.length === 0) return [];
    const { rows } = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM dead_letters WHERE event_id = ANY($1::text[]) ORDER BY position`,
      [[...eventIds]],
    );
    return rows.map(fromRow);
  }
}
