import type { Span } from '@opentelemetry/api';
import type { StoredEvent } from '../model/envelope.js';
import { eventTraceContext, eventTracestate } from '../observability/event-trace.js';
import { childTraceparent, formatTraceparent, type TraceCarrier } from '../observability/trace-context.js';
import { type HubTracing, Kind, SpanAttribute, StatusCode, spanCarrier } from '../observability/tracing.js';
import type { AttemptOutcome } from './outcome.js';

/** One delivery attempt's place in the event's trace: what the sink sends, and its span when tracing is on. */
export interface AttemptTrace {
  /** `traceparent` (a new span id, child of the event's span) and the event's `tracestate`. */
  readonly carrier: TraceCarrier;
  readonly span: Span | null;
  /** Whether the sink's status is an HTTP status (recorded as `http.response.status_code`). */
  readonly http: boolean;
}

/** Starts an attempt: a `conveyor.deliver <route>` span (CLIENT) when tracing is on, else just a new span id. */
export function startAttempt(
  tracing: HubTracing | undefined,
  event: StoredEvent,
  route: { readonly name: string; readonly sink: string },
  attempt: number,
  http: boolean,
): AttemptTrace {
  const parent = eventTraceContext(event);
  const tracestate = eventTracestate(event);
  if (!tracing?.enabled) {
    const traceparent = childTraceparent(parent);
    return { carrier: tracestate ? { traceparent, tracestate } : { traceparent }, span: null, http };
  }
  const span = tracing.startSpan(
    `conveyor.deliver ${route.name}`,
    Kind.CLIENT,
    { traceparent: formatTraceparent(parent), ...(tracestate ? { tracestate } : {}) },
    {
      [SpanAttribute.eventId]: event.id,
      [SpanAttribute.eventType]: event.type,
      [SpanAttribute.eventSource]: event.source,
      ...(event.subject !== undefined ? { [SpanAttribute.eventSubject]: event.subject } : {}),
      ...(event.plant !== undefined ? { [SpanAttribute.plant]: event.plant } : {}),
      [SpanAttribute.route]: route.name,
      [SpanAttribute.sink]: route.sink,
      [SpanAttribute.attempt]: attempt,
    },
  );
  return { carrier: spanCarrier(span), span, http };
}

/** Ends the attempt's span with its outcome (`delivered`, `retry`, `rejected`) and status. */
export function endAttempt(trace: AttemptTrace, outcome: AttemptOutcome | undefined): void {
  const span = trace.span;
  if (!span) return;
  span.setAttribute(SpanAttribute.outcome, outcome?.kind ?? 'error');
  if (trace.http && outcome?.status) span.setAttribute(SpanAttribute.httpStatus, outcome.status);
  if (outcome?.kind !== 'delivered')
    span.setStatus({ code: StatusCode.ERROR, message: outcome?.error ?? 'the attempt failed' });
  span.end();
}
