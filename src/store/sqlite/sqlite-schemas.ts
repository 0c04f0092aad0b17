import type Database from 'better-sqlite3';
import type { SchemaRepository, SchemaStatus, SchemaTypeRecord, SchemaVersionRecord } from '../port.js';

interface VersionRow {
  type: string;
  version: number;
  status: SchemaStatus;
  schema: string;
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
    schema: JSON.parse(row.schema) as object,
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

export class SqliteSchemas implements SchemaRepository {
  constructor(private readonly db: Database.Database) {}

  async types(): Promise<SchemaTypeRecord[]> {
    return this.db
      .prepare('SELECT type, domain, owner, compatibility FROM schema_types ORDER BY type')
      .all() as SchemaTypeRecord[];
  }

  async type(type: string): Promise<SchemaTypeRecord | undefined> {
    return this.db
      .prepare('SELECT type, domain, owner, compatibility FROM schema_types WHERE type = ?')
      .get(type) as SchemaTypeRecord | undefined;
  }

  async ensureType(record: SchemaTypeRecord): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO schema_types (type, domain, owner, compatibility) VALUES (?, ?, ?, ?) ON CONFLICT (type) DO NOTHING',
      )
      .run(record.type, record.domain, record.owner, record.compatibility);
  }

  async setCompatibility(type: string, compatibility: string): Promise<void> {
    this.db.prepare('UPDATE schema_types SET compatibility = ? WHERE type = ?').run(compatibility, type);
  }

  async allVersions(): Promise<SchemaVersionRecord[]> {
    return (
      this.db.prepare('SELECT * FROM schema_versions ORDER BY type, version').all() as VersionRow[]
    ).map(fromRow);
  }

  async versions(type: string): Promise<SchemaVersionRecord[]> {
    return (
      this.db
        .prepare('SELECT * FROM schema_versions WHERE type = ? ORDER BY version')
        .all(type) as VersionRow[]
    ).map(fromRow);
  }

  async addVersion(
    type: string,
    schema: object,
    status: SchemaStatus,
    by: string,
    at: number,
  ): Promise<number> {
    // Read and insert in one transaction so two proposals cannot take the same number.
    return this.db.transaction(() => {
      const row = this.db
        .prepare('SELECT max(version) AS v FROM schema_versions WHERE type = ?')
        .get(type) as { v: number | null };
      const version = (row.v ?? 0) + 1;
      this.db
        .prepare(
          'INSERT INTO schema_versions (type, version, status, schema, created_at, created_by, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(type, version, status, JSON.stringify(schema), at, by, at, by);
      return version;
    })();
  }

  async setStatus(
    type: string,
    version: number,
    status: SchemaStatus,
    by: string,
    at: number,
  ): Promise<boolean> {
    return (
      this.db
        .prepare(
          'UPDATE schema_versions SET status = ?, updated_at = ?, updated_by = ? WHERE type = ? AND version = ?',
        )
        .run(status, at, by, type, version).changes > 0
    );
  }
}
