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

/**
 * The hub's state besides the event log (clients, and later registry, DLQ, audit...).
 * Every backend (embedded SQLite, PostgreSQL) implements this port.
 */
export interface StateStore {
  readonly kind: string;
  readonly clients: ClientRepository;
  close(): Promise<void>;
}
