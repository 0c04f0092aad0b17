import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import jsonata from 'jsonata';
import type { CompiledRoute } from '../config/index.js';
import type { Consumer, EventLog } from '../log/port.js';
import { partitionKeyOf, type StoredEvent, storedSizeOf } from '../model/envelope.js';
import { eventLogFields } from '../observability/event-trace.js';
import type { Logger } from '../observability/logger.js';
import type { HubTracing } from '../observability/tracing.js';
import type { AttemptRecord, DeadLetterRecord, DeadLetterRepository } from '../store/port.js';
import { endAttempt, startAttempt } from './attempt-trace.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { Clock } from './clock.js';
import type { DeliveryMetrics } from './delivery-metrics.js';
import type { LaneLimiter } from './lane-limiter.js';
import type { AttemptOutcome } from './outcome.js';
import { backoffDelay } from './retry.js';
import { type BatchHost, RouteBatches } from './route-batches.js';
import type { DeliverySink } from './sink.js';

export interface RouteWorkerDeps {
  readonly log: EventLog;
  readonly sink: DeliverySink;
  readonly breaker: CircuitBreaker;
  readonly lane: LaneLimiter;
  readonly deadLetters: DeadLetterRepository;
  readonly clock: Clock;
  readonly metrics: DeliveryMetrics;
  readonly logger: Logger;
  /** Most events a route holds between the log and the endpoint. @default 10000 */
  readonly window?: number;
  /** Most bytes of stored events a route holds between the log and the endpoint. @default 2 MiB */
  readonly windowBytes?: number;
  readonly random?: () => number;
  /** Spans of delivery attempts. @default off */
  readonly tracing?: HubTracing;
  /** Told of every event the endpoint accepted (also dead letters replayed), after the fact. */
  readonly onDelivered?: (route: string, event: StoredEvent) => void;
}

export interface RouteStatus {
  readonly name: string;
  readonly types: readonly string[];
  readonly sink: string;
  readonly endpoint: string;
  readonly lane: string;
  /** `standby`: another hub instance delivers this route now. */
  readonly state: 'running' | 'stopped' | 'replaying' | 'standby';
  /** Every event up to here is delivered, dead-lettered or filtered out (durable). */
  readonly position: number;
  readonly lag: { readonly events: number; readonly seconds: number };
  readonly inFlight: number;
  readonly retryingKeys: number;
  readonly circuit: string;
  readonly lastError: { readonly at: string; readonly eventId: string; readonly error: string } | null;
  readonly delivered: number;
  readonly failedAttempts: number;
  readonly deadLettered: number;
}

/** Most events one read from the log hands to a route. */
const FETCH_CHUNK = 500;
/**
 * Bytes of stored JSON a route's window holds by default. Each held event is parsed (about four
 * times its JSON in heap), so this, not the event count, bounds a backlog's memory: ~4,000
 * events of 500 bytes, far more than the lane's concurrent sends need.
 */
const DEFAULT_WINDOW_BYTES = 2 * 1024 * 1024;

/** How often a busy route makes its position durable. */
const COMMIT_INTERVAL_MS = 100;

type GiveUp = (reason: string, attempts: AttemptRecord[]) => Promise<void>;

/**
 * Delivers one route's events: in log order per partition key, keys in parallel (bounded by the
 * lane), each key's head retried with backoff until delivered or dead-lettered. The route's
 * durable cursor only moves past an event once it and every earlier one is finished, so a
 * restart re-delivers at most the events that were in flight (at-least-once).
 */
