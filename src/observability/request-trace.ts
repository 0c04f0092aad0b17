import type { Span } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  childTraceparent,
  formatTraceparent,
  newTraceparent,
  parseTraceparent,
  type TraceCarrier,
  validTracestate,
} from './trace-context.js';
import { type HubTracing, Kind, SpanAttribute, StatusCode, spanCarrier } from './tracing.js';

/** The trace context of one API request: the caller's, or a trace the hub starts for it. */
export interface RequestTrace {
  /** What the events this request publishes carry when they bring no `traceparent` of their own. */
  readonly carrier: TraceCarrier;
  readonly traceId: string;
  /** The request's span (`conveyor.ingest`, `conveyor.command <name>`), when tracing is on. */
  readonly span: Span | null;
}

const traces = new WeakMap<FastifyRequest, RequestTrace>();

/** The caller's trace context from the `traceparent` and `tracestate` headers, if valid (else a new trace starts). */
export function incomingTrace(request: FastifyRequest): TraceCarrier | undefined {
  const parsed = parseTraceparent(request.headers.traceparent);
  if (!parsed) return undefined;
  const tracestate = validTracestate(request.headers.tracestate);
  return { traceparent: formatTraceparent(parsed), ...(tracestate ? { tracestate } : {}) };
}

/**
 * Begins the request's trace: a span under the caller's context when tracing is on, and the
 * context the request's events carry: the caller's, else the hub's span's, else a new one. The
 * request's log lines carry its trace id from here on.
 */
export function startRequestTrace(
  request: FastifyRequest,
  tracing: HubTracing | undefined,
  name: string,
): RequestTrace {
  const existing = traces.get(request);
  if (existing) return existing;
  const incoming = incomingTrace(request);
  let span: Span | null = null;
  let carrier: TraceCarrier;
  if (tracing?.enabled) {
    span = tracing.startSpan(name, Kind.SERVER, incoming, {
      [SpanAttribute.httpMethod]: request.method,
      [SpanAttribute.httpRoute]: request.routeOptions.url ?? request.url,
    });
    carrier = incoming ?? tracing.carrierOf(span);
  } else carrier = incoming ?? { traceparent: newTraceparent() };
  // A version-00 traceparent: the trace id is at a fixed place.
  const traceId = carrier.traceparent.slice(3, 35);
  const started: RequestTrace = { carrier, traceId, span };
  traces.set(request, started);
  request.log = request.log.child({ traceId });
  return started;
}

/** The request's trace, begun now (without a span) if nothing began it. */
export function requestTrace(request: FastifyRequest): RequestTrace {
  return traces.get(request) ?? startRequestTrace(request, undefined, '');
}

/**
 * The `traceparent` of a call the hub makes while handling the request (a system of record):
 * under the request's span when tracing is on, else a new span id in the request's trace.
 */
export function outgoingTraceparent(request: FastifyRequest): string {
  const trace = requestTrace(request);
  if (trace.span) return spanCarrier(trace.span).traceparent;
  const parent = parseTraceparent(trace.carrier.traceparent);
  return parent ? childTraceparent(parent) : newTraceparent();
}

/** Ends the request's span with the reply's status; a 5xx marks it failed. */
export function endRequestTrace(request: FastifyRequest, reply: FastifyReply): void {
  const span = traces.get(request)?.span;
  if (!span) return;
  span.setAttribute(SpanAttribute.httpStatus, reply.statusCode);
  if (request.principal) span.setAttribute(SpanAttribute.client, request.principal.client);
  if (reply.statusCode >= 500) span.setStatus({ code: StatusCode.ERROR });
  span.end();
}
