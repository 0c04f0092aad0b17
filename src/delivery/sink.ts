import type jsonata from 'jsonata';
import { type StoredEvent, storedEventJson } from '../model/envelope.js';
import type { TraceCarrier } from '../observability/trace-context.js';
import type { Clock } from './clock.js';
import type { AttemptOutcome } from './outcome.js';

/**
 * Where a route delivers: an HTTP endpoint, a file, a broker. One delivery attempt answers
 * delivered, retry (with an optional wait) or rejected, which the route's retry policy, circuit
 * breaker and DLQ act on the same way whatever the technology.
 */
export interface DeliverySink {
  /** What operators see in statuses and logs (a URL, a folder, a topic). */
  readonly endpoint: string;
  /**
   * One attempt. `trace` is the attempt's own trace context (a new span in the event's trace):
   * a sink whose protocol has a place for it sends it there (HTTP headers, MQTT 5 user properties).
   */
  send(
    event: StoredEvent,
    transform: jsonata.Expression | null,
    timeoutMs: number,
    signal?: AbortSignal,
    trace?: TraceCarrier,
  ): Promise<AttemptOutcome>;
  /**
   * One attempt at several events together, in the given order (one request, one write, one
   * round of acks); its outcome is every event's. Absent on sinks that cannot batch: a route
   * with `batch` is refused at start for them.
   */
  sendBatch?(
    events: readonly StoredEvent[],
    transform: jsonata.Expression | null,
    timeoutMs: number,
    signal?: AbortSignal,
    trace?: TraceCarrier,
  ): Promise<AttemptOutcome>;
  /** Releases connections and files; deliveries have stopped before it is called. */
  close(): Promise<void>;
}

/** Creates a sink from its compiled config (registered per kind). */
export type SinkFactory<Config> = (config: Config, name: string, clock: Clock) => DeliverySink;

/** The JSON an event is sent as: its transform's result, or the stored event itself. */
export async function eventBody(event: StoredEvent, transform: jsonata.Expression | null): Promise<string> {
  return transform ? JSON.stringify((await transform.evaluate(event)) ?? null) : storedEventJson(event);
}

/** A transform that fails on an event fails on every retry too: the attempt is refused. */
export function transformRefused(error: unknown): AttemptOutcome {
  return { kind: 'rejected', status: 0, error: `transform failed: ${(error as Error).message}`, ms: 0 };
}
