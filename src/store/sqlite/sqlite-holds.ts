import type Database from 'better-sqlite3';
import type {
  QualityHoldFilter,
  QualityHoldRecord,
  QualityHoldRepository,
  QualityHoldStatus,
} from '../port.js';

interface Row {
  hold_id: string;
  plant: string;
  material: string;
  lots: string;
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
    lots: JSON.parse(row.lots) as string[],
    reason: row.reason,
    placedAt: row.placed_at,
    status: row.status,
    disposition: row.disposition,
    updatedAt: row.updated_at,
  };
}

/** Quality holds with a (plant, lot) index, so a shipment's lots are checked with one lookup each. */
export class SqliteHolds implements QualityHoldRepository {
  private readonly putTx: (hold: QualityHoldRecord) => void;
  private readonly byId: Database.Statement;
  private readonly byLot: Database.Statement;

  constructor(private readonly db: Database.Database) {
    const upsert = db.prepare(
      `INSERT OR REPLACE INTO quality_holds (hold_id, plant, material, lots, reason, placed_at, status, disposition, updated_at)
       VALUES (@holdId, @plant, @material, @lots, @reason, @placedAt, @status, @disposition, @updatedAt)`,
    );
    const dropLots = db.prepare('DELETE FROM quality_hold_lots WHERE hold_id = ?');
    const addLot = db.prepare(
      'INSERT OR IGNORE INTO quality_hold_lots (plant, lot, hold_id) VALUES (?, ?, ?)',
    );
    this.putTx = db.transaction((hold: QualityHoldRecord) => {
      dropLots.run(hold.holdId);
      upsert.run({ ...hold, lots: JSON.stringify(hold.lots) });
      for (const lot of hold.lots) addLot.run(hold.plant, lot, hold.holdId);
    });
    this.byId = db.prepare('SELECT * FROM quality_holds WHERE hold_id = ?');
    this.byLot = db.prepare(
      `SELECT h.* FROM quality_hold_lots l JOIN quality_holds h ON h.hold_id = l.hold_id
       WHERE l.plant = ? AND l.lot = ? AND h.status <> 'released'`,
    );
  }

  async put(hold: QualityHoldRecord): Promise<void> {
    this.putTx(hold);
  }

  async get(holdId: string): Promise<QualityHoldRecord | undefined> {
    const row = this.byId.get(holdId) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async blockingLots(plant: string, lots: readonly string[]): Promise<QualityHoldRecord[]> {
    const found = new Map<string, QualityHoldRecord>();
    for (const lot of new Set(lots)) {
      for (const row of this.byLot.all(plant, lot) as Row[]) found.set(row.hold_id, fromRow(row));
    }
    return [...found.values()];
  }

  async list(filter: QualityHoldFilter, after: string, limit: number): Promise<QualityHoldRecord[]> {
    const where = ['hold_id > ?'];
    const params: unknown[] = [after];
    if (filter.plant !== undefined) {
      where.push('plant = ?');
      params.push(filter.plant);
    }
    if (filter.status !== undefined) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.plants !== undefined) {
      if (filter.plants.length === 0) return [];
      where.push(`plant IN (${filter.plants.map(() => '?').join(', ')})`);
      params.push(...filter.plants);
    }
    const rows = this.db
      .prepare(`SELECT * FROM quality_holds WHERE ${where.join(' AND ')} ORDER BY hold_id LIMIT ?`)
      .all(...params, limit) as Row[];
    return rows.map(fromRow);
  }
}
