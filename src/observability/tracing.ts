import type { Attributes, Span, SpanKind, SpanStatusCode, Tracer } from '@opentelemetry/api';
import type { Logger } from './logger.js';
import type { TraceCarrier } from './trace-context.js';
import type { TracingSettings } from './tracing-settings.js';

/** What an exporting tracer provider offers the hub (the SDK's BasicTracerProvider). */
export interface ExportingProvider {
  getTracer(name: string): Tracer;
  shutdown(): Promise<void>;
}

/** Starts spans on a tracer (`tracing-spans.ts`, loaded with the SDK when tracing is on). */
export interface SpanStarter {
  startSpan(name: string, kind: SpanKind, parent: TraceCarrier | undefined, attributes?: Attributes): Span;
}

/**
 * OpenTelemetry's span kinds and status codes, whose numbers the API fixes. Defined here so that
 * code marking spans does not load the API: a hub without tracing never loads OpenTelemetry.
 */
export const Kind = { INTERNAL: 0, SERVER: 1, CLIENT: 2, PRODUCER: 3, CONSUMER: 4 } as const satisfies Record<
  string,
  SpanKind
>;
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const satisfies Record<string, SpanStatusCode>;

/**
 * The hub's spans. Off (the default), nothing is created: callers check `enabled` and skip span
 * work altogether, and no OpenTelemetry module is loaded. On, one provider per hub exports to
 * OTLP/HTTP in batches. Every span is parented explicitly on the event's or the request's trace
 * context, so no process-wide context manager or provider is installed: several hubs in one
 * process keep their spans apart.
 */
export class HubTracing {
  readonly enabled: boolean;

  private constructor(
    private readonly provider: ExportingProvider | null,
    private readonly spans: SpanStarter | null,
  ) {
    this.enabled = spans !== null;
  }

  /** Tracing off: spans are not created; trace context is still carried on events and deliveries. */
  static disabled(): HubTracing {
    return new HubTracing(null, null);
  }

  /**
   * Tracing as configured: off without settings, else exporting to the configured collector. The
   * OpenTelemetry API, SDK and OTLP exporter are imported only then: a hub without tracing never loads them.
   */
  static async create(
    settings: TracingSettings | null,
    options: { readonly logger: Logger; readonly version: string; readonly instanceId?: string },
  ): Promise<HubTracing> {
    if (settings === null) return HubTracing.disabled();
    const [{ createExportingProvider }, { TracerSpans }] = await Promise.all([
      import('./tracing-export.js'),
      import('./tracing-spans.js'),
    ]);
    const provider = createExportingProvider(settings, options);
    return new HubTracing(provider, new TracerSpans(provider.getTracer('conveyor')));
  }

  /**
   * Starts a span under `parent` (the caller's or the event's context), or a new trace without one.
   * Only when `enabled`: callers check it first.
   */
  startSpan(name: string, kind: SpanKind, parent: TraceCarrier | undefined, attributes?: Attributes): Span {
    if (!this.spans) throw new Error('tracing is off: check `enabled` before starting a span');
    return this.spans.startSpan(name, kind, parent, attributes);
  }

  /** The `traceparent` (and `tracestate`) that makes the receiver's work a child of `span`. */
  carrierOf(span: Span): TraceCarrier {
    return spanCarrier(span);
  }

  /** Exports what is still buffered and stops; a collector that does not answer delays this by at most a few seconds. */
  async shutdown(): Promise<void> {
    await this.provider?.shutdown().catch(() => undefined);
  }
}

/**
 * The `traceparent` (and `tracestate`) that makes the receiver's work a child of `span`: its
 * context written as W3C Trace Context version 00, as OpenTelemetry's propagator writes it.
 */
export function spanCarrier(span: Span): TraceCarrier {
  const context = span.spanContext();
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, '0');
  const traceparent = `00-${context.traceId}-${context.spanId}-${flags}`;
  const tracestate = context.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** Span attribute names, following the OpenTelemetry semantic conventions where one exists. */
export const SpanAttribute = {
  eventId: 'cloudevents.event_id',
  eventType: 'cloudevents.event_type',
  eventSubject: 'cloudevents.event_subject',
  eventSource: 'cloudevents.event_source',
  plant: 'conveyor.plant',
  route: 'conveyor.route',
  sink: 'conveyor.sink',
  attempt: 'conveyor.delivery.attempt',
  outcome: 'conveyor.delivery.outcome',
  connector: 'conveyor.connector',
  connectorKind: 'conveyor.connector.kind',
  command: 'conveyor.command',
  client: 'conveyor.client',
  ingestMode: 'conveyor.ingest.mode',
  events: 'conveyor.events',
  duplicates: 'conveyor.events.duplicate',
  rejected: 'conveyor.events.rejected',
  httpStatus: 'http.response.status_code',
  httpRoute: 'http.route',
  httpMethod: 'http.request.method',
  origin: 'conveyor.source.origin',
  messageId: 'conveyor.source.message_id',
} as const;
