import type Database from 'better-sqlite3';
import type {
  AuditEntry,
  DeadLetterRecord,
  MilestoneChange,
  MilestoneChangeResult,
  SourceDeadLetter,
} from '../port.js';
import { milestoneChanges } from './sqlite-milestones.js';

export type NewDeadLetter = Omit<DeadLetterRecord, 'position' | 'updatedAt' | 'updatedBy'>;
export type NewSourceDeadLetter = Omit<SourceDeadLetter, 'position'>;

/** The frequent state writes, each the argument it takes and the result it gives. */
export interface StateWriteKinds {
  milestones: { arg: readonly MilestoneChange[]; result: MilestoneChangeResult[] };
  audit: { arg: AuditEntry; result: undefined };
  deadLetter: { arg: NewDeadLetter; result: undefined };
  sourceDeadLetter: { arg: NewSourceDeadLetter; result: undefined };
  /** Takes or renews a lease; `now` is the caller's clock, as the store's. */
  leaseAcquire: { arg: { name: string; holder: string; expiresAt: number; now: number }; result: boolean };
  leaseRelease: { arg: { name: string; holder: string }; result: undefined };
}

export type StateWriteKind = keyof StateWriteKinds;

export type StateWrites = {
  [K in StateWriteKind]: (arg: StateWriteKinds[K]['arg']) => StateWriteKinds[K]['result'];
};

/** One queued write as it crosses to the writer thread. */
export type StateWriteItem = { [K in StateWriteKind]: [K, StateWriteKinds[K]['arg']] }[StateWriteKind];

/** The outcome of one write: its result, or why it was refused. */
export type StateWriteOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly message: string; readonly code?: string };

/**
 * The statements behind each write, prepared on `db`. They run inside the caller's transaction:
 * the state writer commits a whole batch of them at once.
 */
export function stateWrites(db: Database.Database): StateWrites {
  const insertAudit = db.prepare(
    'INSERT INTO audit (at, actor, action, target, outcome, ip, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const insertDeadLetter =
    db.prepare(`INSERT INTO dead_letters (id, route, reason, event_type, plant, event, attempts, at, status, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertSourceDeadLetter = db.prepare(
    `INSERT INTO source_dead_letters (connector, message_id, origin, plant, error, raw, at)
       VALUES (@connector, @messageId, @origin, @plant, @error, @raw, @at)`,
  );
  const takeLease = db.prepare(
    `INSERT INTO leases (name, holder, expires_at) VALUES (@name, @holder, @expiresAt)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
     WHERE leases.holder = excluded.holder OR leases.expires_at <= @now`,
  );
  const dropLease = db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?');
  return {
    milestones: milestoneChanges(db),
    leaseAcquire: (lease) => takeLease.run(lease).changes > 0,
    leaseRelease: ({ name, holder }) => {
      dropLease.run(name, holder);
      return undefined;
    },
    audit: (entry) => {
      insertAudit.run(
        entry.at,
        entry.actor,
        entry.action,
        entry.target,
        entry.outcome,
        entry.ip ?? null,
        entry.detail ? JSON.stringify(entry.detail) : null,
      );
      return undefined;
    },
    deadLetter: (entry) => {
      insertDeadLetter.run(
        entry.id,
        entry.route,
        entry.reason,
        entry.event.type,
        entry.event.plant ?? null,
        JSON.stringify(entry.event),
        JSON.stringify(entry.attempts),
        entry.at,
        entry.status,
        entry.at,
      );
      return undefined;
    },
    sourceDeadLetter: (entry) => {
      insertSourceDeadLetter.run({ ...entry, raw: Buffer.from(entry.raw) });
      return undefined;
    },
  };
}

/**
 * Commits batches of writes on `db`: a batch runs in one transaction. When it fails, each item
 * runs again in a transaction of its own, so one bad write is refused alone and its neighbours
 * are kept.
 */
export function stateCommitter(
  db: Database.Database,
): (items: readonly StateWriteItem[]) => StateWriteOutcome[] {
  const writes = stateWrites(db);
  const run = (item: StateWriteItem): unknown => (writes[item[0]] as (arg: unknown) => unknown)(item[1]);
  const all = db.transaction((items: readonly StateWriteItem[]) => items.map(run));
  const one = db.transaction(run);
  // IMMEDIATE: the write lock is taken at BEGIN, waiting out the busy timeout. A deferred transaction
  // that reads first (milestone changes do) and then writes fails at once with SQLITE_BUSY when
  // another connection committed meanwhile, since its snapshot can no longer become a write.
  return (items) => {
    try {
      return all.immediate(items).map((value) => ({ ok: true as const, value }));
    } catch {
      return items.map((item) => {
        try {
          return { ok: true as const, value: one.immediate(item) };
        } catch (error) {
          const { message, code } = error as { message?: string; code?: string };
          return { ok: false as const, message: message ?? String(error), ...(code ? { code } : {}) };
        }
      });
    }
  };
}
