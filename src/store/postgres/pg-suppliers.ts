import type { SupplierRecord, SupplierRepository } from '../port.js';
import type { Queryable } from './pg-database.js';

interface Row {
  supplier_id: string;
  name: string;
  plants: string[];
  created_at: number;
  created_by: string;
}

function fromRow(row: Row): SupplierRecord {
  return {
    supplierId: row.supplier_id,
    name: row.name,
    plants: row.plants,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

export class PgSuppliers implements SupplierRepository {
  constructor(private readonly db: Queryable) {}

  async add(supplier: SupplierRecord): Promise<boolean> {
    const result = await this.db.query(
      `INSERT INTO suppliers (supplier_id, name, plants, created_at, created_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (supplier_id) DO NOTHING`,
      [
        supplier.supplierId,
        supplier.name,
        JSON.stringify(supplier.plants),
        supplier.createdAt,
        supplier.createdBy,
      ],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async get(supplierId: string): Promise<SupplierRecord | undefined> {
    const { rows } = await this.db.query<Row>('SELECT * FROM suppliers WHERE supplier_id = $1', [supplierId]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async list(): Promise<SupplierRecord[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM suppliers ORDER BY supplier_id COLLATE "C"');
    return rows.map(fromRow);
  }
}
