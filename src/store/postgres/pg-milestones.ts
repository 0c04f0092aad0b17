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
import { Conditions } from './pg-conditions.js';
import type { PgDatabase, Queryable } from './pg-database.js';

interface Row {
  position: number;
  id: string;
  name: string;
  correlation: string;
  plant: string | null;
  /** `early` rows hold an end seen before its start; they never leave this module. */
  status: MilestoneStatus | 'early';
  start_event: MilestoneEventRef | null;
  started_at: number | null;
  due_at: number | null;
  late_at: number | null;
  met_at: number | null;
  end_event: MilestoneEventRef | null;
  end_sequence: number | null;
  late_alerted: boolean;
  cleared_alerted: boolean;
  met_alerted: boolean;
}

function fromRow(row: Row): MilestoneRecord {
  return {
    id: row.id,
    position: row.position,
    name: row.name,
    correlation: row.correlation,
    plant: row.plant,
    startEvent: row.start_event as MilestoneEventRef,
    startedAt: row.started_at ?? 0,
    dueAt: row.due_at ?? 0,
    status: row.status as MilestoneStatus,
    lateAt: row.late_at,
    metAt: row.met_at,
    endEvent: row.end_event,
    alerted: { late: row.late_alerted, cleared: row.cleared_alerted, met: row.met_alerted },
  };
}

const STARTED = "status IN ('open', 'late', 'met')";

/**
 * Milestones shared by hub instances. Each change is one statement or one transaction holding the
 * row lock, so a delivery ending a milestone on one instance and the late check on another never
 * overwrite each other.
 */
export class PgMilestones implements MilestoneRepository {
  constructor(private readonly db: PgDatabase) {}

  async open(start: MilestoneStart, now: number, endMustFollowStart: boolean): Promise<MilestoneRecord> {
    return this.db.transaction((tx) => this.openIn(tx, start, now, endMustFollowStart));
  }

  async end(
    id: string,
    ref: { name: string; correlation: string; plant: string | null },
    endEvent: MilestoneEventRef,
    at: number,
    endMustFollowStart: boolean,
  ): Promise<'met' | 'early' | 'ignored'> {
    return this.db.transaction((tx) => this.endIn(tx, id, ref, endEvent, at, endMustFollowStart));
  }

  async applyAll(changes: readonly MilestoneChange[]): Promise<MilestoneChangeResult[]> {
    if (changes.length === 0) return [];
    // Rows are locked in id order (stable, so one milestone's changes keep theirs): two instances
    // applying batches at once then wait for each other instead of deadlocking.
    const order = changes.map((change, index) => ({ change, index }));
    const idOf = (change: MilestoneChange) => (change.kind === 'open' ? change.start.id : change.id);
    order.sort((x, y) =>
      idOf(x.change) < idOf(y.change) ? -1 : idOf(x.change) > idOf(y.change) ? 1 : x.index - y.index,
    );
    return this.db.transaction(async (tx) => {
      const results = new Array<MilestoneChangeResult>(changes.length);
      for (const { change, index } of order) {
        results[index] =
          change.kind === 'open'
            ? await this.openIn(tx, change.start, change.now, change.endMustFollowStart)
            : await this.endIn(
                tx,
                change.id,
                change.ref,
                change.endEvent,
                change.at,
                change.endMustFollowStart,
              );
      }
      return results;
    });
  }

  private async openIn(
    tx: Queryable,
    start: MilestoneStart,
    now: number,
    endMustFollowStart: boolean,
  ): Promise<MilestoneRecord> {
    // One statement inserts the milestone or, when it exists, locks it and returns it as it is
    // (the update changes nothing): the row either way, without a second round trip.
    const { rows } = await tx.query<Row>(
      `INSERT INTO milestones (id, name, correlation, plant, status, start_event, started_at, due_at, updated_at)
         VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET updated_at = milestones.updated_at
         RETURNING *`,
      [
        start.id,
        start.name,
        start.correlation,
        start.plant,
        JSON.stringify(start.startEvent),
        start.startedAt,
        start.dueAt,
        now,
      ],
    );
    const existing = rows[0] as Row;
    if (existing.status !== 'early') return fromRow(existing);
    const counts = !endMustFollowStart || (existing.end_sequence ?? 0) >= start.startEvent.sequence;
    const updated = await tx.query<Row>(
      `UPDATE milestones SET plant = $2, status = $3, start_event = $4, started_at = $5, due_at = $6,
           met_at = $7, end_event = CASE WHEN $8 THEN end_event END, end_sequence = CASE WHEN $8 THEN end_sequence END,
           updated_at = $9
         WHERE id = $1 RETURNING *`,
      [
        start.id,
        start.plant,
        counts ? 'met' : 'open',
        JSON.stringify(start.startEvent),
        start.startedAt,
        start.dueAt,
        counts ? now : null,
        counts,
        now,
      ],
    );
    return fromRow(updated.rows[0] as Row);
  }

