import type Database from 'better-sqlite3';
import type { AuditEntry, AuditFilter, AuditRepository } from '../port.js';

interface Row {
  position: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  ip: string | null;
  detail: string | null;
}

const FILTER_COLUMNS = [
  ['actor', 'actor = ?'],
  ['action', 'action = ?'],
  ['outcome', 'outcome = ?'],
  ['target', 'target = ?'],
  ['since', 'at >= ?'],
  ['until', 'at < ?'],
] as const;

export class SqliteAudit implements AuditRepository {
  private readonly insert: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      'INSERT INTO audit (at, actor, action, target, outcome, ip, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
  }

  async record(entry: AuditEntry): Promise<void> {
    this.insert.run(
      entry.at,
      entry.actor,
      entry.action,
      entry.target,
      entry.outcome,
      entry.ip ?? null,
      entry.detail ? JSON.stringify(entry.detail) : null,
    );
  }

  async list(
    filter: AuditFilter,
    after: number,
    limit: number,
  ): Promise<Array<AuditEntry & { position: number }>> {
    const where = ['position > ?'];
    const params: unknown[] = [after];
    for (const [field, clause] of FILTER_COLUMNS) {
      if (filter[field] === undefined) continue;
      where.push(clause);
      params.push(filter[field]);
    }
    const rows = this.db
      .prepare(`SELECT * FROM audit WHERE ${where.join(' AND ')} ORDER BY position LIMIT ?`)
      .all(...params, limit) as Row[];
    return rows.map((r) => ({
      position: r.position,
      at: r.at,
      actor: r.actor,
      action: r.action,
      target: r.target,
      outcome: r.outcome,
      ...(r.ip ? { ip: r.ip } : {}),
      ...(r.detail ? { detail: JSON.parse(r.detail) as Record<string, unknown> } : {}),
    }));
  }
}
