import type { SchemaRepository, SchemaStatus, SchemaTypeRecord, SchemaVersionRecord } from '../port.js';
import type { PgDatabase } from './pg-database.js';

interface VersionRow {
  type: string;
  version: number;
  status: SchemaStatus;
  schema: object;
  created_at: number;
  created_by: string;
  updated_at: number;
  updated_by: string;
}

function fromRow(row: VersionRow): SchemaVersionRecord {
  return {
    type: row.type,
    version: row.version,
    status: row.status,
    schema: row.schema,
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

export class PgSchemas implements SchemaRepository {
  constructor(private readonly db: PgDatabase) {}

  async types(): Promise<SchemaTypeRecord[]> {
    const { rows } = await this.db.query<SchemaTypeRecord>(
      'SELECT type, domain, owner, compatibility FROM schema_types ORDER BY type COLLATE "C"',
    );
    return rows;
  }

  async type(type: string): Promise<SchemaTypeRecord | undefined> {
    const { rows } = await this.db.query<SchemaTypeRecord>(
      'SELECT type, domain, owner, compatibility FROM schema_types WHERE type = $1',
      [type],
    );
    return rows[0];
  }

  async ensureType(record: SchemaTypeRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO schema_types (type, domain, owner, compatibility) VALUES ($1, $2, $3, $4)
       ON CONFLICT (type) DO NOTHING`,
      [record.type, record.domain, record.owner, record.compatibility],
    );
  }

  async setCompatibility(type: string, compatibility: string): Promise<void> {
    await this.db.query('UPDATE schema_types SET compatibility = $1 WHERE type = $2', [compatibility, type]);
  }

  async allVersions(): Promise<SchemaVersionRecord[]> {
    const { rows } = await this.db.query<VersionRow>(
      'SELECT * FROM schema_versions ORDER BY type COLLATE "C", version',
    );
    return rows.map(fromRow);
  }

  async versions(type: string): Promise<SchemaVersionRecord[]> {
    const { rows } = await this.db.query<VersionRow>(
      'SELECT * FROM schema_versions WHERE type = $1 ORDER BY version',
      [type],
    );
    return rows.map(fromRow);
  }

  async addVersion(
    type: string,
    schema: object,
    status: SchemaStatus,
    by: string,
    at: number,
  ): Promise<number> {
    // The type's row is locked first, so two proposals for one type take their numbers in turn.
    return this.db.transaction(async (tx) => {
      const locked = await tx.query('SELECT 1 FROM schema_types WHERE type = $1 FOR UPDATE', [type]);
      if (locked.rowCount === 0) throw new Error(`unknown event type ${type}: ensureType it first`);
      const { rows } = await tx.query<{ version: number }>(
        `INSERT INTO schema_versions (type, version, status, schema, created_at, created_by, updated_at, updated_by)
         SELECT $1, COALESCE(max(version), 0) + 1, $2, $3, $4, $5, $4, $5 FROM schema_versions WHERE type = $1
         RETURNING version`,
        [type, status, JSON.stringify(schema), at, by],
      );
      return rows[0]!.version;
    });
  }

  async setStatus(
    type: string,
    version: number,
    status: SchemaStatus,
    by: string,
    at: number,
  ): Promise<boolean> {
    const result = await this.db.query(
      'UPDATE schema_versions SET status = $1, updated_at = $2, updated_by = $3 WHERE type = $4 AND version = $5',
      [status, at, by, type, version],
    );
    return (result.rowCount ?? 0) > 0;
  }
}
