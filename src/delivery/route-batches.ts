import type jsonata from 'jsonata';
import type { BatchPolicy, CompiledRoute } from '../config/index.js';
import { type StoredEvent, storedEventJsonLength } from '../model/envelope.js';
import type { Logger } from '../observability/logger.js';
import type { HubTracing } from '../observability/tracing.js';
import type { AttemptRecord } from '../store/port.js';
import { endAttempt, startAttempt } from './attempt-trace.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { Clock } from './clock.js';
import type { LaneLimiter } from './lane-limiter.js';
import type { AttemptOutcome } from './outcome.js';
import { backoffDelay } from './retry.js';
import type { DeliverySink } from './sink.js';

/** What a route's batches need from their route worker. */
export interface BatchHost {
  readonly route: CompiledRoute & { readonly batch: BatchPolicy };
  readonly sink: DeliverySink & Required<Pick<DeliverySink, 'sendBatch'>>;
  readonly transform: jsonata.Expression | null;
  readonly breaker: CircuitBreaker;
  readonly lane: LaneLimiter;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  readonly tracing?: HubTracing;
  /** Whether the sink answers with HTTP statuses (recorded on attempt spans). */
  readonly httpSink: boolean;
  /** Counts an attempt's outcome for `events` events and its duration. */
  observe(kind: AttemptOutcome['kind'], events: number, ms: number): void;
  /** The endpoint accepted the event (counted, told to listeners); not yet marked finished. */
  delivered(event: StoredEvent): void;
  /** Stores the event's dead letter; throws when the store cannot take it now. */
  deadLetter(event: StoredEvent, reason: string, attempts: AttemptRecord[]): Promise<void>;
  /** An attempt with this event in it failed. */
  failed(event: StoredEvent, error: string): void;
  /** The event is delivered or dead-lettered: the route's position may pass it. */
  finish(sequence: number): void;
}

/** How a batch's delivery ended: every event finished, or the route is stopping. */
type Settled = 'finished' | 'stopped';

/** How one batch's attempts ended, before it is split or dead-lettered. */
type Attempted =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'rejected'; readonly attempts: AttemptRecord[] }
  | { readonly kind: 'gave-up'; readonly reason: string; readonly attempts: AttemptRecord[] };

/**
 * Delivers a batching route's events several to a request. Keys stay in order: a key is in at most
 * one batch in flight, its later events wait until that batch is finished, and within a batch a
 * key's events keep their log order. A batch is sent once it holds `maxEvents` or `maxBytes`, or its
 * first event has waited `maxWait`, and only when the lane has a slot for it, so batches grow while
 * the endpoint is busy. A retryable failure retries the whole batch with the route's backoff; a
 * refusal (4xx) splits it in halves, delivered one after the other, until the refused events stand
 * alone and go to the DLQ; the others are delivered.
 */
export class RouteBatches {
  private readonly queues = new Map<string, StoredEvent[]>();
  /** Keys with a batch in flight. */
  private readonly busy = new Set<string>();
  /** Keys with events to send and no batch in flight, oldest first (read from `readyHead`). */
  private ready: string[] = [];
  private readyHead = 0;
  private readonly isReady = new Set<string>();
  /** Events of the ready keys. */
  private readyEvents = 0;
  /** When the oldest of the ready events arrived. */
  private readySince = 0;
  private wake: (() => void) | null = null;
  /**
   * Ready events that make the waiting pump go on: 1 while nothing is ready, a full batch while
   * it waits out `maxWait`. Waking it for every event would cost a timer per event.
   */
  private wakeAt = 1;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly retryingBatches = new Set<object>();
  private readonly pump: Promise<void>;

