import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { encodePayload, type SparkplugMetric } from '../connectors/mqtt/sparkplug/codec.js';
import { formatTopic } from '../connectors/mqtt/sparkplug/topic.js';

/** An MQTT broker inside the demo process (aedes), on 127.0.0.1, so the demo needs nothing installed. */
export class EmbeddedBroker {
  url = '';
  private broker: Aedes | null = null;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  async listen(port = 0): Promise<string> {
    this.broker = await Aedes.createBroker();
    const broker = this.broker;
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      broker.handle(socket);
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.broker ? this.broker.close(() => resolve()) : resolve()));
  }
}

const STATES = ['running', 'running', 'running', 'idle', 'setup', 'down'] as const;

/**
 * A packaging line's Sparkplug B edge node: it announces itself (NBIRTH with bdSeq and the metrics
 * with aliases), then reports its counters and state by alias in NDATA every `intervalMs`, with
 * `seq` counting 0..255, and answers a rebirth request (NCMD Node Control/Rebirth) with a new birth.
 * Its last will is the NDEATH the broker publishes if it drops off.
 */
export class SimulatedLine {
  published = 0;
  private client: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private bdSeq = 0;
  private good = 0;
  private scrap = 0;
  private state: (typeof STATES)[number] = 'running';

  constructor(
    private readonly brokerUrl: string,
    private readonly options: { groupId: string; edgeNodeId: string; intervalMs?: number },
  ) {}

  private topic(messageType: 'NBIRTH' | 'NDATA' | 'NDEATH' | 'NCMD'): string {
    return formatTopic({
      kind: 'node',
      groupId: this.options.groupId,
      messageType,
      edgeNodeId: this.options.edgeNodeId,
    } as Parameters<typeof formatTopic>[0]);
  }

  async start(): Promise<void> {
    const death = encodePayload({
      timestamp: Date.now(),
      metrics: [{ name: 'bdSeq', datatype: 'UInt64', value: this.bdSeq }],
    });
    this.client = await mqtt.connectAsync(this.brokerUrl, {
      clientId: `line-${this.options.groupId}-${this.options.edgeNodeId}`,
      clean: true,
      reconnectPeriod: 1000,
      will: { topic: this.topic('NDEATH'), payload: Buffer.from(death), qos: 1, retain: false },
    });
    this.client.on('message', (_topic, payload) => void this.onCommand(payload));
    await this.client.subscribeAsync(this.topic('NCMD'), { qos: 1 });
    await this.birth();
    this.timer = setInterval(() => void this.report(), this.options.intervalMs ?? 2000);
    this.timer.unref();
  }

  private async birth(): Promise<void> {
    this.seq = 0;
    const now = Date.now();
    await this.publish('NBIRTH', [
      { name: 'bdSeq', datatype: 'UInt64', value: this.bdSeq, timestamp: now },
      { name: 'Node Control/Rebirth', datatype: 'Boolean', value: false, timestamp: now },
      { name: 'State', alias: 1, datatype: 'String', value: this.state, timestamp: now },
      { name: 'GoodCount', alias: 2, datatype: 'UInt32', value: this.good, timestamp: now },
      { name: 'ScrapCount', alias: 3, datatype: 'UInt32', value: this.scrap, timestamp: now },
    ]);
  }

  private async report(): Promise<void> {
    const now = Date.now();
    this.good += 5 + Math.floor(Math.random() * 10);
    if (Math.random() < 0.2) this.scrap += 1;
    const metrics: SparkplugMetric[] = [
      { alias: 2, datatype: 'UInt32', value: this.good, timestamp: now },
      { alias: 3, datatype: 'UInt32', value: this.scrap, timestamp: now },
    ];
    if (Math.random() < 0.1) {
      this.state = STATES[Math.floor(Math.random() * STATES.length)] as (typeof STATES)[number];
      metrics.push({ alias: 1, datatype: 'String', value: this.state, timestamp: now });
    }
    await this.publish('NDATA', metrics);
  }

  private async onCommand(payload: Buffer): Promise<void> {
    // Any NCMD to this node here is a rebirth request: the only command the line understands.
    if (payload.length > 0) await this.birth();
  }

  private async publish(messageType: 'NBIRTH' | 'NDATA', metrics: SparkplugMetric[]): Promise<void> {
    if (!this.client) return;
    const payload = encodePayload({ timestamp: Date.now(), seq: this.seq, metrics });
    this.seq = (this.seq + 1) % 256;
    try {
      await this.client.publishAsync(this.topic(messageType), Buffer.from(payload), { qos: 1 });
      this.published++;
    } catch {
      // The broker is going away with the demo; the next report tries again.
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.client?.endAsync(true);
    this.client = null;
  }
}