export class RouteWorker {
  readonly route: CompiledRoute;
  private readonly deps: RouteWorkerDeps;
  private readonly filter: jsonata.Expression | null;
  private readonly transform: jsonata.Expression | null;
  private readonly window: number;
  private readonly windowBytes: number;
  /** Whether the sink answers with HTTP statuses (recorded on attempt spans). */
  private readonly httpSink: boolean;
  private consumer: Consumer | null = null;
  private stop = new AbortController();
  private state: RouteStatus['state'] = 'standby';
  private fetchLoop: Promise<void> | null = null;
  /** The start, stop and replay steps in the order they were asked for (see `serially`). */
  private lifecycle: Promise<void> = Promise.resolve();
  private readonly drains = new Set<Promise<void>>();
  private readonly keys = new Map<string, StoredEvent[]>();
  /** A batching route's batches (route-batches.ts); null: one event per attempt. */
  private batches: RouteBatches | null = null;
  private readonly retrying = new Set<string>();
  // Fetched sequences in log order with when they were fetched; `done` marks the finished ones.
  private order: number[] = [];
  private fetchedAt: number[] = [];
  /** Stored bytes of each fetched event, aligned with `order`; `heldBytes` sums those from `head` on. */
  private sizes: number[] = [];
  private heldBytes = 0;
  /** Average stored size of the last events fetched, to size a fetch into an empty window. */
  private lastAverageBytes = 1024;
  private head = 0;
  private readonly done = new Set<number>();
  private watermark = 0;
  private committing = false;
  private roomWaiter: (() => void) | null = null;
  private counters = { delivered: 0, failedAttempts: 0, deadLettered: 0 };
  private lastError: RouteStatus['lastError'] = null;

  /** Metric children bound once: label lookups per delivery add up at thousands a second. */
  private readonly observed: {
    delivered: { inc(value?: number): void };
    retry: { inc(value?: number): void };
    rejected: { inc(value?: number): void };
    seconds: { observe(value: number): void };
  };

  constructor(route: CompiledRoute, deps: RouteWorkerDeps) {
    this.route = route;
    this.deps = deps;
    this.observed = {
      delivered: deps.metrics.attempts.labels(route.name, 'delivered'),
      retry: deps.metrics.attempts.labels(route.name, 'retry'),
      rejected: deps.metrics.attempts.labels(route.name, 'rejected'),
      seconds: deps.metrics.attemptSeconds.labels(route.name),
    };
    this.filter = route.filter ? jsonata(route.filter) : null;
    this.transform = route.transform ? jsonata(route.transform) : null;
    this.window = deps.window ?? 10_000;
    this.windowBytes = deps.windowBytes ?? DEFAULT_WINDOW_BYTES;
    this.httpSink = /^https?:/.test(deps.sink.endpoint);
  }

  get consumerName(): string {
    return `route:${this.route.name}`;
  }

  /** Starts delivering (from the committed position); a route already delivering here goes on as it is. */
  start(): Promise<void> {
    return this.serially(() => this.startNow());
  }

  /** Stops fetching and delivering; attempts under way are abandoned; commits what is finished. */
  halt(): Promise<void> {
    return this.serially(() => this.haltNow());
  }

  async close(): Promise<void> {
    await this.serially(() => this.closeNow());
  }

  /** Hands the route to another hub instance: it resumes from the committed position. */
  async standBy(): Promise<void> {
    await this.serially(async () => {
      await this.closeNow();
      this.state = 'standby';
    });
  }

  /**
   * Re-delivers from `sequence` (inclusive): stops, moves the durable cursor back, starts again.
   * A replay only ever moves back: from beyond the committed position it resumes at that position,
   * since the events in between are not finished yet and skipping them would lose them. A route this
   * instance does not deliver (on standby) only has its cursor moved: whoever starts it next resumes there.
   */
  replayFrom(sequence: number): Promise<void> {
    return this.serially(async () => {
      const delivering = this.fetchLoop !== null;
      await this.haltNow();
      this.forgetUnfinished();
      const opened = this.consumer === null;
      const consumer =
        this.consumer ?? (await this.deps.log.consume(this.consumerName, { types: this.route.types }));
      try {
        await consumer.seek(Math.min(Math.max(0, sequence - 1), consumer.committed()));
      } finally {
        if (opened && !delivering) consumer.close();
      }
      if (opened && delivering) this.consumer = consumer;
      this.watermark = consumer.committed();
      if (!delivering) return;
      this.state = 'replaying';
      await this.startNow();
    });
  }

