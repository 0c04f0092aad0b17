/**
 * The MQTT source: a persistent session (clean: false) with QoS 1 subscriptions, where the broker
 * gets the PUBACK of a message only after the hub has acked it (its events are durable, or it is
 * in the source DLQ). A crash before that leaves the message at the broker, which offers it again
 * to the next session.
 *
 * Acknowledgement: mqtt.js sends a PUBACK when `handleMessage` calls back, and handles incoming
 * packets strictly one at a time, so holding that callback until the hub acks would let a single
 * message be in flight and would also hold up PINGRESPs. Instead the callback is given an error,
 * which makes mqtt.js skip its PUBACK and read on, and the source writes the PUBACK itself once the
 * hub acks, in the order the PUBLISHes arrived (MQTT requires that order), on the connection that
 * carried them.
 *
 * Back-pressure: at most `maxInFlight` messages and `maxInFlightBytes` of payload are handed to the
 * hub and not yet acked. The broker stops sending once its own window of unacknowledged PUBLISHes
 * is full (MQTT 5: the Receive Maximum the source announces, set to `maxInFlight`; MQTT 3.1.1: the
 * broker's setting, such as mosquitto's max_inflight_messages). Should it send more, the source
 * stops taking packets from mqtt.js, which stops reading the socket, until the hub acks. While
 * packets wait, mqtt.js does not see PINGRESPs either: a hub that takes no message for longer than
 * about 1.5 keep-alive intervals makes the connection drop and come back, and the broker's
 * redeliveries join the messages the hub already has (same id, one delivery).
 *
 * Batches: what arrives in one turn of the event loop goes to the hub as one batch (one append to
 * the log), at most half the window each, without waiting for the batch before it to be durable.
 * The broker's window is small (mosquitto's default is 20), so waiting would leave it idle for
 * every commit; the hub appends overlapping batches in the order they were handed over, and each
 * batch's PUBACKs still wait for its own commit. Halves let one commit's PUBACKs bring the broker's
 * next messages while the other half is being committed.
 *
 * That mqtt.js skips its PUBACK when handleMessage calls back with an error holds for mqtt.js 5
 * (handlers/publish.js); the integration tests fail if a PUBACK leaves before the hub's ack.
 */
import type { Writable } from 'node:stream';
import {
  connect,
  type IClientOptions,
  type IConnackPacket,
  type IPublishPacket,
  type MqttClient,
} from 'mqtt';
import {
  formatTraceparent,
  parseTraceparent,
  type TraceCarrier,
  validTracestate,
} from '../../observability/trace-context.js';
import { nowIso, reconnectDelay } from '../framework/common.js';
import type {
  ConnectorHealth,
  MappedEvent,
  SourceConnector,
  SourceContext,
  SourceMessage,
} from '../framework/types.js';
import { brokerSecurityOptions } from './client-options.js';
import { type Decoded, decodeJson, SparkplugDecoder } from './decode.js';
import type { RebirthRequest } from './sparkplug/session.js';
import { SPARKPLUG_NAMESPACE } from './sparkplug/topic.js';
import type { MqttSourceConfig } from './spec.js';

/** A message of this source; `error` sends it to the source DLQ. */
export interface MqttSourceMessage extends SourceMessage {
  /** Why the message cannot become events (undecodable, unknown Sparkplug alias); the hub dead-letters it. */
  readonly error?: string;
}

/** Knobs for tests and embedding; the config holds everything a user sets. */
export interface MqttSourceOptions {
  /** How long `stop` waits for deliveries in flight before it disconnects anyway. @default 10000 */
  readonly drainTimeoutMs?: number;
  /** A degraded health returns to up after this long without a new problem. @default 60000 */
  readonly recoverAfterMs?: number;
  readonly now?: () => number;
  /** The jitter of reconnect delays. @default Math.random */
  readonly random?: () => number;
}

/** Given to mqtt.js's handleMessage callback so that it does not send its own PUBACK. */
const PUBACK_DEFERRED = new Error('PUBACK deferred until the hub acks the message');
/** Ids of messages the hub acked lately, so a redelivery whose PUBACK was lost is acked at once. */
const RECENT_IDS = 10_000;
/** A delivery that finished without an ack or a nack is offered again after this long. */
const UNSETTLED_RETRY_MS = 1_000;
const END_TIMEOUT_MS = 5_000;

/** One QoS 1 PUBLISH received on one connection, to be acknowledged in arrival order. */
interface Receipt {
  readonly stream: unknown;
  readonly packetId: number;
  done: boolean;
}

