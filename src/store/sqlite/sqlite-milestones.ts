import type Database from 'better-sqlite3';
import type {
  MilestoneChange,
  MilestoneChangeResult,
  MilestoneCount,
  MilestoneEventRef,
  MilestoneFilter,
  MilestoneRecord,
  MilestoneRepository,
  MilestoneStart,
  MilestoneStatus,
} from '../port.js';
import type { StateWriter } from './state-writer.js';

/** `early` rows hold an end seen before its start; they never leave this module. */
type RowStatus = MilestoneStatus | 'early';

interface Row {
  position: number;
  id: string;
  name: string;
  correlation: string;
  plant: string | null;
  status: RowStatus;
  start_event: string | null;
  started_at: number | null;
  due_at: number | null;
  late_at: number | null;
  met_at: number | null;
  end_event: string | null;
  end_sequence: number | null;
  late_alerted: number;
  cleared_alerted: number;
  met_alerted: number;
}

function fromRow(row: Row): MilestoneRecord {
  return {
    id: row.id,
    position: row.position,
    name: row.name,
    correlation: row.correlation,
    plant: row.plant,
    startEvent: JSON.parse(row.start_event ?? 'null') as MilestoneEventRef,
    startedAt: row.started_at ?? 0,
    dueAt: row.due_at ?? 0,
    status: row.status as MilestoneStatus,
    lateAt: row.late_at,
    metAt: row.met_at,
    endEvent: row.end_event === null ? null : (JSON.parse(row.end_event) as MilestoneEventRef),
    alerted: { late: row.late_alerted === 1, cleared: row.cleared_alerted === 1, met: row.met_alerted === 1 },
  };
}

const STARTED = "status IN ('open', 'late', 'met')";

/**
 * The milestone changes as statements on `db`, without a transaction of their own: the state
 * writer runs a batch of them in one transaction, on its own thread.
 */
export function milestoneChanges(
  db: Database.Database,
): (changes: readonly MilestoneChange[]) => MilestoneChangeResult[] {
  const byId = db.prepare('SELECT * FROM milestones WHERE id = ?');
  const insertStarted = db.prepare(
    `INSERT INTO milestones (id, name, correlation, plant, status, start_event, started_at, due_at, updated_at)
     VALUES (@id, @name, @correlation, @plant, 'open', @startEvent, @startedAt, @dueAt, @now)`,
  );
  const startEarly = db.prepare(
    `UPDATE milestones SET plant = @plant, status = @status, start_event = @startEvent, started_at = @startedAt,
       due_at = @dueAt, met_at = @metAt, end_event = @endEvent, end_sequence = @endSequence, updated_at = @now
     WHERE id = @id`,
  );
  const open = (start: MilestoneStart, now: number, follow: boolean): Row => {
    const existing = byId.get(start.id) as Row | undefined;
    const params = {
      id: start.id,
      name: start.name,
      correlation: start.correlation,
      plant: start.plant,
      startEvent: JSON.stringify(start.startEvent),
      startedAt: start.startedAt,
      dueAt: start.dueAt,
      now,
    };
    if (!existing) insertStarted.run(params);
    else if (existing.status === 'early') {
      const counts = !follow || (existing.end_sequence ?? 0) >= start.startEvent.sequence;
      startEarly.run({
        ...params,
        status: counts ? 'met' : 'open',
        metAt: counts ? now : null,
        endEvent: counts ? existing.end_event : null,
        endSequence: counts ? existing.end_sequence : null,
      });
    }
    return byId.get(start.id) as Row;
  };

  const meet = db.prepare(
    `UPDATE milestones SET status = 'met', met_at = @at, end_event = @endEvent, end_sequence = @endSequence,
       updated_at = @at WHERE id = @id AND status IN ('open', 'late')`,
  );
  const keepEarly = db.prepare(
    `INSERT INTO milestones (id, name, correlation, plant, status, end_event, end_sequence, updated_at)
     VALUES (@id, @name, @correlation, @plant, 'early', @endEvent, @endSequence, @at)
     ON CONFLICT (id) DO UPDATE SET end_event = excluded.end_event, end_sequence = excluded.end_sequence,
       updated_at = excluded.updated_at
     WHERE milestones.status = 'early' AND milestones.end_sequence < excluded.end_sequence`,
  );
  const end = (change: Extract<MilestoneChange, { kind: 'end' }>): 'met' | 'early' | 'ignored' => {
    const existing = byId.get(change.id) as Row | undefined;
    const params = {
      id: change.id,
      ...change.ref,
      endEvent: JSON.stringify(change.endEvent),
      endSequence: change.endEvent.sequence,
      at: change.at,
    };
    if (!existing || existing.status === 'early') {
      keepEarly.run(params);
      return 'early';
    }
    if (existing.status === 'met') return 'ignored';
    if (
      change.endMustFollowStart &&
      change.endEvent.sequence < (JSON.parse(existing.start_event ?? '{}') as MilestoneEventRef).sequence
    )
      return 'ignored';
    return meet.run(params).changes > 0 ? 'met' : 'ignored';
  };
  return (changes) =>
    changes.map((change) =>
      change.kind === 'open'
        ? fromRow(open(change.start, change.now, change.endMustFollowStart))
        : end(change),
    );
}