  constructor(
    private readonly host: BatchHost,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => this.wake?.(), { once: true });
    this.pump = this.run();
  }

  /** Batches waiting to be attempted again. */
  get retrying(): number {
    return this.retryingBatches.size;
  }

  /** Queues an event (in log order) for its key. */
  add(event: StoredEvent, key: string): void {
    const queue = this.queues.get(key);
    if (queue) queue.push(event);
    else this.queues.set(key, [event]);
    if (this.busy.has(key)) return;
    this.markReady(key, 1);
  }

  /** Resolves once sending has stopped (the signal aborted) and the batches under way are done. */
  async settled(): Promise<void> {
    await this.pump;
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private markReady(key: string, events: number): void {
    if (this.readyEvents === 0) this.readySince = this.host.clock.now();
    this.readyEvents += events;
    if (!this.isReady.has(key)) {
      this.isReady.add(key);
      this.ready.push(key);
    }
    if (this.readyEvents >= this.wakeAt) this.wake?.();
  }

  private async run(): Promise<void> {
    const { batch } = this.host.route;
    while (!this.signal.aborted) {
      if (this.readyEvents === 0) {
        this.wakeAt = 1;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = null;
        continue;
      }
      const waited = this.host.clock.now() - this.readySince;
      if (this.readyEvents < batch.maxEvents && waited < batch.maxWaitMs) {
        // Not full yet: wait for more events, at most until the oldest has waited maxWait.
        const timer = new AbortController();
        this.wakeAt = batch.maxEvents;
        await Promise.race([
          this.host.clock.sleep(batch.maxWaitMs - waited, timer.signal),
          new Promise<void>((resolve) => {
            this.wake = resolve;
          }),
        ]);
        timer.abort();
        this.wake = null;
        if (this.readyEvents < batch.maxEvents && this.host.clock.now() - this.readySince < batch.maxWaitMs)
          continue;
      }
      await this.host.lane.acquire();
      if (this.signal.aborted) {
        this.host.lane.release();
        break;
      }
      const { events, keys } = this.take();
      if (events.length === 0) {
        this.host.lane.release();
        continue;
      }
      const sending = this.send(events, keys);
      this.inFlight.add(sending);
      void sending.finally(() => this.inFlight.delete(sending));
    }
  }

  /** The next batch: whole keys' queues, oldest ready key first, within maxEvents and maxBytes. */
  private take(): { events: StoredEvent[]; keys: string[] } {
    const { maxEvents, maxBytes } = this.host.route.batch;
    const events: StoredEvent[] = [];
    const keys: string[] = [];
    let bytes = 0;
    while (this.readyHead < this.ready.length && events.length < maxEvents) {
      const key = this.ready[this.readyHead] as string;
      const queue = this.queues.get(key) as StoredEvent[];
      let taken = 0;
      while (taken < queue.length && events.length < maxEvents) {
        const size = storedEventJsonLength(queue[taken] as StoredEvent) + 1;
        // One event larger than maxBytes still goes, alone.
        if (events.length > 0 && bytes + size > maxBytes) break;
        bytes += size;
        events.push(queue[taken] as StoredEvent);
        taken++;
      }
      if (taken === 0) break;
      queue.splice(0, taken);
      // The key's later events wait for this batch: they count as ready again once it is finished.
      this.readyEvents -= taken + queue.length;
      this.busy.add(key);
      this.isReady.delete(key);
      this.readyHead++;
      keys.push(key);
      if (bytes >= maxBytes) break;
    }
    if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.readyHead);
      this.readyHead = 0;
    }
    // What is left keeps its arrival time: it has waited already and goes as soon as a slot frees.
    return { events, keys };
  }

  private async send(events: StoredEvent[], keys: string[]): Promise<void> {
    try {
      if ((await this.settle(events, [], true)) === 'stopped') return;
    } finally {
      // Finished or abandoned (stopping), the keys are free; a stopping route sends nothing more.
      for (const key of keys) {
        this.busy.delete(key);
        const queue = this.queues.get(key);
        if (!queue || queue.length === 0) this.queues.delete(key);
        else if (!this.signal.aborted) this.markReady(key, queue.length);
      }
    }
  }

  /**
   * Delivers `events` as one batch until each is delivered or dead-lettered. A refused batch is
   * split in halves delivered in turn (a key's earlier events are in the first half), so only the
   * events the endpoint refuses on their own go to the DLQ.
   */
  private async settle(
    events: StoredEvent[],
    earlier: AttemptRecord[],
    holdsSlot: boolean,
  ): Promise<Settled> {
    const attempted = await this.attempt(events, holdsSlot);
    if (attempted.kind === 'stopped') return 'stopped';
    if (attempted.kind === 'delivered') {
      for (const event of events) {
        this.host.delivered(event);
        this.host.finish(event.sequence);
      }
      return 'finished';
    }
    const attempts = [...earlier, ...attempted.attempts];
    if (attempted.kind === 'rejected' && events.length > 1) {
      const half = Math.ceil(events.length / 2);
      if ((await this.settle(events.slice(0, half), attempts, false)) === 'stopped') return 'stopped';
      return this.settle(events.slice(half), attempts, false);
    }
    const reason = attempted.kind === 'rejected' ? 'rejected' : attempted.reason;
    for (const event of events) {
      if (!(await this.storeDeadLetter(event, reason, attempts))) return 'stopped';
      this.host.finish(event.sequence);
    }
    return 'finished';
  }

  /** Attempts one batch until it is delivered, refused, given up, or the route stops. */
  private async attempt(events: StoredEvent[], holdsSlot: boolean): Promise<Attempted> {
    const { breaker, clock, lane, sink, route } = this.host;
    const first = events[0] as StoredEvent;
    const attempts: AttemptRecord[] = [];
    const firstTry = clock.now();
    // Failed half-open probes are the endpoint's failures, not this batch's: they do not count.
    let counted = 0;
    let slot = holdsSlot;
    const retryMark = {};
    try {
      while (!this.signal.aborted) {
        if (!breaker.tryAcquire()) {
          if (slot) lane.release();
          slot = false;
          await Promise.race([clock.sleep(breaker.waitMs(), this.signal), breaker.changed()]);
          continue;
        }
        const probe = breaker.state === 'half-open';
        if (!slot) {
          if (route.lane === 'bulk') await new Promise((resolve) => setImmediate(resolve));
          await lane.acquire();
        }
        slot = false;
        if (this.signal.aborted) {
          lane.release();
          breaker.release();
          return { kind: 'stopped' };
        }
        const trace = startAttempt(this.host.tracing, first, route, attempts.length + 1, this.host.httpSink);
        let outcome: AttemptOutcome | undefined;
        try {
          outcome = await sink.sendBatch(
            events,
            this.host.transform,
            route.timeoutMs,
            this.signal,
            trace.carrier,
          );
        } finally {
          lane.release();
          endAttempt(trace, outcome);
        }
        if (this.signal.aborted && outcome.kind === 'retry') {
          breaker.release();
          return { kind: 'stopped' };
        }
        this.host.observe(outcome.kind, events.length, outcome.ms);
        if (outcome.kind === 'delivered') {
          breaker.success();
          return { kind: 'delivered' };
        }
        attempts.push({
          at: new Date(clock.now()).toISOString(),
          ms: Math.round(outcome.ms * 100) / 100,
          ...(outcome.status ? { status: outcome.status } : {}),
          error: events.length > 1 ? `${outcome.error} (a batch of ${events.length})` : outcome.error,
        });
        if (outcome.kind === 'rejected') {
          breaker.success(); // the endpoint is up; it refused something in this batch
          if (events.length === 1) this.host.failed(first, outcome.error);
          return { kind: 'rejected', attempts };
        }
        breaker.failure();
        if (!probe) counted++;
        for (const event of events) this.host.failed(event, outcome.error);
        this.host.logger.warn(
          {
            route: route.name,
            firstSequence: first.sequence,
            events: events.length,
            attempt: attempts.length,
            error: outcome.error,
          },
          'batch delivery attempt failed',
        );
        if (!probe && counted >= route.retry.maxAttempts)
          return { kind: 'gave-up', reason: 'max-attempts', attempts };
        if (!probe && clock.now() - firstTry >= route.retry.maxAgeMs)
          return { kind: 'gave-up', reason: 'max-age', attempts };
        this.retryingBatches.add(retryMark);
        await clock.sleep(
          backoffDelay(route.retry, Math.max(1, counted), outcome.retryAfterMs, this.host.random),
          this.signal,
        );
      }
      return { kind: 'stopped' };
    } finally {
      if (slot) lane.release();
      this.retryingBatches.delete(retryMark);
    }
  }

  /** The dead letter must be stored before the event counts as finished; keep trying if the store is down. */
  private async storeDeadLetter(
    event: StoredEvent,
    reason: string,
    attempts: AttemptRecord[],
  ): Promise<boolean> {
    for (let wait = 100; !this.signal.aborted; wait = Math.min(wait * 2, 10_000)) {
      try {
        await this.host.deadLetter(event, reason, attempts);
        return true;
      } catch (error) {
        this.host.logger.error(
          { route: this.host.route.name, err: error },
          'could not store a dead letter; retrying',
        );
        await this.host.clock.sleep(wait, this.signal);
      }
    }
    return false;
  }
}