/** A message handed (or about to be handed) to the hub. */
interface InFlight {
  readonly id: string;
  readonly order: number;
  /** Payload size, counted against `maxInFlightBytes`. */
  readonly bytes: number;
  readonly receipts: Receipt[];
  message: MqttSourceMessage;
  settled: boolean;
  retryTimer: NodeJS.Timeout | null;
}

/** The trace context an MQTT 5 PUBLISH carries as user properties, if it is a valid one. */
function traceOf(packet: IPublishPacket): TraceCarrier | undefined {
  const properties = packet.properties?.userProperties;
  if (!properties) return undefined;
  const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
  const parsed = parseTraceparent(first(properties.traceparent));
  if (!parsed) return undefined;
  const tracestate = validTracestate(first(properties.tracestate));
  return { traceparent: formatTraceparent(parsed), ...(tracestate ? { tracestate } : {}) };
}

/** A PUBACK with reason Success: the same four bytes in MQTT 3.1.1 and 5. */
function puback(packetId: number): Buffer {
  return Buffer.from([0x40, 0x02, packetId >> 8, packetId & 0xff]);
}

/** Reads a broker's topics into the hub; see the file comment for how acks and back-pressure work. */
export class MqttSource implements SourceConnector {
  private readonly clientId: string;
  private readonly drainTimeoutMs: number;
  private readonly recoverAfterMs: number;
  /** When the current connection was opened: the timestamp of the host STATE birth and will. */
  private stateTimestamp = 0;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sparkplug: SparkplugDecoder | null;

  private context: SourceContext | null = null;
  private client: MqttClient | null = null;
  private stopping = false;
  private stopped: Promise<void> | null = null;

  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private lastError: string | null = null;
  private subscribed = false;
  private health: ConnectorHealth['type'] = 'connecting';
  private degradedAt = 0;
  private recoverTimer: NodeJS.Timeout | null = null;

  private receipts: Receipt[] = [];
  private readonly inFlight = new Map<string, InFlight>();
  private readonly recent = new Set<string>();
  private inFlightBytes = 0;
  private queue: InFlight[] = [];
  private order = 0;
  private batchScheduled = false;
  private pubackScheduled = false;
  private readonly deliveries = new Set<Promise<void>>();
  private stalled: (() => void) | null = null;

  constructor(
    private readonly config: MqttSourceConfig,
    readonly name: string,
    options: MqttSourceOptions = {},
  ) {
    this.clientId = config.clientId ?? `conveyor-${name}`;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
    this.recoverAfterMs = options.recoverAfterMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sparkplug = config.sparkplug ? new SparkplugDecoder(config.sparkplug, !config.mapped) : null;
  }

  /** Messages read from the broker that the hub has not acked yet; never more than `maxInFlight`. */
  get unacked(): number {
    return this.inFlight.size;
  }

  /** The window is full: the next packet waits in mqtt.js (and the socket) until the hub acks. */
  private get full(): boolean {
    return (
      this.inFlight.size >= this.config.maxInFlight || this.inFlightBytes >= this.config.maxInFlightBytes
    );
  }

  async start(context: SourceContext): Promise<void> {
    if (this.context) throw new Error(`mqtt source ${this.name} was already started`);
    this.context = context;
    this.report({ type: 'connecting', at: nowIso(this.now) });
    const client = connect(this.config.url, this.clientOptions());
    this.client = client;
    client.handleMessage = (packet, callback) => this.onPublish(packet, callback);
    client.on('connect', (connack) => this.onConnect(connack));
    client.on('close', () => this.onClose());
    // The close that follows reports it; without a listener mqtt.js would throw.
    client.on('error', (error) => {
      this.lastError = error.message;
    });
    this.connectClient(client, false);
  }

