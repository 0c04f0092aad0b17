import { Agent, request } from 'undici';
import type { CloudEvent } from '../model/envelope.js';
import type { SentEvent } from './checker.js';
import { digestOf, keyOf, seededRandom, type Workload } from './workload.js';

/** Everything the producers know about an event they sent. */
export interface ProducedEvent extends SentEvent {
  /** The scenario phase (hub generation) in which it was first sent. */
  readonly firstSentPhase: number;
  /** The phase in which its request got a 2xx, if it did. */
  readonly ackedPhase: number | null;
}

interface MutableProduced {
  id: string;
  type: string;
  key: string;
  plant: string | undefined;
  digest: string;
  acked: boolean;
  firstSentPhase: number;
  ackedPhase: number | null;
}

export interface ProducerOptions {
  /** The hubs' base URLs now (several: requests go to them in turn, as through a load balancer). */
  readonly urls: () => readonly string[];
  readonly adminKey: string;
  readonly workload: Workload;
  readonly producers: number;
  /** Events per second, all producers together. */
  readonly ratePerSecond: number;
  /** The scenario's current phase, recorded with each event. */
  readonly phase: () => number;
  /** Called with each new event before it is first sent (e.g. to mark some as poison). */
  readonly onCreate?: (event: CloudEvent) => void;
  readonly seed: number;
  /** Largest batch; a request is single (structured mode) a quarter of the time. @default 40 */
  readonly maxBatch?: number;
}

/** Statuses and failures the producers met, for the report. */
export interface ProducerStats {
  requests: number;
  acked: number;
  /** Requests that failed or timed out: their events are indeterminate until a retry is acknowledged. */
  indeterminate: number;
  /** Requests refused for what they hold (a 4xx other than 408/429): a workload defect, never retried. */
  refused: number;
  statuses: Record<string, number>;
}

const REQUEST_TIMEOUT_MS = 5_000;

/**
 * Concurrent HTTP producers. Each sends single events (`application/cloudevents+json`) or batches
 * (`application/cloudevents-batch+json`) and, when a request fails, times out or is refused, sends
 * the very same events again (the id is the idempotency key) until one attempt gets a 2xx or the
 * producers are stopped; what never got a 2xx stays indeterminate.
 */
export class Producers {
  readonly events = new Map<string, MutableProduced>();
  readonly stats: ProducerStats = { requests: 0, acked: 0, indeterminate: 0, refused: 0, statuses: {} };
  private readonly agent = new Agent({ connections: 16, keepAliveTimeout: 2_000 });
  private running = false;
  private paused = false;
  private draining = false;
  private loops: Promise<void>[] = [];
  private turn = 0;

  constructor(private readonly options: ProducerOptions) {}

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.options.producers }, (_, i) => this.loop(i));
  }

  /** Holds new requests (pending retries go on), e.g. to let deliveries run alone. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /** Stops making new events; pending requests are retried until acknowledged or `deadlineMs` passes. */
  async stop(deadlineMs = 30_000): Promise<void> {
    this.draining = true;
    const timer = setTimeout(() => {
      this.running = false;
    }, deadlineMs);
    try {
      await Promise.all(this.loops);
    } finally {
      clearTimeout(timer);
      this.running = false;
      await this.agent.close();
    }
  }

  /** The history's view of what was sent. */
  sent(): ReadonlyMap<string, ProducedEvent> {
    return this.events;
  }

  /** Sends these events now, in batches of up to 1,000, each retried until acknowledged. */
  async sendNow(events: readonly CloudEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += 1_000) {
      const batch = events.slice(i, i + 1_000);
      this.register(batch);
      await this.sendUntilAcked(batch, false);
    }
  }

  private register(events: readonly CloudEvent[]): void {
    for (const e of events) {
      this.options.onCreate?.(e);
      this.events.set(e.id, {
        id: e.id,
        type: e.type,
        key: keyOf(e),
        plant: e.plant,
        digest: digestOf(e),
        acked: false,
        firstSentPhase: this.options.phase(),
        ackedPhase: null,
      });
    }
  }

  private async loop(index: number): Promise<void> {
    const random = seededRandom(this.options.seed + index * 7919);
    const maxBatch = this.options.maxBatch ?? 40;
    const perProducer = this.options.ratePerSecond / this.options.producers;
    while (this.running && !this.draining) {
      if (this.paused) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      const size = random() < 0.25 ? 1 : 2 + Math.floor(random() * (maxBatch - 1));
      const events = Array.from({ length: size }, () => this.options.workload.next());
      this.register(events);
      const started = performance.now();
      await this.sendUntilAcked(events, size === 1 && random() < 0.9);
      // Pace to the rate: a request of `size` events earns size / perProducer seconds.
      const rest = (size / perProducer) * 1000 - (performance.now() - started);
      if (rest > 0 && !this.draining) await new Promise((resolve) => setTimeout(resolve, rest));
    }
  }

  private async sendUntilAcked(events: readonly CloudEvent[], structured: boolean): Promise<void> {
    const body = structured ? JSON.stringify(events[0]) : JSON.stringify(events);
    const contentType = structured ? 'application/cloudevents+json' : 'application/cloudevents-batch+json';
    for (let attempt = 0; this.running; attempt++) {
      const urls = this.options.urls();
      const url = urls[this.turn++ % Math.max(1, urls.length)];
      let status: string;
      if (url === undefined) status = 'no hub';
      else {
        try {
          const res = await request(`${url}/v1/events`, {
            method: 'POST',
            dispatcher: this.agent,
            headers: { authorization: `Bearer ${this.options.adminKey}`, 'content-type': contentType },
            body,
            headersTimeout: REQUEST_TIMEOUT_MS,
            bodyTimeout: REQUEST_TIMEOUT_MS,
          });
          await res.body.dump();
          status = String(res.statusCode);
        } catch (error) {
          status = (error as { code?: string }).code ?? 'error';
        }
      }
      this.stats.requests++;
      this.stats.statuses[status] = (this.stats.statuses[status] ?? 0) + 1;
      if (/^2\d\d$/.test(status)) {
        const phase = this.options.phase();
        for (const e of events) {
          const record = this.events.get(e.id);
          if (record && !record.acked) {
            record.acked = true;
            record.ackedPhase = phase;
            this.stats.acked++;
          }
        }
        return;
      }
      if (/^4\d\d$/.test(status) && status !== '408' && status !== '429') {
        this.stats.refused++;
        return;
      }
      this.stats.indeterminate++;
      // Back off a little: the hub may be restarting or out of disk.
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, 25 * 2 ** Math.min(attempt, 5))));
    }
  }
}
