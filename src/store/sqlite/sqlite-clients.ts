import type Database from 'better-sqlite3';
import type { ClientRecord, ClientRepository, RateLimit } from '../port.js';

interface ClientRow {
  name: string;
  key_prefix: string;
  key_hash: string;
  scopes: string;
  plants: string | null;
  created_at: number;
  revoked_at: number | null;
  rate_limit: string | null;
  supplier_id: string | null;
}

function fromRow(row: ClientRow): ClientRecord {
  return {
    name: row.name,
    keyPrefix: row.key_prefix,
    keyHash: row.key_hash,
    scopes: JSON.parse(row.scopes) as string[],
    plants: row.plants === null ? null : (JSON.parse(row.plants) as string[]),
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    rateLimit: row.rate_limit === null ? null : (JSON.parse(row.rate_limit) as RateLimit),
    supplierId: row.supplier_id,
  };
}

export class SqliteClients implements ClientRepository {
  private readonly upsertStmt: Database.Statement;
  private readonly byPrefix: Database.Statement;
  private readonly byName: Database.Statement;
  private readonly all: Database.Statement;
  private readonly revokeStmt: Database.Statement;

  constructor(db: Database.Database) {
    this.upsertStmt =
      db.prepare(`INSERT INTO clients (name, key_prefix, key_hash, scopes, plants, created_at, revoked_at, rate_limit, supplier_id)
      VALUES (@name, @keyPrefix, @keyHash, @scopes, @plants, @createdAt, @revokedAt, @rateLimit, @supplierId)
      ON CONFLICT (name) DO UPDATE SET key_prefix = excluded.key_prefix, key_hash = excluded.key_hash,
        scopes = excluded.scopes, plants = excluded.plants, created_at = excluded.created_at, revoked_at = excluded.revoked_at,
        rate_limit = excluded.rate_limit, supplier_id = excluded.supplier_id`);
    this.byPrefix = db.prepare('SELECT * FROM clients WHERE key_prefix = ?');
    this.byName = db.prepare('SELECT * FROM clients WHERE name = ?');
    this.all = db.prepare('SELECT * FROM clients ORDER BY name');
    this.revokeStmt = db.prepare('UPDATE clients SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL');
  }

  async upsert(client: ClientRecord): Promise<void> {
    this.upsertStmt.run({
      ...client,
      scopes: JSON.stringify(client.scopes),
      plants: client.plants === null ? null : JSON.stringify(client.plants),
      rateLimit: client.rateLimit === null ? null : JSON.stringify(client.rateLimit),
    });
  }

  async findByPrefix(prefix: string): Promise<ClientRecord[]> {
    return (this.byPrefix.all(prefix) as ClientRow[]).map(fromRow);
  }

  async get(name: string): Promise<ClientRecord | undefined> {
    const row = this.byName.get(name) as ClientRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  async list(): Promise<ClientRecord[]> {
    return (this.all.all() as ClientRow[]).map(fromRow);
  }

  async revoke(name: string, at: number): Promise<boolean> {
    return this.revokeStmt.run(at, name).changes > 0;
  }
}
