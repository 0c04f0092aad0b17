/**
 * The connector contract: what a source or sink is, how it declares itself, and how it reports
 * health. Every technology (MQTT, OPC UA, files, REST polling, HTTP) implements these and passes
 * `connectorContract()`.
 */
import type { TSchema } from '@sinclair/typebox';
import type { Logger } from '../../observability/logger.js';
import type { TraceCarrier } from '../../observability/trace-context.js';

/** How mature a connector is; shown by `conveyor connectors list` and in the docs. */
export type Stability = 'stable' | 'beta' | 'experimental';

/** A status change of one connector, as a union keyed on `type` (streamed to metrics and the API). */
export type ConnectorHealth =
  | { readonly type: 'connecting'; readonly at: string }
  | { readonly type: 'up'; readonly at: string }
  | { readonly type: 'degraded'; readonly at: string; readonly reason: string }
  | { readonly type: 'down'; readonly at: string; readonly reason: string; readonly retryInMs?: number }
  /** Not run by this hub instance: another instance of the cluster runs it. */
  | { readonly type: 'standby'; readonly at: string; readonly reason: string };

/** A canonical event as a mapper produces it: the runtime adds id, source, time, dataschema. */
export interface MappedEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
  /** @default data.orderId ?? data.holdId ?? data.shipmentId ?? data.asnId ?? data.equipmentId */
  readonly subject?: string;
  /** @default data.plant, else the connector's `plant` */
  readonly plant?: string;
  /** RFC 3339; @default the time the hub read the message */
  readonly time?: string;
}

/**
 * One native message a source read, with its acknowledgement. The runtime calls `ack` only after
 * the message's events are durable in the log (or the message is in the source DLQ), so a crash
 * before that leaves it unacknowledged at its origin (an MQTT QoS 1 message, a file not yet moved).
 */
export interface SourceMessage {
  /**
   * Stable identity at the origin (MQTT topic + packet, file path + line, node + source timestamp):
   * event ids derive from it, so a message read twice is stored once.
   */
  readonly id: string;
  /** Where it came from, for errors and the source DLQ (topic, file:line, node id). */
  readonly origin: string;
  /** The decoded native payload the connector's JSONata `map` sees. */
  readonly payload: unknown;
  /** The raw bytes or text, kept in the source DLQ when the message cannot be mapped. */
  readonly raw: string | Uint8Array;
  /** Events a built-in mapper already produced; when absent, the runtime applies the `map` expression. */
  readonly events?: readonly MappedEvent[];
  /** Set when the message could not be decoded: the runtime puts it in the source DLQ with `raw`. */
  readonly error?: string;
  /**
   * The trace context the message arrived with, where the protocol carries one (MQTT 5 user
   * properties `traceparent`/`tracestate`); its events join that trace. Without it the runtime
   * starts a new trace per message.
   */
  readonly trace?: TraceCarrier;
  /** The message is done: its events are durable, or it is in the source DLQ. */
  ack(): void | Promise<void>;
  /** The hub could not take it now (shutting down, lane full); the source should offer it again later. */
  nack(retryInMs: number): void | Promise<void>;
}

/** What a running source connector is given. */
export interface SourceContext {
  /** The connector's name in `connectors:`. */
  readonly name: string;
  /**
   * Hands messages to the hub. Resolves once each is acked or nacked; sources that read in
   * batches await it before reading more, which is their back-pressure. A source may call it again
   * before an earlier call resolves (to keep its window full while a batch is made durable): the
   * events of the earlier call are appended to the log first.
   */
  deliver(messages: readonly SourceMessage[]): Promise<void>;
  /** Reports a status change. */
  health(status: ConnectorHealth): void;
  readonly logger: Logger;
  /** Aborted when the hub stops: stop reading, let deliveries in flight finish. */
  readonly signal: AbortSignal;
}

/** A source: reads from its peer until stopped. `start` resolves once it is connecting. */
export interface SourceConnector {
  start(context: SourceContext): Promise<void>;
  /** Stops reading, waits for deliveries in flight, releases every connection and session. */
  stop(): Promise<void>;
}

/** A declarative connector spec: validates the config and feeds CLI help and the docs. */
export interface ConnectorSpec<Config> {
  readonly kind: string;
  readonly summary: string;
  readonly stability: Stability;
  /** The JSON Schema (TypeBox) of the connector's config, `kind` included. */
  readonly schema: TSchema;
  /** A sink that takes several events in one attempt (`sendBatch`), so routes to it may set `batch`. */
  readonly batches?: boolean;
  /** Compiles a raw config (already schema-valid) into the frozen form, adding problems by key path. */
  compile(
    raw: Record<string, unknown>,
    at: string,
    problems: Array<{ path: string; message: string }>,
    baseDir: string,
  ): Config;
}

export type SourceFactory<Config> = (config: Config, name: string) => SourceConnector;
