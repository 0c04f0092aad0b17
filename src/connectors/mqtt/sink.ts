import type jsonata from 'jsonata';
import type { IClientOptions, IClientPublishOptions, MqttClient } from 'mqtt';
import type { Clock } from '../../delivery/clock.js';
import type { AttemptOutcome } from '../../delivery/outcome.js';
import { type DeliverySink, eventBody, transformRefused } from '../../delivery/sink.js';
import type { StoredEvent } from '../../model/envelope.js';
import type { TraceCarrier } from '../../observability/trace-context.js';
import { brokerSecurityOptions } from './client-options.js';
import type { MqttOutConfig } from './sink-spec.js';

export { type MqttOutConfig, mqttOutSinkSpec } from './sink-spec.js';

/** Characters that would change a topic's levels or make it a filter. */
const TOPIC_UNSAFE = /[+#/]/g;

/** The publish topic of one event: each placeholder replaced by its attribute (`_` when absent). */
export function topicFor(template: string, event: StoredEvent): string {
  return template.replace(/\{(type|plant|subject)\}/g, (_, name: 'type' | 'plant' | 'subject') => {
    const value = event[name];
    const text = value === undefined || value === null || value === '' ? '_' : String(value);
    // A NUL would make the whole topic invalid.
    return text.replace(TOPIC_UNSAFE, '_').replaceAll('\u0000', '_');
  });
}

/** The attempt's trace context as MQTT 5 user properties, named as the W3C headers are. */
function traceUserProperties(trace: TraceCarrier): Record<string, string> {
  return trace.tracestate !== undefined
    ? { traceparent: trace.traceparent, tracestate: trace.tracestate }
    : { traceparent: trace.traceparent };
}

/**
 * A delivery sink that publishes each event to one MQTT broker over a single connection that
 * mqtt.js keeps reconnecting. With QoS 1 an event is delivered once the broker's PUBACK arrives;
 * with QoS 0 once the packet is written. While the connection is down every attempt answers
 * retry at once, so events wait in the route (its back-off and circuit breaker), not in memory
 * inside the client. mqtt.js is imported when the first such sink is created (a hub without one
 * never loads it); until it is, attempts answer retry as while not connected.
 */
export class MqttOutSink implements DeliverySink {
  readonly endpoint: string;
  private client: MqttClient | null = null;
  private readonly connecting: Promise<MqttClient | null>;
  private closed = false;
  private lastError: string | null = null;

  constructor(
    private readonly config: MqttOutConfig,
    name: string,
  ) {
    this.endpoint = `${config.url.replace(/\/$/, '')}/${config.topic}`;
    this.connecting = import('mqtt').then(
      ({ default: mqtt }) => {
        if (this.closed) return null;
        const client = mqtt.connect(config.url, this.clientOptions(name));
        // Without a listener an 'error' event would throw; the next attempt reports it instead.
        client.on('error', (error) => {
          this.lastError = error.message;
        });
        client.on('connect', () => {
          this.lastError = null;
        });
        this.client = client;
        return client;
      },
      (error: Error) => {
        this.lastError = `the MQTT client could not be loaded: ${error.message}`;
        return null;
      },
    );
  }

  private clientOptions(name: string): IClientOptions {
    const { config } = this;
    const options: IClientOptions = {
      clientId: config.clientId ?? `conveyor-out-${name}`,
      clean: true,
      protocolVersion: config.protocolVersion,
      reconnectPeriod: 1_000,
      connectTimeout: 10_000,
      // Never hold QoS 0 messages for a later connection: the route retries them instead.
      queueQoSZero: false,
    };
    Object.assign(options, brokerSecurityOptions(config));
    return options;
  }

  send(
    event: StoredEvent,
    transform: jsonata.Expression | null,
    timeoutMs: number,
    signal?: AbortSignal,
    trace?: TraceCarrier,
  ): Promise<AttemptOutcome> {
    return this.sendBatch([event], transform, timeoutMs, signal, trace);
  }

  /**
   * Publishes the batch's messages in order and awaits their acks together: delivered once every
   * one is acknowledged, retry (all of them) if any is not.
   */
  async sendBatch(
    events: readonly StoredEvent[],
    transform: jsonata.Expression | null,
    timeoutMs: number,
    signal?: AbortSignal,
    trace?: TraceCarrier,
  ): Promise<AttemptOutcome> {
    const started = performance.now();
    const messages: Array<{ topic: string; body: string }> = [];
    for (const event of events) {
      let body: string;
      try {
        body = await eventBody(event, transform);
      } catch (error) {
        return transformRefused(error);
      }
      const topic = topicFor(this.config.topic, event);
      if (topic === '' || Buffer.byteLength(topic) > 65_535)
        return {
          kind: 'rejected',
          status: 0,
          error: `no valid topic for this event ("${topic.slice(0, 80)}")`,
          ms: 0,
        };
      messages.push({ topic, body });
    }
    if (signal?.aborted)
      return { kind: 'retry', error: 'stopped', ms: performance.now() - started, retryAfterMs: null };
    const client = this.client;
    if (client === null || !client.connected) {
      return {
        kind: 'retry',
        error: `not connected to the broker${this.lastError ? ` (${this.lastError})` : ''}`,
        ms: performance.now() - started,
        retryAfterMs: null,
      };
    }
    const options: IClientPublishOptions = { qos: this.config.qos, retain: this.config.retain };
    if (this.config.protocolVersion === 5)
      options.properties = {
        contentType: transform ? 'application/json' : 'application/cloudevents+json',
        // MQTT 5 has user properties for this; 3.1.1 has nowhere to put the attempt's trace context.
        ...(trace ? { userProperties: traceUserProperties(trace) } : {}),
      };

    let abort: (reason: string) => void = () => undefined;
    const stopped = new Promise<never>((_, reject) => {
      abort = (reason) => reject(new Error(reason));
    });
    const timer = setTimeout(() => abort(`timeout after ${timeoutMs} ms`), timeoutMs);
    const onStop = () => abort('stopped');
    signal?.addEventListener('abort', onStop, { once: true });
    // Packet ids of this attempt's publishes, so that a retry can take them back from the client.
    const packetIds: number[] = [];
    try {
      const published = Promise.all(
        messages.map((m) => {
          const before = client.getLastMessageId();
          const one = client.publishAsync(m.topic, m.body, options);
          const id = client.getLastMessageId();
          if (id !== before && client.outgoing[id]) packetIds.push(id);
          // After a timeout the publish may still fail (the connection drops, close ends it): nobody awaits it then.
          one.catch(() => undefined);
          return one;
        }),
      );
      published.catch(() => undefined);
      await Promise.race([published, stopped]);
      return { kind: 'delivered', status: 200, ms: performance.now() - started };
    } catch (error) {
      // A lost connection, a timeout or a stop: the broker may not have it, so the route sends it
      // again. The client would also send what it still holds once it reconnects, a second copy
      // behind the route's back: it lets go of this attempt's publishes.
      for (const id of packetIds) if (client.outgoing[id]) client.removeOutgoingMessage(id);
      return {
        kind: 'retry',
        error: (error as Error).message,
        ms: performance.now() - started,
        retryAfterMs: null,
      };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onStop);
      // The race's loser must not surface as an unhandled rejection.
      stopped.catch(() => undefined);
    }
  }

  /** Ends the connection without waiting for PUBACKs: deliveries have stopped, their outcomes are final. */
  async close(): Promise<void> {
    this.closed = true;
    await (await this.connecting)?.endAsync(true);
  }
}

export const createMqttOutSink = (config: MqttOutConfig, name: string, _clock: Clock) =>
  new MqttOutSink(config, name);
