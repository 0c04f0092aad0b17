import type {
  QualityHoldFilter,
  QualityHoldRecord,
  QualityHoldRepository,
  QualityHoldStatus,
} from '../port.js';
import type { PgDatabase } from './pg-database.js';

interface Row {
  hold_id: string;
  plant: string;
  material: string;
  lots: string[];
  reason: string;
  placed_at: string;
  status: QualityHoldStatus;
  disposition: string | null;
  updated_at: number;
}

function fromRow(row: Row): QualityHoldRecord {
  return {
    holdId: row.hold_id,
    plant: row.plant,
    material: row.material,
    lots: row.lots,
    reason: row.reason,
    placedAt: row.placed_at,
    status: row.status,
    disposition: row.disposition,
    updatedAt: row.updated_at,
  };
}

/** Quality holds with a (plant, lot) index, so a shipment's lots are checked with one indexed query. */
export class PgHolds implements QualityHoldRepository {
  constructor(private readonly db: PgDatabase) {}

  async put(hold: QualityHoldRecord): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM quality_hold_lots WHERE hold_id = $1', [hold.holdId]);
      await tx.query(
        `INSERT INTO quality_holds (hold_id, plant, material, lots, reason, placed_at, status, disposition, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (hold_id) DO UPDATE SET plant = excluded.plant, material = excluded.material,
           lots = excluded.lots, reason = excluded.reason, placed_at = excluded.placed_at,
           status = excluded.status, disposition = excluded.disposition, updated_at = excluded.updated_at`,
        [
          hold.holdId,
          hold.plant,
          hold.material,
          JSON.stringify(hold.lots),
          hold.reason,
          hold.placedAt,
          hold.status,
          hold.disposition,
          hold.updatedAt,
        ],
      );
      await tx.query(
        `INSERT INTO quality_hold_lots (plant, lot, hold_id)
         SELECT $1, lot, $2 FROM unnest($3::text[]) AS lot ON CONFLICT DO NOTHING`,
        [hold.plant, hold.holdId, [...hold.lots]],
      );
    });
  }

  async get(holdId: string): Promise<QualityHoldRecord | undefined> {
    const { rows } = await this.db.query<Row>('SELECT * FROM quality_holds WHERE hold_id = $1', [holdId]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async blockingLots(plant: string, lots: readonly string[]): Promise<QualityHoldRecord[]> {
    if (lots.length === 0) return [];
    const { rows } = await this.db.query<Row>(
      `SELECT h.* FROM quality_holds h
       WHERE h.status <> 'released' AND EXISTS (
         SELECT 1 FROM quality_hold_lots l WHERE l.hold_id = h.hold_id AND l.plant = $1 AND l.lot = ANY($2::text[]))
       ORDER BY h.hold_id COLLATE "C"`,
      [plant, [...lots]],
    );
    return rows.map(fromRow);
  }

  async list(filter: QualityHoldFilter, after: string, limit: number): Promise<QualityHoldRecord[]> {
    const params: unknown[] = [after];
    // Byte order (COLLATE "C"), as SQLite compares, so a cursor means the same on both stores.
    const where = ['hold_id COLLATE "C" > $1'];
    if (filter.plant !== undefined) {
      params.push(filter.plant);
      where.push(`plant = $${params.length}`);
    }
    if (filter.status !== undefined) {
      params.push(filter.status);
      where.push(`status = $${params.length}`);
    }
    if (filter.plants !== undefined) {
      params.push([...filter.plants]);
      where.push(`plant = ANY($${params.length}::text[])`);
    }
    params.push(limit);
    const { rows } = await this.db.query<Row>(
      `SELECT * FROM quality_holds WHERE ${where.join(' AND ')} ORDER BY hold_id COLLATE "C" LIMIT $${params.length}`,
      params,
    );
    return rows.map(fromRow);
  }
}
