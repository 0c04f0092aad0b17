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
import { type ExportResult, ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { Logger } from './logger.js';
import type { TraceCarrier } from './trace-context.js';
import type { TracingSettings } from './tracing-settings.js';

/** How long shutting down waits for the last spans to reach the collector. */
const EXPORT_TIMEOUT_MS = 5_000;
/** A collector that stays down is reported once per this interval, not once per batch. */
const EXPORT_FAILURE_LOG_MS = 60_000;

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

  private constructor(private readonly provider: BasicTracerProvider | null) {
    this.enabled = provider !== null;
    this.tracer = provider ? provider.getTracer('conveyor') : new ProxyTracerProvider().getTracer('conveyor');
  }

  /** Tracing off: spans are not created; trace context is still carried on events and deliveries. */
  static disabled(): HubTracing {
    return new HubTracing(null);
  }

  /** Tracing as configured: off without settings, else exporting to the configured collector. */
  static create(
    settings: TracingSettings | null,
    options: { readonly logger: Logger; readonly version: string; readonly instanceId?: string },
  ): HubTracing {
    if (settings === null) return HubTracing.disabled();
    const exporter = new ReportingExporter(
      new OTLPTraceExporter({
        url: settings.otlpEndpoint,
        headers: { ...settings.headers },
        timeoutMillis: EXPORT_TIMEOUT_MS,
      }),
      options.logger,
      settings.otlpEndpoint,
    );
    const provider = new BasicTracerProvider({
      resource: defaultResource().merge(
        resourceFromAttributes({
          'service.name': settings.serviceName,
          'service.version': options.version,
          ...(options.instanceId ? { 'service.instance.id': options.instanceId } : {}),
        }),
      ),
      // Traces the hub starts are sampled at the ratio; a trace that arrives keeps its caller's decision.
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
      spanProcessors: [new BatchSpanProcessor(exporter, { exportTimeoutMillis: EXPORT_TIMEOUT_MS })],
      forceFlushTimeoutMillis: EXPORT_TIMEOUT_MS,
    });
    return new HubTracing(provider);
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

/** Passes spans to the exporter and says in the hub's log when the collector refuses them. */
class ReportingExporter implements SpanExporter {
  private lastReport = 0;

  constructor(
    private readonly inner: SpanExporter,
    private readonly logger: Logger,
    private readonly endpoint: string,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS && Date.now() - this.lastReport >= EXPORT_FAILURE_LOG_MS) {
        this.lastReport = Date.now();
        this.logger.warn(
          { endpoint: this.endpoint, spans: spans.length, err: result.error },
          'spans could not be exported; tracing data is being lost',
        );
      }
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
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
