import type { FastifyRequest } from 'fastify';
import type { AuditEntry, AuditRepository } from '../store/port.js';

/** Records what a request did, acting as its authenticated client, into the audit trail. */
export type RequestAudit = (
  request: FastifyRequest,
  action: string,
  target: string,
  outcome: string,
  detail?: Record<string, unknown>,
) => Promise<void>;

export function requestAudit(audit: AuditRepository, now: () => number = Date.now): RequestAudit {
  return (request, action, target, outcome, detail) =>
    audit.record({
      at: now(),
      actor: request.principal?.client ?? 'anonymous',
      action,
      target,
      outcome,
      ip: request.ip,
      ...(detail ? { detail } : {}),
    });
}

/** One kind of refused credential from one address, counted over an interval. */
interface DenialTally {
  readonly address: string;
  readonly reason: string;
  /** The first refused request of the interval, `<METHOD> <path>`. */
  readonly target: string;
  count: number;
  readonly from: number;
  to: number;
}

export interface DenialAuditOptions {
  /** How often the counts are written to the audit trail. @default 10000 */
  readonly everyMs?: number;
  /** Distinct (address, reason) pairs counted at once; beyond, they are counted together. @default 10000 */
  readonly maxKeys?: number;
  readonly now?: () => number;
  /** Told when a write of the counts fails (they are kept for the next one). */
  readonly onError?: (error: unknown) => void;
}

/** Stands for every address past `maxKeys` in one interval. */
const OTHER_ADDRESSES = '(other addresses)';

/**
 * Refused credentials (401 answers) on the audit trail without a durable write per request: a
 * flood of bad keys would otherwise be a disk-write amplifier. Denials are counted per source
 * address and reason, and each interval's counts become one `auth.denied` row per pair, with
 * `{address, reason, status, count, from, to}`. A crash loses at most the counts of the
 * interval under way; reading the trail (`flush`) first writes what has been counted.
 */
export class DenialAudit {
  private tallies = new Map<string, DenialTally>();
  private readonly everyMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly audit: AuditRepository,
    private readonly options: DenialAuditOptions = {},
  ) {
    this.everyMs = options.everyMs ?? 10_000;
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Counts one refused request; nothing is written now. */
  note(denial: { address: string; reason: string; target: string }): void {
    let address = denial.address;
    let key = `${address}\u0000${denial.reason}`;
    if (!this.tallies.has(key) && this.tallies.size >= this.maxKeys) {
      address = OTHER_ADDRESSES;
      key = `${address}\u0000${denial.reason}`;
    }
    const at = this.now();
    const tally = this.tallies.get(key);
    if (tally) {
      tally.count++;
      tally.to = at;
    } else {
      this.tallies.set(key, {
        address,
        reason: denial.reason,
        target: denial.target,
        count: 1,
        from: at,
        to: at,
      });
    }
    if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush().catch((error: unknown) => this.options.onError?.(error));
      }, this.everyMs);
      // A pending count must not keep a stopping process alive; close() writes it.
      this.timer.unref();
    }
  }

  /** Writes the counts so far (one row per address and reason) and starts a new interval. */
  flush(): Promise<void> {
    const tallies = [...this.tallies.values()];
    this.tallies = new Map();
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const write = this.writing.then(async () => {
      try {
        await Promise.all(tallies.map((t) => this.audit.record(denialEntry(t))));
      } catch (error) {
        // Kept for the next write: a failed write must not lose the counts.
        for (const t of tallies) this.restore(t);
        throw error;
      }
    });
    this.writing = write.catch(() => undefined);
    return write;
  }

  /** Writes what is counted; call before the store closes. */
  close(): Promise<void> {
    return this.flush();
  }

  private restore(tally: DenialTally): void {
    const key = `${tally.address}\u0000${tally.reason}`;
    const current = this.tallies.get(key);
    if (!current) this.tallies.set(key, tally);
    else this.tallies.set(key, { ...tally, count: tally.count + current.count, to: current.to });
  }
}

function denialEntry(t: DenialTally): AuditEntry {
  return {
    at: t.to,
    actor: 'anonymous',
    action: 'auth.denied',
    target: t.target,
    outcome: 'denied',
    ...(t.address === OTHER_ADDRESSES ? {} : { ip: t.address }),
    detail: {
      address: t.address,
      reason: t.reason,
      status: 401,
      count: t.count,
      from: new Date(t.from).toISOString(),
      to: new Date(t.to).toISOString(),
    },
  };
}