  private async endIn(
    tx: Queryable,
    id: string,
    ref: { name: string; correlation: string; plant: string | null },
    endEvent: MilestoneEventRef,
    at: number,
    endMustFollowStart: boolean,
  ): Promise<'met' | 'early' | 'ignored'> {
    // Keep the end for a start still to come; a later end (by sequence) replaces an earlier one.
    // Any other row is locked and returned unchanged: one round trip, the end usually early.
    const later = `milestones.status = 'early' AND milestones.end_sequence < excluded.end_sequence`;
    const { rows } = await tx.query<Pick<Row, 'status' | 'start_event'>>(
      `INSERT INTO milestones (id, name, correlation, plant, status, end_event, end_sequence, updated_at)
         VALUES ($1, $2, $3, $4, 'early', $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET
           end_event = CASE WHEN ${later} THEN excluded.end_event ELSE milestones.end_event END,
           end_sequence = CASE WHEN ${later} THEN excluded.end_sequence ELSE milestones.end_sequence END,
           updated_at = CASE WHEN ${later} THEN excluded.updated_at ELSE milestones.updated_at END
         RETURNING status, start_event`,
      [id, ref.name, ref.correlation, ref.plant, JSON.stringify(endEvent), endEvent.sequence, at],
    );
    const existing = rows[0] as Pick<Row, 'status' | 'start_event'>;
    if (existing.status === 'early') return 'early';
    if (existing.status === 'met') return 'ignored';
    if (endMustFollowStart && endEvent.sequence < (existing.start_event?.sequence ?? 0)) return 'ignored';
    await tx.query(
      `UPDATE milestones SET status = 'met', met_at = $2, end_event = $3, end_sequence = $4, updated_at = $2
         WHERE id = $1`,
      [id, at, JSON.stringify(endEvent), endEvent.sequence],
    );
    return 'met';
  }

  async markLate(now: number, limit: number): Promise<MilestoneRecord[]> {
    // SKIP LOCKED: a milestone an end holds right now is left for the next check.
    const { rows } = await this.db.query<Row>(
      `UPDATE milestones SET status = 'late', late_at = $1, updated_at = $1
       WHERE id IN (SELECT id FROM milestones WHERE status = 'open' AND due_at <= $1
                    ORDER BY due_at, position LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [now, limit],
    );
    return rows.sort((a, b) => (a.due_at ?? 0) - (b.due_at ?? 0) || a.position - b.position).map(fromRow);
  }

  async pendingAlerts(options: { met: boolean }, limit: number): Promise<MilestoneRecord[]> {
    const { rows } = await this.db.query<Row>(
      `SELECT * FROM milestones
       WHERE (status = 'late' AND NOT late_alerted)
          OR (status = 'met' AND late_at IS NOT NULL AND NOT cleared_alerted)
          ${options.met ? "OR (status = 'met' AND NOT met_alerted)" : ''}
       ORDER BY position LIMIT $1`,
      [limit],
    );
    return rows.map(fromRow);
  }

  async setAlerted(id: string, kinds: ReadonlyArray<'late' | 'cleared' | 'met'>): Promise<void> {
    if (kinds.length === 0) return;
    const sets = kinds.map((kind) => `${kind}_alerted = TRUE`).join(', ');
    await this.db.query(`UPDATE milestones SET ${sets} WHERE id = $1`, [id]);
  }

  async get(id: string): Promise<MilestoneRecord | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT * FROM milestones WHERE id = $1 AND ${STARTED}`, [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async list(filter: MilestoneFilter, after: number, limit: number): Promise<MilestoneRecord[]> {
    const where = new Conditions().add('position > ?', after);
    if (filter.status !== undefined) where.add('status = ?', filter.status);
    if (filter.name !== undefined) where.add('name = ?', filter.name);
    if (filter.plant !== undefined) where.add('plant = ?', filter.plant);
    if (filter.plants !== undefined) where.add('plant = ANY(?::text[])', [...filter.plants]);
    const { rows } = await this.db.query<Row>(
      `SELECT * FROM milestones WHERE ${STARTED} AND ${where.sql()} ORDER BY position LIMIT ${where.param(limit)}`,
      where.params,
    );
    return rows.map(fromRow);
  }

  async counts(plants?: readonly string[]): Promise<MilestoneCount[]> {
    const where = new Conditions();
    if (plants !== undefined) where.add('plant = ANY(?::text[])', [...plants]);
    const { rows } = await this.db.query<{
      name: string;
      plant: string | null;
      status: MilestoneStatus;
      n: number;
    }>(
      `SELECT name, plant, status, count(*) AS n FROM milestones WHERE ${STARTED} AND ${where.sql()}
       GROUP BY name, plant, status
       ORDER BY name COLLATE "C", plant COLLATE "C" NULLS FIRST, status COLLATE "C"`,
      where.params,
    );
    return rows.map((r) => ({ name: r.name, plant: r.plant, status: r.status, count: r.n }));
  }

  async purge(before: number): Promise<number> {
    const result = await this.db.query(
      `DELETE FROM milestones WHERE (status = 'met' AND met_at < $1) OR (status = 'early' AND updated_at < $1)`,
      [before],
    );
    return result.rowCount ?? 0;
  }
}
