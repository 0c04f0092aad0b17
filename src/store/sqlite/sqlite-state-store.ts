import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type {
  ClientRepository,
  IdempotencyRepository,
  LeaseRepository,
  MilestoneRepository,
  QualityHoldRepository,
  SchemaRepository,
  StateStore,
  SupplierRepository,
} from '../port.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteAudit } from './sqlite-audit.js';
import { SqliteClients } from './sqlite-clients.js';
import { SqliteDeadLetters } from './sqlite-dead-letters.js';
import { SqliteHolds } from './sqlite-holds.js';
import { SqliteIdempotency } from './sqlite-idempotency.js';
import { SqliteLeases } from './sqlite-leases.js';
import { SqliteMilestones } from './sqlite-milestones.js';
import { SqliteSchemas } from './sqlite-schemas.js';
import { SqliteSourceDeadLetters } from './sqlite-source-dead-letters.js';
import { SqliteSuppliers } from './sqlite-suppliers.js';

/** Applies pending migrations in order inside one transaction; `user_version` records progress. */
function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  db.transaction(() => {
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v] as string);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  })();
}

/**
 * The embedded state store: one SQLite file, WAL, full sync (state changes must stick). The
 * frequent writes (milestones, audit rows, dead letters) are grouped, many per transaction, so
 * their syncs do not grow with the request or delivery rate.
 */
export class SqliteStateStore implements StateStore {
  readonly kind = 'sqlite';
  readonly clients: ClientRepository;
  readonly deadLetters: SqliteDeadLetters;
  readonly audit: SqliteAudit;
  readonly schemas: SchemaRepository;
  readonly idempotency: IdempotencyRepository;
  readonly holds: QualityHoldRepository;
  readonly suppliers: SupplierRepository;
  readonly sourceDeadLetters: SqliteSourceDeadLetters;
  readonly leases: LeaseRepository;
  readonly milestones: MilestoneRepository;
  private readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
    this.clients = new SqliteClients(db);
    this.deadLetters = new SqliteDeadLetters(db);
    this.audit = new SqliteAudit(db);
    this.schemas = new SqliteSchemas(db);
    this.idempotency = new SqliteIdempotency(db);
    this.holds = new SqliteHolds(db);
    this.suppliers = new SqliteSuppliers(db);
    this.sourceDeadLetters = new SqliteSourceDeadLetters(db);
    this.leases = new SqliteLeases(db);
    this.milestones = new SqliteMilestones(db);
  }

  static open(path: string): SqliteStateStore {
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return new SqliteStateStore(db);
  }

  async close(): Promise<void> {
    // Writes still queued for their group commit go in before the file closes.
    this.audit.records.flush();
    this.deadLetters.adds.flush();
    this.sourceDeadLetters.adds.flush();
    this.db.close();
  }
}
