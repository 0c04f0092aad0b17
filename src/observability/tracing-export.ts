import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
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
import type { ExportingProvider } from './tracing.js';
import type { TracingSettings } from './tracing-settings.js';

/** How long shutting down waits for the last spans to reach the collector. */
const EXPORT_TIMEOUT_MS = 5_000;
/** A collector that stays down is reported once per this interval, not once per batch. */
const EXPORT_FAILURE_LOG_MS = 60_000;

/**
 * One provider per hub exporting to OTLP/HTTP in batches. Its own module, imported only when
 * tracing is configured: the SDK and the exporter are several MiB of heap a hub without tracing
 * does not need.
 */
export function createExportingProvider(
  settings: TracingSettings,
  options: { readonly logger: Logger; readonly version: string; readonly instanceId?: string },
): ExportingProvider {
  const exporter = new ReportingExporter(
    new OTLPTraceExporter({
      url: settings.otlpEndpoint,
      headers: { ...settings.headers },
      timeoutMillis: EXPORT_TIMEOUT_MS,
    }),
    options.logger,
    settings.otlpEndpoint,
  );
  return new BasicTracerProvider({
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
