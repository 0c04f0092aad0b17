import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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

/** How the ERP's postings endpoint misbehaves, so that some business milestones go late. */
export interface ErpPostingFaults {
  /** Every `periodMs` the endpoint answers 503 for `downMs` (a batch job locks the ledger). */
  readonly outage?: { readonly periodMs: number; readonly downMs: number };
  /** Share of postings answered only after `slowMs`. @default 0 */
  readonly slowRate?: number;
  /** @default 3000 */
  readonly slowMs?: number;
}

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
  /** Inventory and cost postings (consumptions, shipments, ASNs) the ERP booked, once each. */
  postingsBooked = 0;
  postingsRefused = 0;
  postingsUrl = '';
  private postings: Server | null = null;
  private readonly booked = new Set<string>();
  /** Booked event ids per order, for the query side (`GET /orders/{orderId}/postings`). */
  private readonly bookedByOrder = new Map<string, string[]>();
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

  /**
   * Starts the ERP's postings endpoint (`POST /postings`, one CloudEvent per request): it books
   * each event once (by id) and fails or stalls as `faults` say. Returns its URL.
   */
  async listenPostings(faults: ErpPostingFaults = {}): Promise<string> {
    const started = Date.now();
    const isDown = () =>
      faults.outage !== undefined &&
      (Date.now() - started) % faults.outage.periodMs >= faults.outage.periodMs - faults.outage.downMs;
    const server = createServer((req, res) => {
      // The query side reconciliation asks: which events of this order did the ERP book?
      const query = req.method === 'GET' ? /^\/orders\/([^/?]+)\/postings$/.exec(req.url ?? '') : null;
      if (query) {
        const events = this.bookedByOrder.get(decodeURIComponent(query[1] as string)) ?? [];
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ events }));
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let id: string;
        let order: string | null = null;
        try {
          const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            id: unknown;
            subject?: unknown;
            data?: { orderId?: unknown };
          };
          id = String(event.id);
          const orderId = event.data?.orderId ?? event.subject;
          if (typeof orderId === 'string') order = orderId;
        } catch {
          res.writeHead(400).end();
          return;
        }
        if (isDown()) {
          this.postingsRefused++;
          res
            .writeHead(503, { 'content-type': 'application/json', 'retry-after': '2' })
            .end('{"error":"period-end closing in progress"}');
          return;
        }
        const answer = () => {
          if (!this.booked.has(id)) {
            this.booked.add(id);
            this.postingsBooked++;
            if (order !== null) this.bookedByOrder.set(order, [...(this.bookedByOrder.get(order) ?? []), id]);
          }
          if (!res.destroyed) res.writeHead(204).end();
        };
        if (Math.random() < (faults.slowRate ?? 0)) setTimeout(answer, faults.slowMs ?? 3_000).unref();
        else answer();
      });
    });
    this.postings = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.postingsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/postings`;
    return this.postingsUrl;
  }

  async close(): Promise<void> {
    const postings = this.postings;
    if (postings) {
      postings.closeAllConnections();
      await new Promise<void>((resolve) => postings.close(() => resolve()));
    }
    this.stop();
    await this.hub.close();
    await this.ticker.drain();
  }
}
