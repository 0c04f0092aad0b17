import { randomUUID } from 'node:crypto';
import type { HubClient } from './hub-client.js';

const MATERIALS = ['FG-1000', 'FG-2000', 'FG-3000'];
/** A material MES does not know: every 25th order carries it, and MES refuses it (a dead letter). */
export const UNKNOWN_MATERIAL = 'FG-9999';

/** Simulated ERP: releases production orders for its plants at a steady rate. */
export class SimulatedErp {
  released = 0;
  failed = 0;
  private timer: NodeJS.Timeout | null = null;
  private orderNumber = 0;
  private readonly prefix = Date.now().toString(36).toUpperCase();

  constructor(
    private readonly hub: HubClient,
    private readonly plants: readonly string[],
    private readonly ordersPerSecond: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.releaseOne(), Math.max(5, 1000 / this.ordersPerSecond));
  }

  async releaseOne(): Promise<void> {
    const n = ++this.orderNumber;
    const plant = this.plants[n % this.plants.length] as string;
    const orderId = `PO-${this.prefix}-${String(n).padStart(6, '0')}`;
    const now = new Date();
    const event = {
      specversion: '1.0',
      id: randomUUID(),
      source: '/erp/sap-s4',
      type: 'production.order.released',
      time: now.toISOString(),
      subject: orderId,
      plant,
      datacontenttype: 'application/json',
      data: {
        orderId,
        plant,
        material: n % 25 === 0 ? UNKNOWN_MATERIAL : MATERIALS[n % MATERIALS.length],
        quantity: { value: 100 + (n % 5) * 50, uom: 'EA' },
        dueDate: new Date(now.getTime() + 2 * 86_400_000).toISOString(),
        routing: [
          { operation: '0010', workCenter: `${plant}-WC-PRESS` },
          { operation: '0020', workCenter: `${plant}-WC-ASSY` },
        ],
      },
    };
    try {
      const status = await this.hub.publish([event]);
      if (status === 202) this.released++;
      else this.failed++;
    } catch {
      this.failed++;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
