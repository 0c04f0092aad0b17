import Database from 'better-sqlite3';
import { DataFileError, describeCause, prepareWritableFile } from '../../util/data-files.js';
import { headerFault, startupFaults } from '../../util/sqlite-integrity.js';
import type {
  ClientRepository,
  IdempotencyRepository,
  LeaseRepository,
  LogBindingRepository,
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
import { SqliteLogBinding } from './sqlite-log-binding.js';
import { SqliteMilestones } from './sqlite-milestones.js';
import { SqliteSchemas } from './sqlite-schemas.js';
import { SqliteSourceDeadLetters } from './sqlite-source-dead-letters.js';
import { SqliteSuppliers } from './sqlite-suppliers.js';
import { StateWriter } from './state-writer.js';

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
 * frequent writes (milestones, audit rows, dead letters) are grouped, many per transaction, and
 * committed by a writer thread, so their syncs neither grow with the request or delivery rate nor
 * stop the event loop.
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
  readonly logBinding: LogBindingRepository;
  /** Commits the frequent writes (milestones, audit rows, dead letters, leases) on its own thread. */
  readonly writer: StateWriter;
  private readonly db: Database.Database;

  private constructor(db: Database.Database, writer: StateWriter) {
    this.db = db;
    this.writer = writer;
    this.clients = new SqliteClients(db);
    this.deadLetters = new SqliteDeadLetters(db, writer);
    this.audit = new SqliteAudit(db, writer);
    this.schemas = new SqliteSchemas(db);
    this.idempotency = new SqliteIdempotency(db);
    this.holds = new SqliteHolds(db);
    this.suppliers = new SqliteSuppliers(db);
    this.sourceDeadLetters = new SqliteSourceDeadLetters(db, writer);
    this.leases = new SqliteLeases(db, writer);
    this.milestones = new SqliteMilestones(db, writer);
    this.logBinding = new SqliteLogBinding(db);
  }

  /** Opens (creating if needed) the store at `path`, after a bounded integrity check of the file. */
  static open(path: string): SqliteStateStore {
    prepareWritableFile(path, 'the state store');
    const damaged = (why: string, cause?: unknown) =>
      new DataFileError(
        path,
        `the state store ${path} is damaged: ${why}. The hub will not start on it: restore ${path} (and its -wal file) from a backup; \`conveyor doctor\` lists every fault it finds.`,
        { cause },
      );
    const fault = headerFault(path);
    if (fault !== null) throw damaged(fault);
    let db: Database.Database | undefined;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      const faults = startupFaults(db);
      if (faults.length > 0) throw damaged(`its integrity check failed: ${faults.slice(0, 3).join('; ')}`);
      migrate(db);
      // The writer opens its own connection once the schema is in place.
      return new SqliteStateStore(db, StateWriter.onThread(path));
    } catch (error) {
      db?.close();
      if (error instanceof DataFileError) throw error;
      const code = (error as { code?: string }).code;
      if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') throw damaged(describeCause(error), error);
      throw new DataFileError(path, `cannot open the state store ${path}: ${describeCause(error)}`, {
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    // Writes still queued for their group commit go in before the file closes.
    await this.writer.close();
    this.db.close();
  }
}