  stop(): Promise<void> {
    if (!this.context) return Promise.resolve();
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private clientOptions(): IClientOptions {
    const { config } = this;
    const options: IClientOptions = {
      clientId: this.clientId,
      clean: false,
      protocolVersion: config.protocolVersion,
      keepalive: config.keepaliveSeconds,
      // Reconnects follow the configured back-off (onClose), not mqtt.js's fixed period.
      reconnectPeriod: 0,
      manualConnect: true,
      resubscribe: false,
    };
    Object.assign(options, brokerSecurityOptions(config));
    const will = this.hostState(false);
    if (will) options.will = will;
    if (config.protocolVersion === 5) {
      options.properties = {
        // Without an expiry an MQTT 5 session ends with the connection.
        sessionExpiryInterval: config.sessionExpirySeconds ?? 0xffff_ffff,
        receiveMaximum: config.maxInFlight,
      };
    }
    return options;
  }

  private get reading(): boolean {
    return !this.stopping && this.context?.signal.aborted === false;
  }

  private report(status: ConnectorHealth): void {
    this.health = status.type;
    this.context?.health(status);
  }

  /**
   * The Sparkplug B STATE of the primary host application this source acts as: retained, QoS 1, with
   * the timestamp of the current connection in both the online birth and the offline will.
   */
  private hostState(online: boolean) {
    const hostId = this.config.sparkplug?.hostId;
    if (!hostId) return null;
    return {
      topic: `${SPARKPLUG_NAMESPACE}/STATE/${hostId}`,
      payload: Buffer.from(JSON.stringify({ online, timestamp: this.stateTimestamp })),
      qos: 1 as const,
      retain: true,
    };
  }

  /** Each connection gets a new STATE timestamp, so edge nodes can tell a stale will from a new birth. */
  private connectClient(client: MqttClient, reconnect: boolean): void {
    this.stateTimestamp = this.now();
    const will = this.hostState(false);
    if (will) client.options.will = will;
    if (reconnect) client.reconnect();
    else client.connect();
  }

  private onConnect(connack: IConnackPacket): void {
    if (this.stopping) return;
    this.attempt = 0;
    this.lastError = null;
    const birth = this.hostState(true);
    // Queued behind the SUBSCRIBE below on the same connection: edge nodes see it once the hub reads.
    if (birth)
      queueMicrotask(() => this.client?.publish(birth.topic, birth.payload, { qos: 1, retain: true }));
    // A resumed session keeps its subscriptions; subscribing again would also resend retained messages.
    if (this.subscribed && connack.sessionPresent) {
      this.report({ type: 'up', at: nowIso(this.now) });
      return;
    }
    const v5 = this.config.protocolVersion === 5;
    const subscriptions = Object.fromEntries(
      this.config.topics.map((topic) => [
        topic,
        v5 ? { qos: this.config.qos, rh: 1 } : { qos: this.config.qos },
      ]),
    );
    this.client!.subscribe(subscriptions, (error, granted) => {
      if (this.stopping) return;
      if (error) {
        // Mostly the connection closed under it, and the next connect subscribes again.
        this.lastError = `subscribe failed: ${error.message}`;
        if (this.client?.connected)
          this.report({ type: 'degraded', at: nowIso(this.now), reason: this.lastError });
        return;
      }
      this.subscribed = true;
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (refused.length > 0)
        this.report({
          type: 'degraded',
          at: nowIso(this.now),
          reason: `the broker refused the subscription to ${refused.join(', ')}`,
        });
      else this.report({ type: 'up', at: nowIso(this.now) });
    });
  }

  private onClose(): void {
    // PUBACKs can only go on the connection that carried the PUBLISH; the broker resends the rest.
    this.receipts = [];
    if (this.stopping || this.reconnectTimer) return;
    this.attempt++;
    const delay = reconnectDelay(this.config.reconnect, this.attempt, this.random);
    this.report({
      type: 'down',
      at: nowIso(this.now),
      reason: this.lastError ?? 'the connection to the broker closed',
      retryInMs: delay,
    });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopping && this.client) this.connectClient(this.client, true);
    }, delay);
  }

  /** mqtt.js's per-packet hook: it reads the next packet once `callback` is called. */
  private onPublish(packet: IPublishPacket, callback: (error?: Error) => void): void {
    const client = this.client!;
    const deferred = packet.qos === 1;
    const receipt: Receipt | null =
      deferred && packet.messageId !== undefined
        ? { stream: client.stream, packetId: packet.messageId, done: false }
        : null;
    if (receipt) this.receipts.push(receipt);
    const release = () => callback(deferred ? PUBACK_DEFERRED : undefined);
    const take = () => {
      // Not acknowledged: the broker offers it again to the next session.
      if (!this.reading) {
        release();
        return;
      }
      try {
        this.accept(packet, receipt);
      } catch (error) {
        this.context?.logger.error({ err: error, topic: packet.topic }, 'mqtt message could not be handled');
      }
      if (this.full) this.stalled = release;
      else release();
    };
    // A new connection can bring packets while the window is still full from the last one.
    if (this.full) this.stalled = take;
    else take();
  }

  private accept(packet: IPublishPacket, receipt: Receipt | null): void {
    const topic = packet.topic;
    const bytes = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const json = this.sparkplug ? null : decodeJson(topic, bytes);
    const id = json ? json.id : SparkplugDecoder.messageId(topic, bytes);
    const current = this.inFlight.get(id);
    if (current) {
      // A redelivery of a message the hub has not finished: one delivery, and both PUBLISHes acked with it.
      if (receipt) current.receipts.push(receipt);
      return;
    }
    if (this.recent.has(id)) {
      // The hub has it already; only the PUBACK was lost with a connection.
      this.complete(receipt);
      return;
    }
    let decoded: Decoded;
    try {
      decoded = json ?? this.sparkplug!.decode(topic, bytes, this.now(), id);
    } catch (error) {
      // A bug rather than bad data, but the message must still end somewhere: the DLQ keeps its bytes.
      const reason = `could not be decoded: ${error instanceof Error ? error.message : String(error)}`;
      decoded = { kind: 'deliver', id, payload: null, events: [], error: reason, warnings: [] };
    }
    if (decoded.rebirth) this.requestRebirth(decoded.rebirth);
    if (decoded.warnings.length > 0) this.degrade(decoded.warnings.join('; '));
    if (decoded.kind === 'skip') {
      this.context?.logger.debug({ topic, note: decoded.note }, 'mqtt message carries no events');
      this.complete(receipt);
      return;
    }
    if (decoded.error !== undefined) this.degrade(`${topic}: ${decoded.error}`);
    this.enqueue(decoded, topic, bytes, receipt, traceOf(packet));
  }

  private enqueue(
    decoded: Extract<Decoded, { kind: 'deliver' }>,
    topic: string,
    bytes: Buffer,
    receipt: Receipt | null,
    trace: TraceCarrier | undefined,
  ): void {
    const entry: InFlight = {
      id: decoded.id,
      order: this.order++,
      bytes: bytes.length,
      receipts: receipt ? [receipt] : [],
      settled: false,
      retryTimer: null,
      message: undefined as unknown as MqttSourceMessage,
    };
    const events: { events?: readonly MappedEvent[] } = decoded.events ? { events: decoded.events } : {};
    const error: { error?: string } = decoded.error !== undefined ? { error: decoded.error } : {};
    entry.message = {
      id: decoded.id,
      origin: topic,
      payload: decoded.payload,
      raw: bytes,
      ...events,
      ...error,
      ...(trace ? { trace } : {}),
      ack: () => this.settle(entry),
      nack: (retryInMs: number) => this.retryLater(entry, retryInMs),
    };
    this.inFlight.set(entry.id, entry);
    this.inFlightBytes += entry.bytes;
    this.queue.push(entry);
    this.kick();
  }

  /** Marks a PUBLISH done; every PUBACK that is then due goes out at the end of this turn. */
  private complete(receipt: Receipt | null): void {
    if (receipt) receipt.done = true;
    if (this.pubackScheduled || !this.receipts[0]?.done) return;
    this.pubackScheduled = true;
    // The hub acks a batch message by message: one write for all of them, not one system call each.
    setImmediate(() => {
      this.pubackScheduled = false;
      this.sendDuePubacks();
    });
  }

  /** Sends the PUBACK of every done PUBLISH that no earlier one waits before, in arrival order. */
  private sendDuePubacks(): void {
    const client = this.client;
    const stream = client?.connected ? (client.stream as Writable) : null;
    stream?.cork();
    while (this.receipts[0]?.done) {
      const next = this.receipts.shift()!;
      if (stream && stream === next.stream) stream.write(puback(next.packetId));
    }
    stream?.uncork();
  }

  private settle(entry: InFlight): void {
    if (entry.settled) return;
    entry.settled = true;
    if (entry.retryTimer) clearTimeout(entry.retryTimer);
    entry.retryTimer = null;
    this.inFlight.delete(entry.id);
    this.inFlightBytes -= entry.bytes;
    this.recent.add(entry.id);
    if (this.recent.size > RECENT_IDS) this.recent.delete(this.recent.values().next().value!);
    for (const receipt of entry.receipts) receipt.done = true;
    this.complete(null);
    if (this.stalled && !this.full) {
      const resume = this.stalled;
      this.stalled = null;
      resume();
    }
  }

  private retryLater(entry: InFlight, retryInMs: number): void {
    if (entry.settled || entry.retryTimer || this.stopping) return;
    entry.retryTimer = setTimeout(
      () => {
        entry.retryTimer = null;
        if (entry.settled || !this.reading) return;
        // Back in arrival order among what waits.
        const at = this.queue.findIndex((e) => e.order > entry.order);
        this.queue.splice(at === -1 ? this.queue.length : at, 0, entry);
        this.kick();
      },
      Math.max(0, retryInMs),
    );
  }

  /** Delivers what waits `turns` turns of the event loop from now (one: what arrived in this one). */
  private kick(turns: 1 | 2 = 1): void {
    if (this.batchScheduled || !this.reading || this.queue.length === 0) return;
    this.batchScheduled = true;
    // What arrived in one burst (the packets of one socket read) goes as one batch.
    const run = () => {
      this.batchScheduled = false;
      this.deliverQueued();
    };
    setImmediate(turns === 1 ? run : () => setImmediate(run));
  }

  /**
   * Hands what waits to the hub as one batch, without waiting for the batches before it. A batch
   * is at most half the window: a broker that fills the window in one burst would otherwise get
   * every PUBACK only after one commit of it all, and sit idle meanwhile. The rest goes a turn
   * after this batch's commit has started, so the commits overlap and the first half's PUBACKs
   * bring the broker's next messages while the second half is committed.
   */
  private deliverQueued(): void {
    if (!this.reading || this.queue.length === 0) return;
    // The window bounds the queue: every queued message is one of the unacked ones.
    const batch = this.queue.splice(0, Math.max(1, Math.ceil(this.config.maxInFlight / 2)));
    const delivery = this.deliver(batch);
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
    // Two turns: the log starts the commit of what it was handed in the next one.
    this.kick(2);
  }

  /** Never rejects: a batch the hub did not settle is offered again later. */
  private async deliver(batch: readonly InFlight[]): Promise<void> {
    try {
      await this.context!.deliver(batch.map((e) => e.message));
    } catch (error) {
      this.context?.logger.warn({ err: error }, 'the hub did not take an mqtt batch');
    }
    for (const entry of batch) if (!entry.settled) this.retryLater(entry, UNSETTLED_RETRY_MS);
  }

  private requestRebirth(rebirth: RebirthRequest): void {
    if (!this.reading) return;
    this.context?.logger.info({ topic: rebirth.topic }, 'asking a Sparkplug edge node for a rebirth');
    this.client?.publish(rebirth.topic, Buffer.from(rebirth.payload), {
      qos: rebirth.qos,
      retain: rebirth.retain,
    });
  }

  /** Reports a problem with the data; up again after `recoverAfterMs` without another one. */
  private degrade(reason: string): void {
    const now = this.now();
    // A burst of bad messages reports once a second, not once a message.
    if (this.health !== 'degraded' || now - this.degradedAt >= 1_000) {
      this.degradedAt = now;
      this.report({ type: 'degraded', at: nowIso(this.now), reason });
    }
    if (this.recoverTimer) clearTimeout(this.recoverTimer);
    this.recoverTimer = setTimeout(() => {
      this.recoverTimer = null;
      if (this.health === 'degraded' && this.client?.connected && !this.stopping)
        this.report({ type: 'up', at: nowIso(this.now) });
    }, this.recoverAfterMs);
    this.recoverTimer.unref();
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    for (const timer of [this.reconnectTimer, this.recoverTimer]) if (timer) clearTimeout(timer);
    this.reconnectTimer = null;
    this.recoverTimer = null;
    for (const entry of this.inFlight.values()) if (entry.retryTimer) clearTimeout(entry.retryTimer);
    this.queue = [];
    const stalled = this.stalled;
    this.stalled = null;
    stalled?.();
    if (this.deliveries.size > 0) await within(Promise.all(this.deliveries), this.drainTimeoutMs);
    const client = this.client!;
    // A clean stop says so itself: the broker does not send the will on a DISCONNECT.
    const death = this.hostState(false);
    if (death && client.connected) {
      const published = new Promise<void>((resolve) =>
        client.publish(death.topic, death.payload, { qos: 1, retain: true }, () => resolve()),
      );
      await within(published, END_TIMEOUT_MS);
    }
    // DISCONNECT after the PUBACKs of what the hub acked while draining (the same socket, in order).
    this.sendDuePubacks();
    const ended = new Promise<void>((resolve) => client.end(!client.connected, {}, () => resolve()));
    if (!(await within(ended, END_TIMEOUT_MS))) client.stream?.destroy();
    this.receipts = [];
  }
}

/** Waits for `promise` at most `ms`; true when it settled in time. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
