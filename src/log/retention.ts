import type { Logger } from '../observability/logger.js';
import type { EventLog } from './port.js';
import type { SqliteEventLog } from './sqlite/sqlite-event-log.js';

export interface RetentionPolicy {
  readonly maxAgeMs: number | null;
  readonly maxEvents: number | null;
  readonly checkEveryMs: number;
}

/**
 * Deletes events past the retention policy, a bounded chunk at a time so appends are never
 * held up for long. Consumers' positions are not waited for: retention is the operator's
 * promise of how long the log keeps history, as with any log-based broker.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly log: EventLog,
    private readonly policy: RetentionPolicy,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.policy.maxAgeMs === null && this.policy.maxEvents === null) return;
    this.timer = setInterval(() => void this.runOnce(), this.policy.checkEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The first sequence to keep under the policy. */
  async cutoff(): Promise<number> {
    let keepFrom = 0;
    if (this.policy.maxAgeMs !== null)
      keepFrom = await this.log.sequenceAt(this.now() - this.policy.maxAgeMs);
    if (this.policy.maxEvents !== null)
      keepFrom = Math.max(keepFrom, this.log.head() - this.policy.maxEvents + 1);
    return keepFrom;
  }

  /** Runs until nothing more is due (bounded to 200 chunks per run); returns how many events went. */
  async runOnce(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let total = 0;
    try {
      const before = await this.cutoff();
      const sqlite = this.log as Partial<SqliteEventLog>;
      if (before <= 1 || typeof sqlite.retain !== 'function') return 0;
      for (let chunk = 0; chunk < 200; chunk++) {
        const deleted = await sqlite.retain.call(this.log, before);
        total += deleted;
        if (deleted === 0) break;
      }
      if (total > 0) this.logger.info({ deleted: total, before }, 'retention removed events');
    } catch (error) {
      this.logger.error({ err: error }, 'retention failed');
    } finally {
      this.running = false;
    }
    return total;
  }
}
