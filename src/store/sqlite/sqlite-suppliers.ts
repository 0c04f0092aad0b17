import type Database from 'better-sqlite3';
import type { SupplierRecord, SupplierRepository } from '../port.js';

interface Row {
  supplier_id: string;
  name: string;
  plants: string;
  created_at: number;
  created_by: string;
}

function fromRow(row: Row): SupplierRecord {
  return {
    supplierId: row.supplier_id,
    name: row.name,
    plants: JSON.parse(row.plants) as string[],
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

export class SqliteSuppliers implements SupplierRepository {
  private readonly insert: Database.Statement;
  private readonly byId: Database.Statement;
  private readonly all: Database.Statement;

  constructor(db: Database.Database) {
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO suppliers (supplier_id, name, plants, created_at, created_by)
       VALUES (@supplierId, @name, @plants, @createdAt, @createdBy)`,
    );
    this.byId = db.prepare('SELECT * FROM suppliers WHERE supplier_id = ?');
    this.all = db.prepare('SELECT * FROM suppliers ORDER BY supplier_id');
  }

  async add(supplier: SupplierRecord): Promise<boolean> {
    return this.insert.run({ ...supplier, plants: JSON.stringify(supplier.plants) }).changes > 0;
  }

  async get(supplierId: string): Promise<SupplierRecord | undefined> {
    const row = this.byId.get(supplierId) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async list(): Promise<SupplierRecord[]> {
    return (this.all.all() as Row[]).map(fromRow);
  }
}
