import type {
  AuditRepository,
  ClientRepository,
  DeadLetterRepository,
  IdempotencyRepository,
  LeaseRepository,
  LogBindingRepository,
  MilestoneRepository,
  QualityHoldRepository,
  SchemaRepository,
  SourceDeadLetterRepository,
  StateStore,
  SupplierRepository,
} from '../port.js';
import { migrate } from './migrations.js';
import { PgAudit } from './pg-audit.js';
import { PgClients } from './pg-clients.js';
import { PgDatabase } from './pg-database.js';
import { PgDeadLetters } from './pg-dead-letters.js';
import { PgHolds } from './pg-holds.js';
import { PgIdempotency } from './pg-idempotency.js';
import { PgLeases } from './pg-leases.js';
import { PgLogBinding } from './pg-log-binding.js';
import { PgMilestones } from './pg-milestones.js';
import { PgSchemas } from './pg-schemas.js';
import { PgSourceDeadLetters } from './pg-source-dead-letters.js';
import { PgSuppliers } from './pg-suppliers.js';

export interface PostgresStateStoreOptions {
  /** A `postgres://` connection URL. */
  readonly url: string;
  /**
   * Connections the pool may open.
   * @default 10
   */
  readonly poolSize?: number;
  /**
   * Longest a statement may run before the call fails with `StoreUnavailableError`; a server that
   * stops answering is given one second more.
   * @default 5000
   */
  readonly statementTimeoutMs?: number;
}

/**
 * The state store on a PostgreSQL server, for hubs that share their state or run without local
 * disks. Several hubs may open the same database at once; migrations serialise on an advisory lock.
 * Calls fail with `StoreUnavailableError` while the server cannot be reached.
 */
export class PostgresStateStore implements StateStore {
  readonly kind = 'postgres';
  readonly clients: ClientRepository;
  readonly deadLetters: DeadLetterRepository;
  readonly audit: AuditRepository;
  readonly schemas: SchemaRepository;
  readonly idempotency: IdempotencyRepository;
  readonly holds: QualityHoldRepository;
  readonly suppliers: SupplierRepository;
  readonly sourceDeadLetters: SourceDeadLetterRepository;
  readonly leases: LeaseRepository;
  readonly milestones: MilestoneRepository;
  readonly logBinding: LogBindingRepository;
  private readonly db: PgDatabase;

  private constructor(db: PgDatabase) {
    this.db = db;
    this.clients = new PgClients(db);
    this.deadLetters = new PgDeadLetters(db);
    this.audit = new PgAudit(db);
    this.schemas = new PgSchemas(db);
    this.idempotency = new PgIdempotency(db);
    this.holds = new PgHolds(db);
    this.suppliers = new PgSuppliers(db);
    this.sourceDeadLetters = new PgSourceDeadLetters(db);
    this.leases = new PgLeases(db);
    this.milestones = new PgMilestones(db);
    this.logBinding = new PgLogBinding(db);
  }

  /** Connects, brings the schema up to date, and returns the store. */
  static async open(options: PostgresStateStoreOptions): Promise<PostgresStateStore> {
    const db = new PgDatabase(options.url, {
      ...(options.poolSize === undefined ? {} : { max: options.poolSize }),
      ...(options.statementTimeoutMs === undefined ? {} : { statementTimeoutMs: options.statementTimeoutMs }),
    });
    try {
      await migrate(db);
    } catch (error) {
      await db.close();
      throw error;
    }
    return new PostgresStateStore(db);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
