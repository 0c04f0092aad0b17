import type { FieldError } from '../../errors/problem.js';
import { ProblemError } from '../../errors/problem.js';
import type { LaneAdmission } from '../../ingress/lane-admission.js';
import type { EventLog } from '../../log/port.js';
import type { CloudEvent } from '../../model/envelope.js';
import type { Logger } from '../../observability/logger.js';
import type { HubTracing } from '../../observability/tracing.js';
import type { SchemaRegistry } from '../../registry/registry.js';
import type { SourceDeadLetterRepository } from '../../store/port.js';
import { type AppendTurn, AppendTurns } from './append-turns.js';
import type { CompiledSourceCommon } from './common.js';
import { asMappedEvents, buildSourceEvents } from './event-builder.js';
import { endMessageTrace, type MessageTrace, startMessageTrace } from './message-trace.js';
import type { ConnectorHealth, SourceConnector, SourceContext, SourceMessage } from './types.js';

export interface SourceRuntimeDeps {
  readonly log: EventLog;
  readonly registry: SchemaRegistry;
  readonly admission: LaneAdmission;
  readonly deadLetters: SourceDeadLetterRepository;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Called on every health change (metrics). */
  readonly onHealth?: (connector: string, health: ConnectorHealth) => void;
  /** Functions a `map` may call, e.g. `$routing(plant, material)` for reference data. */
  readonly bindings?: Readonly<Record<string, unknown>>;
  /** Spans of source messages. @default off */
  readonly tracing?: HubTracing;
}

/** What `GET /v1/connectors` shows of a running source. */
export interface SourceStatus {
  readonly name: string;
  readonly kind: string;
  readonly role: 'source';
  readonly plant: string | null;
  readonly health: ConnectorHealth;
  readonly messages: number;
  readonly events: number;
  readonly deadLettered: number;
  readonly lastError: { readonly at: string; readonly origin: string; readonly error: string } | null;
}

const RAW_LIMIT = 64 * 1024;

/** A message that became valid events, waiting for its batch's append. */
interface Mapped {
  readonly message: SourceMessage;
  readonly events: CloudEvent[];
  readonly trace: MessageTrace;
}

