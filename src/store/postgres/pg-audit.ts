import type { AuditEntry, AuditFilter, AuditRepository } from '../port.js';
import { Conditions } from './pg-conditions.js';
import type { Queryable } from './pg-database.js';

interface Row {
  position: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  ip: string | null;
  detail: Record<string, unknown> | null;
}

const FILTER_COLUMNS = [
  ['actor', 'actor = ?'],
  ['action', 'action = ?'],
  ['outcome', 'outcome = ?'],
  ['target', 'target = ?'],
  ['since', 'at >= ?'],
  ['until', 'at < ?'],
] as const;

export class PgAudit implements AuditRepository {
  constructor(private readonly db: Queryable) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.db.query(
      'INSERT INTO audit (at, actor, action, target, outcome, ip, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [
        entry.at,
        entry.actor,
        entry.action,
        entry.target,
        entry.outcome,
        entry.ip ?? null,
        entry.detail ? JSON.stringify(entry.detail) : null,
      ],
    );
  }

  async list(
    filter: AuditFilter,
    after: number,
    limit: number,
  ): Promise<Array<AuditEntry & { position: number }>> {
    const where = new Conditions().add('position > ?', after);
    for (const [field, clause] of FILTER_COLUMNS) {
      if (filter[field] !== undefined) where.add(clause, filter[field]);
    }
    const { rows } = await this.db.query<Row>(
      `SELECT * FROM audit WHERE ${where.sql()} ORDER BY position LIMIT ${where.param(limit)}`,
      where.params,
    );
    return rows.map((r) => ({
      position: r.position,
      at: r.at,
      actor: r.actor,
      action: r.action,
      target: r.target,
      outcome: r.outcome,
      ...(r.ip ? { ip: r.ip } : {}),
      ...(r.detail ? { detail: r.detail } : {}),
    }));
  }
}
