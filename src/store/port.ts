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
  /** Requests per second and burst this client may send; `null`: no per-client limit. */
  readonly rateLimit: RateLimit | null;
  /** Set for a supplier's credential: it may act only on this supplier's ASNs. */
  readonly supplierId: string | null;
}

export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
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
  /** Every entry (any status) of these event ids, oldest first. */
  forEvents(eventIds: readonly string[]): Promise<DeadLetterRecord[]>;
}

/** A record of who did what, when, with which outcome. */
export interface AuditEntry {
  readonly at: number;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly outcome: string;
  /** The address the request came from, when it came over the API. */
  readonly ip?: string;
  readonly detail?: Record<string, unknown>;
}

export interface AuditFilter {
  readonly actor?: string;
  readonly action?: string;
  readonly outcome?: string;
  readonly target?: string;
  readonly since?: number;
  readonly until?: number;
}

export interface AuditRepository {
  record(entry: AuditEntry): Promise<void>;
  list(filter: AuditFilter, after: number, limit: number): Promise<Array<AuditEntry & { position: number }>>;
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

/** A stored answer to a request sent with an `Idempotency-Key`, or the claim of one still running. */
export interface IdempotencyRecord {
  readonly client: string;
  readonly key: string;
  /** SHA-256 of method, path and body: the same key with another request is refused. */
  readonly fingerprint: string;
  readonly state: 'in-progress' | 'done';
  readonly status: number | null;
  readonly headers: Readonly<Record<string, string>> | null;
  readonly body: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** The hub process that claimed it; null for a claim made without one. */
  readonly owner: IdempotencyOwner | null;
}

/**
 * The hub process running a claimed request. The instance is alive while its heartbeat lease
 * (`instance:<id>`, see {@link instanceLeaseName}) has not lapsed; a restarted instance keeps its id
 * but not its boot, so it knows its own claims from before the restart for dead.
 */
export interface IdempotencyOwner {
  readonly instance: string;
  /** One per process start. */
  readonly boot: string;
}

export type IdempotencyClaim =
  | { readonly claimed: true }
  | {
      readonly claimed: false;
      readonly existing: IdempotencyRecord;
      /**
       * Milliseconds (by the store's clock) until the heartbeat lease of the existing claim's owner
       * lapses unless renewed; null when it has no owner or the owner holds no lease.
       */
      readonly ownerLeaseMs: number | null;
    };

export interface IdempotencyRepository {
  /**
   * Atomically claims (client, key) for a request about to run; of several racing claims exactly
   * one wins. When a live record exists it is returned instead. Replaced by the new claim: an
   * expired record, and an in-progress claim whose request died with its process: one older than
   * `staleBefore`, one whose owner instance has no live heartbeat lease, and one by the claimant's
   * own instance in an earlier boot.
   */
  claim(
    claim: {
      client: string;
      key: string;
      fingerprint: string;
      createdAt: number;
      expiresAt: number;
      owner?: IdempotencyOwner;
    },
    staleBefore: number,
  ): Promise<IdempotencyClaim>;
  /** Stores the final response of a claimed request. */
  complete(
    client: string,
    key: string,
    response: { status: number; headers: Record<string, string>; body: string },
  ): Promise<void>;
  /** Forgets an in-progress claim whose request is not to be remembered (it failed). */
  release(client: string, key: string): Promise<void>;
  /** Deletes records that expired before `now`; returns how many. */
  purgeExpired(now: number): Promise<number>;
}

export type QualityHoldStatus = 'active' | 'released' | 'dispositioned';

/** A quality hold as the hub tracks it to enforce shipment blocks. */
export interface QualityHoldRecord {
  readonly holdId: string;
  readonly plant: string;
  readonly material: string;
  readonly lots: readonly string[];
  readonly reason: string;
  readonly placedAt: string;
  /** `active` blocks its lots; `released` lifts it; `dispositioned` (scrap, return) keeps the lots unshippable. */
  readonly status: QualityHoldStatus;
  readonly disposition: string | null;
  readonly updatedAt: number;
}

export interface QualityHoldRepository {
  /** Inserts or replaces the hold. */
  put(hold: QualityHoldRecord): Promise<void>;
  get(holdId: string): Promise<QualityHoldRecord | undefined>;
  /** Holds of that plant that block shipping any of the lots (status other than released). */
  blockingLots(plant: string, lots: readonly string[]): Promise<QualityHoldRecord[]>;
  /** Holds matching the filter whose id sorts after `after` (byte order; '' from the start), by id. */
  list(filter: QualityHoldFilter, after: string, limit: number): Promise<QualityHoldRecord[]>;
}

export interface QualityHoldFilter {
  readonly plant?: string;
  readonly status?: QualityHoldStatus;
  /** Only holds of one of these plants (a plant-bound client's). */
  readonly plants?: readonly string[];
}

/** A supplier the hub has onboarded. */
export interface SupplierRecord {
  readonly supplierId: string;
  readonly name: string;
  readonly plants: readonly string[];
  readonly createdAt: number;
  readonly createdBy: string;
}

export interface SupplierRepository {
  /** Inserts the supplier; false when one with that id exists. */
  add(supplier: SupplierRecord): Promise<boolean>;
  get(supplierId: string): Promise<SupplierRecord | undefined>;
  list(): Promise<SupplierRecord[]>;
}

/** A native message a source connector could not turn into valid canonical events, kept with its raw bytes. */
export interface SourceDeadLetter {
  readonly position: number;
  readonly connector: string;
  readonly messageId: string;
  /** Where it came from: topic, file and line, node id. */
  readonly origin: string;
  readonly plant: string | null;
  /** Why: the decode, mapping or validation errors. */
  readonly error: string;
  readonly raw: Uint8Array;
  readonly at: number;
}

export interface SourceDeadLetterRepository {
  add(entry: Omit<SourceDeadLetter, 'position'>): Promise<void>;
  /** Entries with position > `after`, oldest first; `plants` keeps only those plants' (and plant-less ones out). */
  list(
    filter: { connector?: string; plants?: readonly string[] },
    after: number,
    limit: number,
  ): Promise<SourceDeadLetter[]>;
}

/** A lease on a piece of work that one hub instance at a time may do (a route, a timer, retention). */
export interface LeaseRecord {
  readonly name: string;
  readonly holder: string;
  /** When it lapses unless renewed, by the store's clock (ms since the epoch). */
  readonly expiresAt: number;
}

/** Lease names of the hub instances' heartbeats start with this. */
export const INSTANCE_LEASE_PREFIX = 'instance:';

/** The heartbeat lease a hub instance holds while it runs. */
export function instanceLeaseName(instanceId: string): string {
  return `${INSTANCE_LEASE_PREFIX}${instanceId}`;
}

export interface LeaseRepository {
  /**
   * Takes the lease on `name` for `holder`, or renews it when `holder` already has it, until
   * `ttlMs` from now by the store's clock. False when another holder has a lease that has not lapsed.
   */
  acquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up at once, when `holder` has it. */
  release(name: string, holder: string): Promise<void>;
  /** Leases that have not lapsed whose name starts with `prefix`. */
  live(prefix: string): Promise<LeaseRecord[]>;
}

export type MilestoneStatus = 'open' | 'late' | 'met';

/** A log event a milestone started or ended on. */
export interface MilestoneEventRef {
  readonly id: string;
  readonly type: string;
  readonly sequence: number;
  /** The event's own `time` (RFC 3339). */
  readonly time: string;
}

/** One business milestone: a start event, an SLA, and the end that meets it. */
export interface MilestoneRecord {
  /** Derived from name and correlation, so every hub instance names it alike. */
  readonly id: string;
  /** Position in the milestone list, for paging; fixed when the milestone is first recorded. */
  readonly position: number;
  readonly name: string;
  readonly correlation: string;
  readonly plant: string | null;
  readonly startEvent: MilestoneEventRef;
  readonly startedAt: number;
  readonly dueAt: number;
  /** `late` can still become `met`; `lateAt` stays set. */
  readonly status: MilestoneStatus;
  readonly lateAt: number | null;
  readonly metAt: number | null;
  readonly endEvent: MilestoneEventRef | null;
  /** Which alert events were raised for it. */
  readonly alerted: { readonly late: boolean; readonly cleared: boolean; readonly met: boolean };
}

/** What a milestone's start brings: everything but its state. */
export interface MilestoneStart {
  readonly id: string;
  readonly name: string;
  readonly correlation: string;
  readonly plant: string | null;
  readonly startEvent: MilestoneEventRef;
  readonly startedAt: number;
  readonly dueAt: number;
}

export interface MilestoneFilter {
  readonly status?: MilestoneStatus;
  readonly name?: string;
  readonly plant?: string;
  /** Only milestones of these plants (a plant-bound client). */
  readonly plants?: readonly string[];
}

/** One start or end to apply to the milestones (see `MilestoneRepository.open` and `end`). */
export type MilestoneChange =
  | {
      readonly kind: 'open';
      readonly start: MilestoneStart;
      readonly now: number;
      readonly endMustFollowStart: boolean;
    }
  | {
      readonly kind: 'end';
      readonly id: string;
      readonly ref: { readonly name: string; readonly correlation: string; readonly plant: string | null };
      readonly endEvent: MilestoneEventRef;
      readonly at: number;
      readonly endMustFollowStart: boolean;
    };

/** What a change did: the milestone as it stands after an open, the outcome of an end. */
export type MilestoneChangeResult = MilestoneRecord | 'met' | 'early' | 'ignored';

export interface MilestoneCount {
  readonly name: string;
  readonly plant: string | null;
  readonly status: MilestoneStatus;
  readonly count: number;
}

/**
 * Milestones, shared by the hub instances: one instance opens them and finds them late, any
 * instance may end them (a delivery ends a milestone where the route runs). Every change is one
 * atomic step, so an end and a late mark racing each other leave a consistent record.
 */
export interface MilestoneRepository {
  /**
   * Records a started milestone and returns it as it stands. Starting one that exists changes
   * nothing. An end recorded before its start (`end` found no milestone) meets it at once, at
   * `now`, unless `endMustFollowStart` and that end came earlier in the log than the start.
   */
  open(start: MilestoneStart, now: number, endMustFollowStart: boolean): Promise<MilestoneRecord>;
  /**
   * Ends an open or late milestone (`met`). Without a started milestone the end is kept (the
   * latest one by sequence) for a start that arrives later (`early`); a met milestone, or an end
   * earlier in the log than the start when `endMustFollowStart`, changes nothing (`ignored`).
   */
  end(
    id: string,
    ref: { readonly name: string; readonly correlation: string; readonly plant: string | null },
    endEvent: MilestoneEventRef,
    at: number,
    endMustFollowStart: boolean,
  ): Promise<'met' | 'early' | 'ignored'>;
  /**
   * Applies many opens and ends, in order, as one atomic step (one transaction, one commit):
   * the way the tracker and the delivery ends write, so the bookkeeping of a whole batch of
   * events costs one durable write. Results are in the order of `changes`.
   */
  applyAll(changes: readonly MilestoneChange[]): Promise<MilestoneChangeResult[]>;
  /** Marks open milestones due at or before `now` late (at most `limit`); returns those it marked. */
  markLate(now: number, limit: number): Promise<MilestoneRecord[]>;
  /**
   * Milestones with an alert to raise, oldest first: late and not yet alerted; met after a late
   * alert and not yet cleared; and, when `met` is asked for, met and not yet announced.
   */
  pendingAlerts(options: { readonly met: boolean }, limit: number): Promise<MilestoneRecord[]>;
  /** Records that an alert event was raised (or is not to be). */
  setAlerted(id: string, kinds: ReadonlyArray<'late' | 'cleared' | 'met'>): Promise<void>;
  get(id: string): Promise<MilestoneRecord | undefined>;
  /** Started milestones matching the filter with position > `after`, in position order. */
  list(filter: MilestoneFilter, after: number, limit: number): Promise<MilestoneRecord[]>;
  /** Started milestones counted by name, plant and status (only those plants' when `plants` is given). */
  counts(plants?: readonly string[]): Promise<MilestoneCount[]>;
  /** Deletes met milestones met before `before`, and early ends kept since before it; returns how many. */
  purge(before: number): Promise<number>;
}

/**
 * What ties the store to its event log: the log's identity, recorded at the first start, and the
 * log sequences the store refers to (dead letters, met milestones), which must lie within the log.
 */
export interface LogBindingRepository {
  /** The identity of the log this store belongs to; null before the first start binds one. */
  identity(): Promise<string | null>;
  /** Records `id` unless an identity is recorded; resolves to the one recorded now. */
  claimIdentity(id: string): Promise<string>;
  /** The highest log sequence a dead letter or milestone refers to; 0 when none does. */
  highestSequence(): Promise<number>;
  /** Whether the store holds anything derived from a log (dead letters, milestones, quality holds). */
  holdsLogState(): Promise<boolean>;
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
  readonly idempotency: IdempotencyRepository;
  readonly holds: QualityHoldRepository;
  readonly suppliers: SupplierRepository;
  readonly sourceDeadLetters: SourceDeadLetterRepository;
  readonly leases: LeaseRepository;
  readonly milestones: MilestoneRepository;
  readonly logBinding: LogBindingRepository;
  close(): Promise<void>;
}
