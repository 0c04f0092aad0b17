import type { StoredEvent } from '../model/envelope.js';

/** A client of the API: who it is, what it may do, which plants it may touch. */
export interface ClientRecord {
  readonly name: string;
  /** First characters of the key, stored in clear for lookup. */
  readonly keyPrefix: string;
  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  readonly keyHash: string;
  readonly scopes: readonly string[];
  /** `null`: every plant. */
  readonly plants: readonly string[] | null;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** Clients and their keys. */
export interface ClientRepository {
  /** Inserts or replaces the client of that name (a new key revokes the old one). */
  upsert(client: ClientRecord): Promise<void>;
  findByPrefix(prefix: string): Promise<ClientRecord[]>;
  get(name: string): Promise<ClientRecord | undefined>;
  list(): Promise<ClientRecord[]>;
  revoke(name: string, at: number): Promise<boolean>;
}

export type DeadLetterStatus = 'open' | 'replaying' | 'replayed' | 'discarded';

/** One delivery attempt, as kept with a dead letter. */
export interface AttemptRecord {
  readonly at: string;
  readonly status?: number;
  readonly error?: string;
  readonly ms: number;
}

/** An event a route could not deliver, with every attempt and the reason it was given up. */
export interface DeadLetterRecord {
  readonly id: string;
  /** Position in the DLQ, for paging. */
  readonly position: number;
  readonly route: string;
  /** `rejected` (non-retryable answer), `max-attempts` or `max-age`. */
  readonly reason: string;
  readonly event: StoredEvent;
  readonly attempts: readonly AttemptRecord[];
  readonly at: number;
  readonly status: DeadLetterStatus;
  readonly updatedAt: number;
  readonly updatedBy: string | null;
}

export interface DeadLetterFilter {
  readonly route?: string;
  readonly type?: string;
  readonly reason?: string;
  readonly status?: DeadLetterStatus;
  /** Only entries whose event belongs to one of these plants. */
  readonly plants?: readonly string[];
  readonly since?: number;
  readonly until?: number;
}

export interface DeadLetterRepository {
  add(entry: Omit<DeadLetterRecord, 'position' | 'updatedAt' | 'updatedBy'>): Promise<void>;
  get(id: string): Promise<DeadLetterRecord | undefined>;
  /** Entries matching the filter with position > `after`, oldest first. */
  list(filter: DeadLetterFilter, after: number, limit: number): Promise<DeadLetterRecord[]>;
  /** Sets status (and optionally replaces attempts); false when the entry does not exist. */
  update(
    id: string,
    change: { status: DeadLetterStatus; attempts?: readonly AttemptRecord[]; at: number; by: string | null },
  ): Promise<boolean>;
  /** Open entries per route. */
  openCounts(): Promise<Map<string, number>>;
}

/** A record of who did what, when, with which outcome. */
export interface AuditEntry {
  readonly at: number;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly outcome: string;
  readonly detail?: Record<string, unknown>;
}

export interface AuditRepository {
  record(entry: AuditEntry): Promise<void>;
  list(
    filter: { actor?: string; action?: string; since?: number },
    after: number,
    limit: number,
  ): Promise<Array<AuditEntry & { position: number }>>;
}

export type SchemaStatus = 'proposed' | 'approved' | 'deprecated' | 'retired';

/** One version of an event type's data schema. */
export interface SchemaVersionRecord {
  readonly type: string;
  readonly version: number;
  readonly status: SchemaStatus;
  readonly schema: object;
  readonly createdAt: number;
  readonly createdBy: string;
  readonly updatedAt: number;
  readonly updatedBy: string;
}

/** An event type in the catalog: who owns it and how its versions must relate. */
export interface SchemaTypeRecord {
  readonly type: string;
  readonly domain: string;
  readonly owner: string;
  readonly compatibility: string;
}

export interface SchemaRepository {
  types(): Promise<SchemaTypeRecord[]>;
  type(type: string): Promise<SchemaTypeRecord | undefined>;
  /** Inserts the type if missing (nothing changes when it exists). */
  ensureType(record: SchemaTypeRecord): Promise<void>;
  setCompatibility(type: string, compatibility: string): Promise<void>;
  /** Every version of every type, oldest first (the registry caches them). */
  allVersions(): Promise<SchemaVersionRecord[]>;
  versions(type: string): Promise<SchemaVersionRecord[]>;
  /** Adds the next version (1, 2, ...) and returns it. */
  addVersion(type: string, schema: object, status: SchemaStatus, by: string, at: number): Promise<number>;
  setStatus(type: string, version: number, status: SchemaStatus, by: string, at: number): Promise<boolean>;
}

/**
 * The hub's state besides the event log: clients, dead letters, the audit trail, the schema registry.
 * Every backend (embedded SQLite, PostgreSQL) implements this port.
 */
export interface StateStore {
  readonly kind: string;
  readonly clients: ClientRepository;
  readonly deadLetters: DeadLetterRepository;
  readonly audit: AuditRepository;
  readonly schemas: SchemaRepository;
  close(): Promise<void>;
}
