import { type HubClient, HubClientClosedError } from './hub-client.js';
import { FINISHED_GOODS, LOT_PERIOD_MS, lotFor, lotNumberAt, runPrefix } from './master-data.js';
import { Ticker } from './ticker.js';

export type Disposition = 'use-as-is' | 'rework' | 'scrap' | 'return-to-supplier';

export interface QmsOptions {
  readonly plants: readonly string[];
  /** Materials whose lots are held. @default FINISHED_GOODS (what the warehouse ships) */
  readonly materials?: readonly string[];
  /** One new hold every `holdIntervalMs`. @default 20_000 */
  readonly holdIntervalMs?: number;
  /** How long after its hold a disposition is decided, in ms. @default { min: 8_000, max: 15_000 } */
  readonly dispositionDelayMs?: { readonly min: number; readonly max: number };
  /** Lot period shared with the warehouse (see master-data). @default LOT_PERIOD_MS */
  readonly lotPeriodMs?: number;
  readonly random?: () => number;
  readonly now?: () => number;
}

const REASONS = [
  'SPC: torque out of control limits',
  'Customer complaint: surface scratches',
  'Dimensional check failed at final inspection',
  'Supplier material certificate missing',
];

/** Mostly use-as-is or rework, sometimes scrap, rarely back to the supplier. */
export function pickDisposition(r: number): Disposition {
  if (r < 0.5) return 'use-as-is';
  if (r < 0.8) return 'rework';
  if (r < 0.95) return 'scrap';
  return 'return-to-supplier';
}

/**
 * Simulated QMS: now and then places a quality hold on a lot the warehouse is shipping (named with
 * the shared lot helper), and some seconds later decides its disposition. While a hold is active
 * the hub refuses shipment confirmations of that lot. Owns its hub client: close() closes it.
 */
export class SimulatedQms {
  holdsPlaced = 0;
  holdsFailed = 0;
  dispositionsDecided = 0;
  dispositionsFailed = 0;
  readonly byDisposition: Record<Disposition, number> = {
    'use-as-is': 0,
    rework: 0,
    scrap: 0,
    'return-to-supplier': 0,
  };
  private readonly ticker: Ticker;
  private readonly pending = new Set<NodeJS.Timeout>();
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly prefix: string;
  private holdNumber = 0;
  private stopped = false;

  constructor(
    private readonly hub: HubClient,
    private readonly options: QmsOptions,
  ) {
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.prefix = runPrefix(this.now());
    this.ticker = new Ticker(options.holdIntervalMs ?? 20_000, () => this.placeHold());
  }

  start(): void {
    this.stopped = false;
    this.ticker.start();
  }

  /** Stops placing holds and drops the dispositions not yet decided. */
  stop(): void {
    this.stopped = true;
    this.ticker.stop();
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }

  /** Holds waiting for their disposition. */
  get pendingDispositions(): number {
    return this.pending.size;
  }

  /** Resolves once the holds and dispositions under way have been answered. */
  idle(): Promise<void> {
    return this.ticker.drain();
  }

  statusLine(): string {
    return `holds placed ${this.holdsPlaced} · dispositions ${this.dispositionsDecided} (scrap ${this.byDisposition.scrap})`;
  }

  /** Places one hold; resolves with its id once the hub accepted it, and schedules its disposition. */
  async placeHold(): Promise<string | undefined> {
    const n = ++this.holdNumber;
    const { plants } = this.options;
    const materials = this.options.materials ?? FINISHED_GOODS;
    const plant = plants[Math.floor(this.random() * plants.length)] as string;
    const material = materials[Math.floor(this.random() * materials.length)] as string;
    const now = this.now();
    const period = lotNumberAt(now, this.options.lotPeriodMs ?? LOT_PERIOD_MS);
    // The warehouse ships mostly the current lot and sometimes the previous one; hold the same way.
    const lot = lotFor(plant, material, this.random() < 0.7 ? period : period - 1);
    const holdId = `QH-${this.prefix}-${String(n).padStart(5, '0')}`;
    const reason = REASONS[Math.floor(this.random() * REASONS.length)] as string;
    try {
      const response = await this.hub.command(
        'POST',
        '/v1/quality/holds',
        { holdId, plant, material, lots: [lot], reason, placedAt: new Date(now).toISOString() },
        { idempotencyKey: `hold-${holdId}` },
      );
      if (response.status !== 202) {
        this.holdsFailed++;
        return undefined;
      }
      this.holdsPlaced++;
      const accepted = (response.body as { holdId?: unknown } | undefined)?.holdId;
      const id = typeof accepted === 'string' ? accepted : holdId;
      this.scheduleDisposition(id);
      return id;
    } catch (error) {
      if (!(error instanceof HubClientClosedError)) this.holdsFailed++;
      return undefined;
    }
  }

  /** Decides a hold's disposition now (a random one unless given). */
  async decide(holdId: string, disposition = pickDisposition(this.random())): Promise<void> {
    try {
      const response = await this.hub.command(
        'POST',
        `/v1/quality/holds/${encodeURIComponent(holdId)}/disposition`,
        { disposition, decidedAt: new Date(this.now()).toISOString() },
        { idempotencyKey: `disposition-${holdId}` },
      );
      if (response.status === 202) {
        this.dispositionsDecided++;
        this.byDisposition[disposition]++;
      } else this.dispositionsFailed++;
    } catch (error) {
      if (!(error instanceof HubClientClosedError)) this.dispositionsFailed++;
    }
  }

  private scheduleDisposition(holdId: string): void {
    if (this.stopped) return;
    const { min, max } = this.options.dispositionDelayMs ?? { min: 8_000, max: 15_000 };
    const timer = setTimeout(
      () => {
        this.pending.delete(timer);
        void this.ticker.track(this.decide(holdId));
      },
      min + this.random() * Math.max(0, max - min),
    );
    timer.unref();
    this.pending.add(timer);
  }

  async close(): Promise<void> {
    this.stop();
    await this.hub.close();
    await this.ticker.drain();
  }
}
