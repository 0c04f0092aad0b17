import type { ClientRecord, ClientRepository, RateLimit } from '../port.js';
import type { Queryable } from './pg-database.js';

interface ClientRow {
  name: string;
  key_prefix: string;
  key_hash: string;
  scopes: string[];
  plants: string[] | null;
  created_at: number;
  revoked_at: number | null;
  rate_limit: RateLimit | null;
  supplier_id: string | null;
}

function fromRow(row: ClientRow): ClientRecord {
  return {
    name: row.name,
    keyPrefix: row.key_prefix,
    keyHash: row.key_hash,
    scopes: row.scopes,
    plants: row.plants,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    rateLimit: row.rate_limit,
    supplierId: row.supplier_id,
  };
}

const json = (value: unknown): string | null => (value === null ? null : JSON.stringify(value));

export class PgClients implements ClientRepository {
  constructor(private readonly db: Queryable) {}

  async upsert(client: ClientRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO clients (name, key_prefix, key_hash, scopes, plants, created_at, revoked_at, rate_limit, supplier_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (name) DO UPDATE SET key_prefix = excluded.key_prefix, key_hash = excluded.key_hash,
         scopes = excluded.scopes, plants = excluded.plants, created_at = excluded.created_at,
         revoked_at = excluded.revoked_at, rate_limit = excluded.rate_limit, supplier_id = excluded.supplier_id`,
      [
        client.name,
        client.keyPrefix,
        client.keyHash,
        JSON.stringify(client.scopes),
        json(client.plants),
        client.createdAt,
        client.revokedAt,
        json(client.rateLimit),
        client.supplierId,
      ],
    );
  }

  async findByPrefix(prefix: string): Promise<ClientRecord[]> {
    const { rows } = await this.db.query<ClientRow>('SELECT * FROM clients WHERE key_prefix = $1', [prefix]);
    return rows.map(fromRow);
  }

  async get(name: string): Promise<ClientRecord | undefined> {
    const { rows } = await this.db.query<ClientRow>('SELECT * FROM clients WHERE name = $1', [name]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async list(): Promise<ClientRecord[]> {
    const { rows } = await this.db.query<ClientRow>('SELECT * FROM clients ORDER BY name COLLATE "C"');
    return rows.map(fromRow);
  }

  async revoke(name: string, at: number): Promise<boolean> {
    const result = await this.db.query(
      'UPDATE clients SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL',
      [at, name],
    );
    return (result.rowCount ?? 0) > 0;
  }
}