/**
 * Milestones in the embedded store. Opens and ends go through `applyAll`, to the state writer: a
 * whole batch runs in one transaction on the writer's thread, so its bookkeeping costs one commit
 * (one fsync), not one per event, and that fsync never holds up the event loop.
 */
export class SqliteMilestones implements MilestoneRepository {
  private readonly markLateTx: (now: number, limit: number) => Row[];
  private readonly byId: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly writer: StateWriter,
  ) {
    this.byId = db.prepare('SELECT * FROM milestones WHERE id = ?');
    const due = db.prepare(
      "SELECT * FROM milestones WHERE status = 'open' AND due_at <= ? ORDER BY due_at, position LIMIT ?",
    );
    const late = db.prepare(
      "UPDATE milestones SET status = 'late', late_at = ?, updated_at = ? WHERE id = ? AND status = 'open'",
    );
    this.markLateTx = db.transaction((now: number, limit: number): Row[] => {
      const rows = due.all(now, limit) as Row[];
      for (const row of rows) late.run(now, now, row.id);
      return rows.map((row) => ({ ...row, status: 'late' as const, late_at: now }));
    });
  }

  async open(start: MilestoneStart, now: number, endMustFollowStart: boolean): Promise<MilestoneRecord> {
    const [record] = await this.applyAll([{ kind: 'open', start, now, endMustFollowStart }]);
    return record as MilestoneRecord;
  }

  async end(
    id: string,
    ref: { name: string; correlation: string; plant: string | null },
    endEvent: MilestoneEventRef,
    at: number,
    endMustFollowStart: boolean,
  ): Promise<'met' | 'early' | 'ignored'> {
    const [outcome] = await this.applyAll([{ kind: 'end', id, ref, endEvent, at, endMustFollowStart }]);
    return outcome as 'met' | 'early' | 'ignored';
  }

  async applyAll(changes: readonly MilestoneChange[]): Promise<MilestoneChangeResult[]> {
    return changes.length === 0 ? [] : this.writer.write('milestones', changes);
  }

  async markLate(now: number, limit: number): Promise<MilestoneRecord[]> {
    return this.markLateTx(now, limit).map(fromRow);
  }

  async pendingAlerts(options: { met: boolean }, limit: number): Promise<MilestoneRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM milestones
         WHERE (status = 'late' AND late_alerted = 0)
            OR (status = 'met' AND late_at IS NOT NULL AND cleared_alerted = 0)
            ${options.met ? "OR (status = 'met' AND met_alerted = 0)" : ''}
         ORDER BY position LIMIT ?`,
      )
      .all(limit) as Row[];
    return rows.map(fromRow);
  }

  async setAlerted(id: string, kinds: ReadonlyArray<'late' | 'cleared' | 'met'>): Promise<void> {
    if (kinds.length === 0) return;
    const sets = kinds.map((kind) => `${kind}_alerted = 1`).join(', ');
    this.db.prepare(`UPDATE milestones SET ${sets} WHERE id = ?`).run(id);
  }

  async get(id: string): Promise<MilestoneRecord | undefined> {
    const row = this.byId.get(id) as Row | undefined;
    return row && row.status !== 'early' ? fromRow(row) : undefined;
  }

  async list(filter: MilestoneFilter, after: number, limit: number): Promise<MilestoneRecord[]> {
    const where = [STARTED, 'position > @after'];
    if (filter.status !== undefined) where.push('status = @status');
    if (filter.name !== undefined) where.push('name = @name');
    if (filter.plant !== undefined) where.push('plant = @plant');
    if (filter.plants !== undefined) where.push('plant IN (SELECT value FROM json_each(@plants))');
    const rows = this.db
      .prepare(`SELECT * FROM milestones WHERE ${where.join(' AND ')} ORDER BY position LIMIT @limit`)
      .all({
        after,
        limit,
        status: filter.status ?? null,
        name: filter.name ?? null,
        plant: filter.plant ?? null,
        plants: JSON.stringify(filter.plants ?? []),
      }) as Row[];
    return rows.map(fromRow);
  }

  async counts(plants?: readonly string[]): Promise<MilestoneCount[]> {
    const onlyPlants = plants === undefined ? '' : 'AND plant IN (SELECT value FROM json_each(@plants))';
    const rows = this.db
      .prepare(
        `SELECT name, plant, status, count(*) AS n FROM milestones WHERE ${STARTED} ${onlyPlants}
         GROUP BY name, plant, status ORDER BY name, plant, status`,
      )
      .all({ plants: JSON.stringify(plants ?? []) }) as Array<{
      name: string;
      plant: string | null;
      status: MilestoneStatus;
      n: number;
    }>;
    return rows.map((r) => ({ name: r.name, plant: r.plant, status: r.status, count: r.n }));
  }

  async purge(before: number): Promise<number> {
    return this.db
      .prepare(
        `DELETE FROM milestones WHERE (status = 'met' AND met_at < @before) OR (status = 'early' AND updated_at < @before)`,
      )
      .run({ before }).changes;
  }
}