  /**
   * Runs start, stop, stand-by and replay one after the other: a replay racing a stop (a SIGTERM while
   * the replay request is under way) must not start a second fetch loop, nor one after the stop.
   */
  private serially<T>(step: () => Promise<T>): Promise<T> {
    const run = this.lifecycle.then(step);
    this.lifecycle = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async startNow(): Promise<void> {
    if (this.fetchLoop !== null) return;
    this.consumer ??= await this.deps.log.consume(this.consumerName, { types: this.route.types });
    this.watermark = this.consumer.committed();
    this.stop = new AbortController();
    // Every key in flight listens on this signal; their number is bounded by the window, not by 10.
    setMaxListeners(0, this.stop.signal);
    this.batches = this.route.batch ? new RouteBatches(this.batchHost(), this.stop.signal) : null;
    this.state = 'running';
    this.fetchLoop = this.runFetchLoop(this.consumer, this.stop.signal);
  }

  private async haltNow(): Promise<void> {
    this.stop.abort();
    this.roomWaiter?.();
    await this.fetchLoop;
    this.fetchLoop = null;
    await this.batches?.settled();
    await Promise.all([...this.drains]);
    await this.commitNow();
    if (this.state !== 'standby') this.state = 'stopped';
  }

  private async closeNow(): Promise<void> {
    await this.haltNow();
    this.consumer?.close();
    this.consumer = null;
    this.forgetUnfinished();
  }

  /** Drops what was fetched but not finished: the next start reads it again from the committed position. */
  private forgetUnfinished(): void {
    this.keys.clear();
    this.retrying.clear();
    this.order = [];
    this.fetchedAt = [];
    this.sizes = [];
    this.heldBytes = 0;
    this.head = 0;
    this.done.clear();
  }

  /** True while this instance delivers the route (not on standby for another instance). */
  get delivering(): boolean {
    return this.state === 'running' || this.state === 'replaying';
  }

  /** Events in the log this route has not finished. */
  lagEvents(): number {
    return Math.max(0, this.deps.log.head() - this.watermark);
  }

  status(): RouteStatus {
    const now = this.deps.clock.now();
    const outstanding = this.order.length - this.head;
    const oldest = outstanding > 0 ? (this.fetchedAt[this.head] as number) : now;
    return {
      name: this.route.name,
      types: this.route.types,
      sink: this.route.sink,
      endpoint: this.deps.sink.endpoint,
      lane: this.route.lane,
      state: this.state,
      position: this.watermark,
      lag: {
        events: Math.max(0, this.deps.log.head() - this.watermark),
        seconds: Math.max(0, (now - oldest) / 1000),
      },
      inFlight: outstanding,
      retryingKeys: this.retrying.size + (this.batches?.retrying ?? 0),
      circuit: this.deps.breaker.state,
      lastError: this.lastError,
      ...this.counters,
    };
  }

  private async runFetchLoop(consumer: Consumer, signal: AbortSignal): Promise<void> {
    // A closed consumer answers every fetch at once with nothing: a loop left on one would hold the thread.
    while (!signal.aborted && this.consumer === consumer) {
      const outstanding = this.order.length - this.head;
      // Events the byte budget holds at the average size of those held (or last fetched); an empty
      // window always takes one, however large, so a single big event cannot stall the route.
      const averageBytes = outstanding > 0 ? this.heldBytes / outstanding : this.lastAverageBytes;
      const budget = this.windowBytes / Math.max(1, averageBytes);
      const room = Math.max(
        outstanding === 0 ? 1 : 0,
        Math.min(this.window, Math.floor(budget)) - outstanding,
      );
      // Refill in chunks: reading one event per finished delivery would cost a query each.
      if (room <= 0 || (outstanding > 0 && room < Math.min(FETCH_CHUNK, this.window / 4, budget / 4))) {
        await new Promise<void>((resolve) => {
          this.roomWaiter = resolve;
        });
        this.roomWaiter = null;
        continue;
      }
      let events: StoredEvent[];
      try {
        events = await consumer.fetch(Math.min(room, FETCH_CHUNK), 1_000, signal);
      } catch (error) {
        this.deps.logger.error({ route: this.route.name, err: error }, 'reading the log failed; retrying');
        await this.deps.clock.sleep(1_000, signal);
        continue;
      }
      if (events.length === 0) {
        // Nothing of this route's types arrived: with nothing outstanding, the position moves on too.
        if (this.order.length === this.head && consumer.readPosition() > this.watermark) {
          this.watermark = consumer.readPosition();
          void this.scheduleCommit();
        }
        continue;
      }
      const now = this.deps.clock.now();
      let fetchedBytes = 0;
      for (const event of events) {
        const size = storedSizeOf(event);
        fetchedBytes += size;
        this.order.push(event.sequence);
        this.fetchedAt.push(now);
        this.sizes.push(size);
        this.heldBytes += size;
        if (!(await this.matches(event))) {
          this.finish(event.sequence);
          continue;
        }
        const key = partitionKeyOf(event);
        if (this.batches) {
          this.batches.add(event, key);
          continue;
        }
        const queue = this.keys.get(key);
        if (queue) queue.push(event);
        else {
          this.keys.set(key, [event]);
          const drain = this.drainKey(key, signal);
          this.drains.add(drain);
          void drain.finally(() => this.drains.delete(drain));
        }
      }
      this.lastAverageBytes = fetchedBytes / events.length;
      this.deps.metrics.lag.set(
        { route: this.route.name },
        Math.max(0, this.deps.log.head() - this.watermark),
      );
      // A read answered from what is already stored costs no I/O: without a turn of the event loop
      // here, a replay through events the filter leaves out would run on without letting anything
      // else (responses, timers, a SIGTERM) in until it reached the head.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** What this route's batches use of the worker: its sink, limits, counters and position. */
  private batchHost(): BatchHost {
    const { deps, route } = this;
    const sink = deps.sink;
    if (!route.batch || !sink.sendBatch) throw new Error(`route "${route.name}": its sink cannot batch`);
    return {
      route: { ...route, batch: route.batch },
      sink: sink as BatchHost['sink'],
      transform: this.transform,
      breaker: deps.breaker,
      lane: deps.lane,
      clock: deps.clock,
      logger: deps.logger,
      ...(deps.random ? { random: deps.random } : {}),
      ...(deps.tracing ? { tracing: deps.tracing } : {}),
      httpSink: this.httpSink,
      observe: (kind, events, ms) => {
        this.observed[kind].inc(events);
        this.observed.seconds.observe(ms / 1000);
      },
      delivered: (event) => {
        this.counters.delivered++;
        deps.onDelivered?.(route.name, event);
      },
      deadLetter: (event, reason, attempts) => this.deadLetter(event, reason, attempts),
      failed: (event, error) => {
        this.counters.failedAttempts++;
        this.noteError(event, error);
      },
      finish: (sequence) => this.finish(sequence),
    };
  }

  private async matches(event: StoredEvent): Promise<boolean> {
    if (this.filter === null) return true;
    try {
      return Boolean(await this.filter.evaluate(event));
    } catch (error) {
      // A filter that cannot be evaluated on this event does not select it; say so once per event.
      this.deps.logger.warn(
        { route: this.route.name, ...eventLogFields(event), err: error },
        'route filter failed; event skipped',
      );
      return false;
    }
  }

  private async drainKey(key: string, signal: AbortSignal): Promise<void> {
    const queue = this.keys.get(key) as StoredEvent[];
    while (queue.length > 0) {
      const event = queue[0] as StoredEvent;
      const finished = await this.deliver(event, key, signal, (reason, attempts) =>
        this.deadLetter(event, reason, attempts),
      );
      if (!finished) return;
      queue.shift();
      this.finish(event.sequence);
    }
    this.keys.delete(key);
  }

  /**
   * Attempts one event until it is delivered or given up (then `giveUp` runs). Returns false only
   * when the worker is stopping and the event is not finished.
   */
  async deliver(event: StoredEvent, key: string, signal: AbortSignal, giveUp: GiveUp): Promise<boolean> {
    const { breaker, clock, lane, sink } = this.deps;
    const attempts: AttemptRecord[] = [];
    const firstTry = clock.now();
    // Failed half-open probes are the endpoint's failures, not this event's: they do not count.
    let counted = 0;
    const observed = this.observed;
    while (!signal.aborted) {
      if (!breaker.tryAcquire()) {
        // Circuit open: wait without spending an attempt; wake early if the circuit closes.
        await Promise.race([clock.sleep(breaker.waitMs(), signal), breaker.changed()]);
        continue;
      }
      const probe = breaker.state === 'half-open';
      // Bulk work steps aside for pending I/O, so critical requests are read between bulk sends.
      if (this.route.lane === 'bulk') await new Promise((resolve) => setImmediate(resolve));
      await lane.acquire();
      if (signal.aborted) {
        // Stopping: an attempt that has not started is abandoned (redelivered from the committed
        // position), not sent; otherwise every delivery queued for a slot would be waited on.
        lane.release();
        breaker.release();
        return false;
      }
      // Each attempt is a new span in the event's trace; the sink sends its context along.
      const trace = startAttempt(this.deps.tracing, event, this.route, attempts.length + 1, this.httpSink);
      let outcome: AttemptOutcome | undefined;
      try {
        outcome = await sink.send(event, this.transform, this.route.timeoutMs, signal, trace.carrier);
      } finally {
        lane.release();
        endAttempt(trace, outcome);
      }
      if (signal.aborted && outcome.kind === 'retry') {
        breaker.release();
        return false;
      }
      observed[outcome.kind].inc();
      observed.seconds.observe(outcome.ms / 1000);
      if (outcome.kind === 'delivered') {
        breaker.success();
        if (attempts.length > 0) this.retrying.delete(key);
        this.counters.delivered++;
        this.deps.onDelivered?.(this.route.name, event);
        return true;
      }
      // Attempts are only kept for a failure's record (the DLQ); a first-time success needs none.
      attempts.push({
        at: new Date(clock.now()).toISOString(),
        ms: Math.round(outcome.ms * 100) / 100,
        ...(outcome.status ? { status: outcome.status } : {}),
        error: outcome.error,
      });
      if (outcome.kind === 'rejected') {
        breaker.success(); // the endpoint is up; it refused this one event
        this.noteError(event, outcome.error);
        this.retrying.delete(key);
        return this.giveUp(giveUp, 'rejected', attempts, signal, key);
      }
      breaker.failure();
      if (!probe) counted++;
      this.counters.failedAttempts++;
      this.noteError(event, outcome.error);
      this.deps.logger.warn(
        {
          route: this.route.name,
          ...eventLogFields(event),
          sequence: event.sequence,
          attempt: attempts.length,
          error: outcome.error,
        },
        'delivery attempt failed',
      );
      if (!probe && counted >= this.route.retry.maxAttempts)
        return this.giveUp(giveUp, 'max-attempts', attempts, signal, key);
      if (!probe && clock.now() - firstTry >= this.route.retry.maxAgeMs)
        return this.giveUp(giveUp, 'max-age', attempts, signal, key);
      this.retrying.add(key);
      await clock.sleep(
        backoffDelay(this.route.retry, Math.max(1, counted), outcome.retryAfterMs, this.deps.random),
        signal,
      );
    }
    return false;
  }

  private async giveUp(
    giveUp: GiveUp,
    reason: string,
    attempts: AttemptRecord[],
    signal: AbortSignal,
    key: string,
  ): Promise<boolean> {
    this.retrying.delete(key);
    // The dead letter must be stored before the event counts as finished; keep trying if the store is down.
    for (let wait = 100; !signal.aborted; wait = Math.min(wait * 2, 10_000)) {
      try {
        await giveUp(reason, attempts);
        return true;
      } catch (error) {
        this.deps.logger.error(
          { route: this.route.name, err: error },
          'could not store a dead letter; retrying',
        );
        await this.deps.clock.sleep(wait, signal);
      }
    }
    return false;
  }

  private async deadLetter(event: StoredEvent, reason: string, attempts: AttemptRecord[]): Promise<void> {
    const entry: Omit<DeadLetterRecord, 'position' | 'updatedAt' | 'updatedBy'> = {
      id: `dlq_${this.deps.clock.now().toString(36)}_${randomUUID().slice(0, 8)}`,
      route: this.route.name,
      reason,
      event,
      attempts,
      at: this.deps.clock.now(),
      status: 'open',
    };
    await this.deps.deadLetters.add(entry);
    this.counters.deadLettered++;
    this.deps.metrics.deadLettered.inc({ route: this.route.name, reason });
    this.deps.logger.warn(
      {
        route: this.route.name,
        ...eventLogFields(event),
        sequence: event.sequence,
        reason,
        attempts: attempts.length,
        dlq: entry.id,
      },
      'event moved to the dead-letter queue',
    );
  }

  private noteError(event: StoredEvent, error: string): void {
    this.lastError = { at: new Date(this.deps.clock.now()).toISOString(), eventId: event.id, error };
  }

  /** Marks a sequence finished and moves the watermark over every finished prefix. */
  private finish(sequence: number): void {
    this.done.add(sequence);
    let moved = false;
    while (this.head < this.order.length && this.done.has(this.order[this.head] as number)) {
      const s = this.order[this.head] as number;
      this.done.delete(s);
      this.watermark = s;
      this.heldBytes -= this.sizes[this.head] as number;
      this.head++;
      moved = true;
    }
    if (this.head > 4096 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.fetchedAt = this.fetchedAt.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
    if (moved) {
      this.roomWaiter?.();
      void this.scheduleCommit();
    }
  }

  /**
   * Makes the watermark durable at most every COMMIT_INTERVAL_MS. Positions only bound how much is
   * re-delivered after a crash, so there is no need to spend a log transaction per delivery.
   */
  private async scheduleCommit(): Promise<void> {
    if (this.committing) return;
    this.committing = true;
    try {
      await new Promise((resolve) => setTimeout(resolve, COMMIT_INTERVAL_MS));
      while (this.consumer && this.watermark > this.consumer.committed())
        await this.consumer.commit(this.watermark);
    } catch (error) {
      this.deps.logger.error({ route: this.route.name, err: error }, 'could not commit the route position');
    } finally {
      this.committing = false;
    }
  }

  private async commitNow(): Promise<void> {
    while (this.committing) await new Promise((resolve) => setImmediate(resolve));
    if (this.consumer && this.watermark > this.consumer.committed())
      await this.consumer.commit(this.watermark);
  }

  /** Delivers a dead letter again, outside key order; a failure updates the same entry. */
  async redeliver(
    entry: DeadLetterRecord,
    actor: string,
    signal: AbortSignal,
  ): Promise<'replayed' | 'failed'> {
    let failed = false;
    const finished = await this.deliver(entry.event, `dlq:${entry.id}`, signal, async (_reason, attempts) => {
      failed = true;
      await this.deps.deadLetters.update(entry.id, {
        status: 'open',
        attempts: [...entry.attempts, ...attempts],
        at: this.deps.clock.now(),
        by: actor,
      });
    });
    if (finished && !failed) {
      await this.deps.deadLetters.update(entry.id, {
        status: 'replayed',
        at: this.deps.clock.now(),
        by: actor,
      });
      return 'replayed';
    }
    if (!finished)
      await this.deps.deadLetters.update(entry.id, { status: 'open', at: this.deps.clock.now(), by: actor });
    return 'failed';
  }
}
