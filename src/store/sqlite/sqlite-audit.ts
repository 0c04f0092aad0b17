import type Database from 'better-sqlite3';
import type { AuditEntry, AuditFilter, AuditRepository } from '../port.js';
import { GroupCommit } from './group-commit.js';

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

/** The audit trail; the records of one turn of the event loop are committed together. */
export class SqliteAudit implements AuditRepository {
  /** Records, group-committed per turn of the event loop. */
  readonly records: GroupCommit<AuditEntry>;

  constructor(private readonly db: Database.Database) {
    const insert = db.prepare(
      'INSERT INTO audit (at, actor, action, target, outcome, ip, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.records = new GroupCommit(db, (entry) =>
      insert.run(
        entry.at,
        entry.actor,
        entry.action,
        entry.target,
        entry.outcome,
        entry.ip ?? null,
        entry.detail ? JSON.stringify(entry.detail) : null,
      ),
    );
  }

  record(entry: AuditEntry): Promise<void> {
    return this.records.add(entry);
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
