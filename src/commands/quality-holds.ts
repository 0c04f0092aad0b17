import type { Consumer, EventLog } from '../log/port.js';
import type { StoredEvent } from '../model/envelope.js';
import type { QualityHoldRecord, QualityHoldRepository } from '../store/port.js';

export const HOLD_EVENT_TYPES = [
  'quality.hold.placed',
  'quality.hold.released',
  'quality.disposition.decided',
] as const;

/** Dispositions after which the held lots may ship (the others scrap or return them). */
const RELEASING_DISPOSITIONS = new Set(['use-as-is', 'rework']);

const CONSUMER = 'projection.quality-holds';
const PAGE = 500;

/**
 * The quality holds the shipment rule needs, kept from the log: every hold placed, released or
 * dispositioned, whether through a command or published by a QMS on `/v1/events`. It is caught
 * up on demand, so a confirmation sees every hold appended before it (read-your-writes), and its
 * position is a durable log consumer, so a restart resumes rather than re-reading the log.
 * Applying an event twice gives the same state, which makes the at-least-once resume safe.
 */
export class QualityHoldProjection {
  private consumer: Consumer | null = null;
  private position = 0;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: EventLog,
    private readonly holds: QualityHoldRepository,
    private readonly now: () => number = Date.now,
  ) {}

  async open(): Promise<void> {
    this.consumer = await this.log.consume(CONSUMER, { types: [...HOLD_EVENT_TYPES] }, { startAt: 0 });
    this.position = this.consumer.committed();
    await this.catchUp();
  }

  /** Applies every hold event up to the log's head (as of the call). Calls are serialised. */
  catchUp(): Promise<void> {
    const target = this.log.head();
    const run = this.running.then(() => this.applyUpTo(target));
    this.running = run.catch(() => undefined);
    return run;
  }

  private async applyUpTo(target: number): Promise<void> {
    while (this.position < target) {
      const events = await this.log.read({ types: [...HOLD_EVENT_TYPES], after: this.position, limit: PAGE });
      for (const event of events) await this.apply(event);
      const last = events[events.length - 1];
      if (events.length < PAGE || !last) {
        // Nothing more matches up to the head: the position can move past the events of other types.
        this.position = Math.max(this.position, last?.sequence ?? 0, target);
        break;
      }
      this.position = last.sequence;
    }
    if (this.consumer && this.position > this.consumer.committed()) await this.consumer.commit(this.position);
  }

  private async apply(event: StoredEvent): Promise<void> {
    const data = event.data as Record<string, unknown> | undefined;
    const holdId = typeof data?.holdId === 'string' ? data.holdId : undefined;
    if (!data || !holdId) return;
    const plant = String(data.plant ?? event.plant ?? '');
    const hold = await this.holds.get(holdId);
    // A hold belongs to the plant that placed it: events naming another plant never touch it.
    if (hold && hold.plant !== plant) return;
    if (event.type === 'quality.hold.placed') {
      await this.holds.put({
        holdId,
        plant,
        material: String(data.material ?? ''),
        lots: Array.isArray(data.lots) ? data.lots.map(String) : [],
        reason: String(data.reason ?? ''),
        placedAt: String(data.placedAt ?? event.time ?? ''),
        status: 'active',
        disposition: null,
        updatedAt: this.now(),
      });
      return;
    }
    if (!hold) return; // placed before the log's retention window: nothing to lift
    let next: QualityHoldRecord;
    if (event.type === 'quality.hold.released') {
      next = { ...hold, status: 'released', updatedAt: this.now() };
    } else {
      const disposition = String(data.disposition ?? '');
      next = {
        ...hold,
        disposition,
        status: RELEASING_DISPOSITIONS.has(disposition) ? 'released' : 'dispositioned',
        updatedAt: this.now(),
      };
    }
    await this.holds.put(next);
  }

  close(): void {
    this.consumer?.close();
  }
}
