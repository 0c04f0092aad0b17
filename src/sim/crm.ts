import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface AlertEvent {
  id: string;
  type: string;
  data?: { milestoneId?: string; name?: string; correlation?: string };
}

/**
 * Simulated CRM: a webhook that customer service watches. It receives the hub's milestone alerts
 * (`conveyor.milestone.late`, `.cleared`, `.met`) and keeps the late milestones not yet cleared as
 * open cases. Deliveries are de-duplicated by event id, as any receiver of an at-least-once stream
 * should be.
 */
export class SimulatedCrm {
  raised = 0;
  cleared = 0;
  duplicates = 0;
  url = '';
  /** Open cases: milestone id → what customer service sees. */
  readonly openCases = new Map<string, { name: string; correlation: string }>();
  private readonly seen = new Set<string>();
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let event: AlertEvent;
        try {
          event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertEvent;
        } catch {
          res.writeHead(400).end();
          return;
        }
        res.writeHead(204).end();
        this.onAlert(event);
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/alerts`;
    return this.url;
  }

  statusLine(): string {
    return `CRM alerts ${this.raised} raised, ${this.cleared} cleared, ${this.openCases.size} open`;
  }

  private onAlert(event: AlertEvent): void {
    if (this.seen.has(event.id)) {
      this.duplicates++;
      return;
    }
    this.seen.add(event.id);
    const id = event.data?.milestoneId;
    if (!id) return;
    if (event.type === 'conveyor.milestone.late') {
      this.raised++;
      this.openCases.set(id, { name: event.data?.name ?? '', correlation: event.data?.correlation ?? '' });
    } else if (event.type === 'conveyor.milestone.cleared') {
      this.cleared++;
      this.openCases.delete(id);
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
