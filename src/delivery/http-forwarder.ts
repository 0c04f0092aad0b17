import jsonata from 'jsonata';
import { Agent, request } from 'undici';
import type { CompiledRoute } from '../config/index.js';
import type { Consumer, EventLog } from '../log/port.js';
import type { StoredEvent } from '../model/envelope.js';
import type { Logger } from '../observability/logger.js';

export interface ForwarderStats {
  delivered: number;
  failedAttempts: number;
  lastError: string | null;
  position: number;
}

/**
 * Delivers one route's events to an HTTP endpoint, one at a time in log order, committing the
 * route's durable cursor after each success. A failing endpoint is retried with capped
 * exponential backoff; the route waits rather than skipping, so nothing is lost or reordered.
 * (Per-key parallelism, circuit breakers and dead-lettering belong to the delivery engine.)
 */
export class HttpForwarder {
  readonly stats: ForwarderStats = { delivered: 0, failedAttempts: 0, lastError: null, position: 0 };
  private consumer: Consumer | null = null;
  private readonly stop = new AbortController();
  private loop: Promise<void> | null = null;
  private readonly filter: jsonata.Expression | null;
  private readonly transform: jsonata.Expression | null;

  constructor(
    private readonly log: EventLog,
    private readonly route: CompiledRoute,
    private readonly url: string,
    private readonly logger: Logger,
    private readonly dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 8 }),
  ) {
    this.filter = route.filter ? jsonata(route.filter) : null;
    this.transform = route.transform ? jsonata(route.transform) : null;
  }

  async start(): Promise<void> {
    this.consumer = await this.log.consume(`route:${this.route.name}`, { types: this.route.types });
    this.stats.position = this.consumer.committed();
    this.loop = this.run(this.consumer);
  }

  private async run(consumer: Consumer): Promise<void> {
    const signal = this.stop.signal;
    while (!signal.aborted) {
      const events = await consumer.fetch(100, 1_000, signal);
      for (const event of events) {
        if (signal.aborted) return;
        if (await this.matches(event)) await this.deliverWithRetry(event, signal);
        if (signal.aborted) return;
        await consumer.commit(event.sequence);
        this.stats.position = event.sequence;
      }
    }
  }

  private async matches(event: StoredEvent): Promise<boolean> {
    return this.filter === null || Boolean(await this.filter.evaluate(event));
  }

  private async deliverWithRetry(event: StoredEvent, signal: AbortSignal): Promise<void> {
    let delay = this.route.retry.initialDelayMs;
    for (;;) {
      const error = await this.deliverOnce(event);
      if (error === null) {
        this.stats.delivered++;
        return;
      }
      this.stats.failedAttempts++;
      this.stats.lastError = error;
      this.logger.warn(
        { route: this.route.name, eventId: event.id, sequence: event.sequence, error },
        'delivery failed; retrying',
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay * (0.5 + Math.random() / 2));
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (signal.aborted) return;
      delay = Math.min(delay * 2, this.route.retry.maxDelayMs);
    }
  }

  /** One attempt; null on a 2xx, else a description of the failure. */
  private async deliverOnce(event: StoredEvent): Promise<string | null> {
    let body: string;
    const headers: Record<string, string> = {};
    if (this.transform) {
      body = JSON.stringify(await this.transform.evaluate(event));
      headers['content-type'] = 'application/json';
      for (const [name, value] of Object.entries(event)) {
        if (name !== 'data' && name !== 'data_base64' && name !== 'datacontenttype' && value !== undefined)
          headers[`ce-${name}`] = encodeURIComponent(String(value));
      }
    } else {
      body = JSON.stringify(event);
      headers['content-type'] = 'application/cloudevents+json';
    }
    try {
      const response = await request(this.url, {
        method: 'POST',
        body,
        headers,
        dispatcher: this.dispatcher,
        headersTimeout: this.route.timeoutMs,
        bodyTimeout: this.route.timeoutMs,
      });
      await response.body.dump();
      return response.statusCode >= 200 && response.statusCode < 300 ? null : `HTTP ${response.statusCode}`;
    } catch (error) {
      return (error as Error).message;
    }
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.loop;
    this.consumer?.close();
    await this.dispatcher.close();
  }
}
