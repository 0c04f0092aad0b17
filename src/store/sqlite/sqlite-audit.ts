import type Database from 'better-sqlite3';
import type { AuditEntry, AuditRepository } from '../port.js';

interface Row {
  position: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  detail: string | null;
}

export class SqliteAudit implements AuditRepository {
  private readonly insert: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      'INSERT INTO audit (at, actor, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  async record(entry: AuditEntry): Promise<void> {
    this.insert.run(
      entry.at,
      entry.actor,
      entry.action,
      entry.target,
      entry.outcome,
      entry.detail ? JSON.stringify(entry.detail) : null,
    );
  }

  async list(
    filter: { actor?: string; action?: string; since?: number },
    after: number,
    limit: number,
  ): Promise<Array<AuditEntry & { position: number }>> {
    const where = ['position > ?'];
    const params: unknown[] = [after];
    if (filter.actor !== undefined) {
      where.push('actor = ?');
      params.push(filter.actor);
    }
    if (filter.action !== undefined) {
      where.push('action = ?');
      params.push(filter.action);
    }
    if (filter.since !== undefined) {
      where.push('at >= ?');
      params.push(filter.since);
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
      ...(r.detail ? { detail: JSON.parse(r.detail) as Record<string, unknown> } : {}),
    }));
  }
}
