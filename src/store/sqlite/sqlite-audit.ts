import type Database from 'better-sqlite3';
import type { AuditEntry, AuditFilter, AuditRepository } from '../port.js';
import type { StateWriter } from './state-writer.js';

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

/** The audit trail; its records go through the state writer, group-committed off the event loop. */
export class SqliteAudit implements AuditRepository {
  constructor(
    private readonly db: Database.Database,
    private readonly writer: StateWriter,
  ) {}

  record(entry: AuditEntry): Promise<void> {
    return this.writer.write('audit', entry);
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
