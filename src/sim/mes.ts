import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type HubClient, HubClientClosedError } from './hub-client.js';
import { lotFor, lotNumberAt } from './master-data.js';

/** How the simulated MES misbehaves, so retries, circuits and dead letters show in the demo. */
export interface MesFaults {
  /** Share of deliveries answered 503 at random. @default 0 */
  readonly randomFailureRate?: number;
  /** Every `periodMs` the MES is down (503) for `downMs`. */
  readonly outage?: { readonly periodMs: number; readonly downMs: number };
  /** Materials the MES refuses with 422 (the order can never be scheduled). */
  readonly unknownMaterials?: readonly string[];
}

interface ReleasedOrder {
  id: string;
  data: {
    orderId: string;
    plant: string;
    material?: string;
    quantity: { value: number; uom: string };
    routing?: Array<{ operation: string; workCenter: string }>;
    bom?: Array<{ material: string; quantity: { value: number; uom: string } }>;
  };
}

/**
 * Simulated MES: a real HTTP endpoint that receives released orders and, after a short
 * processing delay, reports each routing operation completed back to the hub. Deliveries are
 * de-duplicated by event id, as any receiver of an at-least-once stream should.
 */
export class SimulatedMes {
  received = 0;
  refused = 0;
  failed = 0;
  duplicates = 0;
  completionsReported = 0;
  consumptionsReported = 0;
  consumptionsFailed = 0;
  private readonly seen = new Set<string>();
  private readonly server: Server;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly reporting = new Set<Promise<void>>();
  url = '';

  private readonly started = Date.now();

  constructor(
    private readonly hub: HubClient,
    private readonly delayMs = 300,
    private readonly faults: MesFaults = {},
  ) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let event: ReleasedOrder;
        try {
          event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReleasedOrder;
        } catch {
          res.writeHead(400).end();
          return;
        }
        if (this.isDown() || Math.random() < (this.faults.randomFailureRate ?? 0)) {
          this.failed++;
          res
            .writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' })
            .end('{"error":"scheduler busy"}');
          return;
        }
        if (event.data.material && this.faults.unknownMaterials?.includes(event.data.material)) {
          this.refused++;
          res
            .writeHead(422, { 'content-type': 'application/json' })
            .end(`{"error":"unknown material ${event.data.material}"}`);
          return;
        }
        res.writeHead(204).end();
        this.onOrder(event);
      });
    });
  }

  /** Inside a scheduled outage window. */
  isDown(): boolean {
    const outage = this.faults.outage;
    if (!outage) return false;
    return (Date.now() - this.started) % outage.periodMs >= outage.periodMs - outage.downMs;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/events`;
    return this.url;
  }

  private onOrder(event: ReleasedOrder): void {
    this.received++;
    if (this.seen.has(event.id)) {
      this.duplicates++;
      return;
    }
    this.seen.add(event.id);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const reporting: Promise<void> = this.reportCompletions(event).finally(() =>
        this.reporting.delete(reporting),
      );
      this.reporting.add(reporting);
    }, this.delayMs);
    this.timers.add(timer);
  }

  private async reportCompletions(order: ReleasedOrder): Promise<void> {
    const { orderId, plant, quantity } = order.data;
    const operations = order.data.routing ?? [{ operation: '0010', workCenter: `${plant}-WC` }];
    const events = operations.map((op) => ({
      specversion: '1.0',
      id: randomUUID(),
      source: `/plants/${plant}/mes`,
      type: 'production.operation.completed',
      time: new Date().toISOString(),
      subject: orderId,
      plant,
      datacontenttype: 'application/json',
      data: {
        orderId,
        plant,
        operation: op.operation,
        workCenter: op.workCenter,
        quantityGood: { value: quantity.value, uom: quantity.uom },
        completedAt: new Date().toISOString(),
      },
    }));
    try {
      if ((await this.hub.publish(events)) !== 202) return;
      this.completionsReported += events.length;
    } catch {
      // The hub is stopping; the demo is ending.
      return;
    }
    await this.reportConsumption(order);
  }

  /** Posts the material the completed order consumed: its first BOM component, from the current lot. */
  private async reportConsumption(order: ReleasedOrder): Promise<void> {
    const { orderId, plant } = order.data;
    const component = order.data.bom?.[0];
    const material = component?.material ?? order.data.material;
    if (!material) return;
    const consumedAt = new Date();
    try {
      const response = await this.hub.command(
        'POST',
        '/v1/material-consumptions',
        {
          orderId,
          plant,
          material,
          quantity: component?.quantity ?? order.data.quantity,
          consumedAt: consumedAt.toISOString(),
          lot: lotFor(plant, material, lotNumberAt(consumedAt.getTime())),
        },
        { idempotencyKey: `consume-${orderId}` },
      );
      if (response.status === 202) this.consumptionsReported++;
      else this.consumptionsFailed++;
    } catch (error) {
      // A closed client means the demo is ending; anything else is a failure to report.
      if (!(error instanceof HubClientClosedError)) this.consumptionsFailed++;
    }
  }

  /** Resolves once the reports under way (completions, consumption) have been answered. */
  async idle(): Promise<void> {
    while (this.reporting.size > 0) await Promise.all([...this.reporting]);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
