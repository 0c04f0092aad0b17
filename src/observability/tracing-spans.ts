import {
  type Attributes,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  type Span,
  type SpanKind,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { TraceCarrier } from './trace-context.js';
import type { SpanStarter } from './tracing.js';

const propagator = new W3CTraceContextPropagator();

/** Spans on an exporting tracer, each parented on a W3C trace context. Loaded only when tracing is on. */
export class TracerSpans implements SpanStarter {
  constructor(private readonly tracer: Tracer) {}

  startSpan(name: string, kind: SpanKind, parent: TraceCarrier | undefined, attributes?: Attributes): Span {
    const context = parent ? propagator.extract(ROOT_CONTEXT, parent, defaultTextMapGetter) : ROOT_CONTEXT;
    return this.tracer.startSpan(name, { kind, ...(attributes ? { attributes } : {}) }, context);
  }
}