function errorText(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.path || '/'}: ${e.message}`).join('; ');
}

/**
 * Runs one source connector: maps what it reads into canonical events (its built-in mapping or the
 * `map` expression), checks them against the catalog, appends them durably, and only then acks
 * each message. A message that cannot become valid events goes to the source DLQ with its raw
 * bytes and is acked, so one bad message never blocks the rest; when the hub cannot take events
 * now (a lane at its limit, the log closing) the messages are nacked for the source to offer again.
 */
export class SourceRuntime {
  private health: ConnectorHealth;
  private messages = 0;
  private events = 0;
  private deadLettered = 0;
  private lastError: SourceStatus['lastError'] = null;
  private readonly controller = new AbortController();
  private readonly now: () => number;
  private readonly appendTurns = new AppendTurns();

  constructor(
    readonly name: string,
    readonly kind: string,
    private readonly source: SourceConnector,
    private readonly common: CompiledSourceCommon,
    private readonly deps: SourceRuntimeDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.health = { type: 'connecting', at: new Date(this.now()).toISOString() };
  }

  async start(): Promise<void> {
    const context: SourceContext = {
      name: this.name,
      logger: this.deps.logger,
      signal: this.controller.signal,
      deliver: (messages) => this.deliver(messages),
      health: (status) => {
        this.health = status;
        if (status.type === 'down' || status.type === 'degraded')
          this.deps.logger.warn({ connector: this.name, status }, 'connector health changed');
        this.deps.onHealth?.(this.name, status);
      },
    };
    await this.source.start(context);
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.source.stop();
  }

  status(): SourceStatus {
    return {
      name: this.name,
      kind: this.kind,
      role: 'source',
      plant: this.common.plant,
      health: this.health,
      messages: this.messages,
      events: this.events,
      deadLettered: this.deadLettered,
      lastError: this.lastError,
    };
  }

  /**
   * Maps, checks and appends a batch; resolves once every message is acked or nacked. Batches may
   * overlap (a source hands the next one while the last is being made durable): each maps on its
   * own, but appends in the order its deliver was called, so the log keeps the source's order.
   */
  private async deliver(messages: readonly SourceMessage[]): Promise<void> {
    const turn = this.appendTurns.take();
    try {
      this.messages += messages.length;
      const good = await this.mapAll(messages);
      await turn.ready;
      if (good.length === 0) return;
      await this.appendAndAck(good, turn);
    } finally {
      turn.done();
    }
  }

  /** Each message's events, or the message in the source DLQ and acked: one bad message fails alone. */
  private async mapAll(messages: readonly SourceMessage[]): Promise<Mapped[]> {
    const good: Mapped[] = [];
    for (const message of messages) {
      // Each message's events join the trace it arrived with, else a new one the hub starts.
      const trace = startMessageTrace(this.deps.tracing, this.name, this.kind, message);
      const outcome = await this.toEvents(message);
      if (typeof outcome === 'string') {
        try {
          await this.deadLetter(message, outcome, trace);
        } catch (error) {
          // Not in the DLQ, so not done: the source offers it again; the rest of the batch goes on.
          this.deps.logger.error(
            { connector: this.name, messageId: message.id, err: error },
            'the source dead-letter queue did not take a message',
          );
          await message.nack(1000);
          endMessageTrace(trace, 'nacked', 0, (error as Error).message);
          continue;
        }
        await message.ack();
        endMessageTrace(trace, 'dead-lettered', 0, outcome);
        continue;
      }
      for (const event of outcome) {
        event.traceparent ??= trace.carrier.traceparent;
        if (trace.carrier.tracestate !== undefined) event.tracestate ??= trace.carrier.tracestate;
      }
      good.push({ message, events: outcome, trace });
    }
    return good;
  }

  /** One append for the batch; every message acked once it is durable, or nacked if it failed. */
  private async appendAndAck(good: readonly Mapped[], turn: AppendTurn): Promise<void> {
    const events = good.flatMap((g) => g.events);
    let appended = 0;
    try {
      this.deps.admission.admit(events.map((e) => e.type));
      if (events.length > 0) {
        const append = this.deps.log.append(events);
        // Queued in the log: the next batch may append behind it while this one is made durable.
        turn.done();
        appended = (await append).filter((outcome) => !outcome.duplicate).length;
      }
    } catch (error) {
      turn.done();
      const retryInMs =
        error instanceof ProblemError && error.retryAfterSeconds !== undefined
          ? error.retryAfterSeconds * 1000
          : 1000;
      for (const g of good) {
        await g.message.nack(retryInMs);
        endMessageTrace(g.trace, 'nacked', 0, (error as Error).message);
      }
      if (!(error instanceof ProblemError))
        this.deps.logger.error({ connector: this.name, err: error }, 'append failed');
      return;
    }
    this.events += appended;
    for (const g of good) {
      await g.message.ack();
      endMessageTrace(g.trace, 'appended', g.events.length);
    }
  }

  private async toEvents(message: SourceMessage): Promise<CloudEvent[] | string> {
    if (message.error !== undefined) return message.error;
    let mapped = message.events;
    if (this.common.map) {
      try {
        const result = asMappedEvents(await this.common.map.evaluate(message.payload, this.deps.bindings));
        if (typeof result === 'string') return result;
        mapped = result;
      } catch (error) {
        return `the map failed: ${(error as Error).message}`;
      }
    }
    if (mapped === undefined)
      return 'no map is configured and the connector has no built-in mapping for this message';
    const { events, errors } = buildSourceEvents(mapped, {
      connector: this.name,
      messageId: message.id,
      plant: this.common.plant,
      now: this.now(),
      registry: this.deps.registry,
    });
    return errors.length > 0 ? `not valid canonical events: ${errorText(errors)}` : events;
  }

  private async deadLetter(message: SourceMessage, error: string, trace: MessageTrace): Promise<void> {
    const raw = typeof message.raw === 'string' ? Buffer.from(message.raw) : message.raw;
    const plant = message.events?.find((e) => e.plant !== undefined)?.plant ?? this.common.plant ?? null;
    await this.deps.deadLetters.add({
      connector: this.name,
      messageId: message.id,
      origin: message.origin,
      plant,
      error,
      raw: raw.subarray(0, RAW_LIMIT),
      at: this.now(),
    });
    this.deadLettered++;
    this.lastError = { at: new Date(this.now()).toISOString(), origin: message.origin, error };
    this.deps.logger.warn(
      { connector: this.name, messageId: message.id, origin: message.origin, traceId: trace.traceId, error },
      'source message moved to the dead-letter queue',
    );
  }
}
