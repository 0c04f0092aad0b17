import { type HubClient, HubClientClosedError } from './hub-client.js';
import { FINISHED_GOODS, runPrefix, UNKNOWN_MATERIAL } from './master-data.js';
import { Ticker } from './ticker.js';

export { UNKNOWN_MATERIAL } from './master-data.js';

/** The demo's routings: two operations per material, each consuming one BOM component (per unit made). */
const ROUTINGS: Readonly<
  Record<
    string,
    ReadonlyArray<{ operation: string; workCenter: string; component: string; quantity: number; uom: string }>
  >
> = {
  'FG-1000': [
    { operation: '0010', workCenter: 'PRESS', component: 'CMP-STEEL-COIL', quantity: 2.5, uom: 'KGM' },
    { operation: '0020', workCenter: 'ASSY', component: 'CMP-BOLT-M8', quantity: 8, uom: 'EA' },
  ],
  'FG-2000': [
    { operation: '0010', workCenter: 'PRESS', component: 'CMP-STEEL-COIL', quantity: 1.2, uom: 'KGM' },
    { operation: '0020', workCenter: 'ASSY', component: 'CMP-PCB-CTRL', quantity: 1, uom: 'EA' },
  ],
  'FG-3000': [
    { operation: '0010', workCenter: 'MOLD', component: 'CMP-RESIN-PA66', quantity: 0.4, uom: 'KGM' },
    { operation: '0020', workCenter: 'ASSY', component: 'CMP-CABLE-3G', quantity: 1.5, uom: 'MTR' },
  ],
  // Routed so the hub releases it: it is the MES that does not know it, which makes dead letters.
  [UNKNOWN_MATERIAL]: [
    { operation: '0010', workCenter: 'PRESS', component: 'CMP-STEEL-COIL', quantity: 3, uom: 'KGM' },
    { operation: '0020', workCenter: 'ASSY', component: 'CMP-BOLT-M8', quantity: 4, uom: 'EA' },
  ],
};

/**
 * The routings CSV (`referenceData.routings`) the demo's hub enriches released orders from: for each
 * plant, FG-1000/2000/3000 and FG-9999, two operations each at the plant's work centers, each with
 * one BOM component and its quantity per unit.
 */
export function demoRoutings(plants: readonly string[]): string {
  const rows = ['plant,material,operation,workCenter,component,componentQuantity,uom'];
  for (const plant of plants) {
    for (const [material, steps] of Object.entries(ROUTINGS)) {
      for (const s of steps) {
        rows.push(
          [plant, material, s.operation, `${plant}-WC-${s.workCenter}`, s.component, s.quantity, s.uom].join(
            ',',
          ),
        );
      }
    }
  }
  return `${rows.join('\n')}\n`;
}

const REFUSALS = new Set([400, 409, 422]);

/**
 * Simulated ERP: releases production orders for its plants at a steady rate through
 * `POST /v1/production-orders/{orderId}/release`; the hub adds routing and BOM. Every 25th order is
 * for {@link UNKNOWN_MATERIAL}. Owns its hub client: close() closes it.
 */
export class SimulatedErp {
  released = 0;
  /** Refused by the hub (422 unknown routing or validation, 400, 409). */
  refused = 0;
  failed = 0;
  private readonly ticker: Ticker;
  private orderNumber = 0;
  private readonly prefix = runPrefix();

  constructor(
    private readonly hub: HubClient,
    private readonly plants: readonly string[],
    ordersPerSecond: number,
  ) {
    this.ticker = new Ticker(1000 / ordersPerSecond, () => this.releaseOne(), 64);
  }

  start(): void {
    this.ticker.start();
  }

  stop(): void {
    this.ticker.stop();
  }

  idle(): Promise<void> {
    return this.ticker.drain();
  }

  statusLine(): string {
    return `orders released ${this.released} · refused ${this.refused} · failed ${this.failed}`;
  }

  async releaseOne(): Promise<void> {
    const n = ++this.orderNumber;
    const plant = this.plants[n % this.plants.length] as string;
    const orderId = `PO-${this.prefix}-${String(n).padStart(6, '0')}`;
    const now = new Date();
    const order = {
      plant,
      material: n % 25 === 0 ? UNKNOWN_MATERIAL : FINISHED_GOODS[n % FINISHED_GOODS.length],
      quantity: { value: 100 + (n % 5) * 50, uom: 'EA' },
      dueDate: new Date(now.getTime() + 2 * 86_400_000).toISOString(),
    };
    try {
      const response = await this.hub.command(
        'POST',
        `/v1/production-orders/${encodeURIComponent(orderId)}/release`,
        order,
        { idempotencyKey: `release-${orderId}` },
      );
      if (response.status === 202) this.released++;
      else if (REFUSALS.has(response.status)) this.refused++;
      else this.failed++;
    } catch (error) {
      if (!(error instanceof HubClientClosedError)) this.failed++;
    }
  }

  async close(): Promise<void> {
    this.stop();
    await this.hub.close();
    await this.ticker.drain();
  }
}
