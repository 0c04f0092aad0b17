import {
  type Attributes,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  type SpanKind,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Logger } from './logger.js';
import type { TraceCarrier } from './trace-context.js';
import type { TracingSettings } from './tracing-settings.js';

/** What an exporting tracer provider offers the hub (the SDK's BasicTracerProvider). */
export interface ExportingProvider {
  getTracer(name: string): Tracer;
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();

/**
 * The hub's spans. Off (the default), nothing is created: callers check `enabled` and skip span
 * work altogether, and the tracer is the API's no-op one. On, one provider per hub exports to
 * OTLP/HTTP in batches. Every span is parented explicitly on the event's or the request's trace
 * context, so no process-wide context manager or provider is installed: several hubs in one
 * process keep their spans apart.
 */
export class HubTracing {
  readonly enabled: boolean;
  readonly tracer: Tracer;

  private constructor(private readonly provider: ExportingProvider | null) {
    this.enabled = provider !== null;
    this.tracer = provider ? provider.getTracer('conveyor') : new ProxyTracerProvider().getTracer('conveyor');
  }

  /** Tracing off: spans are not created; trace context is still carried on events and deliveries. */
  static disabled(): HubTracing {
    return new HubTracing(null);
  }

  /**
   * Tracing as configured: off without settings, else exporting to the configured collector. The
   * OpenTelemetry SDK and its OTLP exporter are imported only then: a hub without tracing never loads them.
   */
  static async create(
    settings: TracingSettings | null,
    options: { readonly logger: Logger; readonly version: string; readonly instanceId?: string },
  ): Promise<HubTracing> {
    if (settings === null) return HubTracing.disabled();
    const { createExportingProvider } = await import('./tracing-export.js');
    return new HubTracing(createExportingProvider(settings, options));
  }

  /** Starts a span under `parent` (the caller's or the event's context), or a new trace without one. */
  startSpan(name: string, kind: SpanKind, parent: TraceCarrier | undefined, attributes?: Attributes): Span {
    const context = parent ? propagator.extract(ROOT_CONTEXT, parent, defaultTextMapGetter) : ROOT_CONTEXT;
    return this.tracer.startSpan(name, { kind, ...(attributes ? { attributes } : {}) }, context);
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

/** The `traceparent` (and `tracestate`) that makes the receiver's work a child of `span`. */
export function spanCarrier(span: Span): TraceCarrier {
  const carrier: { traceparent?: string; tracestate?: string } = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
  return carrier as TraceCarrier;
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
