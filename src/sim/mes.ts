import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HubClient } from './hub-client.js';

interface ReleasedOrder {
  id: string;
  data: {
    orderId: string;
    plant: string;
    quantity: { value: number; uom: string };
    routing?: Array<{ operation: string; workCenter: string }>;
  };
}

/**
 * Simulated MES: a real HTTP endpoint that receives released orders and, after a short
 * processing delay, reports each routing operation completed back to the hub. Deliveries are
 * de-duplicated by event id, as any receiver of an at-least-once stream should.
 */
export class SimulatedMes {
  received = 0;
  duplicates = 0;
  completionsReported = 0;
  private readonly seen = new Set<string>();
  private readonly server: Server;
  private readonly timers = new Set<NodeJS.Timeout>();
  url = '';

  constructor(
    private readonly hub: HubClient,
    private readonly delayMs = 300,
  ) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReleasedOrder;
          res.writeHead(204).end();
          this.onOrder(event);
        } catch {
          res.writeHead(400).end();
        }
      });
    });
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
      void this.reportCompletions(event);
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
      if ((await this.hub.publish(events)) === 202) this.completionsReported += events.length;
    } catch {
      // The hub is stopping; the demo is ending.
    }
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
