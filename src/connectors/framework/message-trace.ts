import type { Span } from '@opentelemetry/api';
import { newTraceparent, type TraceCarrier } from '../../observability/trace-context.js';
import {
  type HubTracing,
  Kind,
  SpanAttribute,
  StatusCode,
  spanCarrier,
} from '../../observability/tracing.js';
import type { SourceMessage } from './types.js';

/** One source message's trace: the context its events carry, and its span when tracing is on. */
export interface MessageTrace {
  readonly carrier: TraceCarrier;
  readonly traceId: string;
  readonly span: Span | null;
}

/**
 * Begins a message's trace: under the context it arrived with (MQTT 5 user properties), else a new
 * trace. With tracing on, the `conveyor.source <connector>` span (CONSUMER) is the new trace's root.
 */
export function startMessageTrace(
  tracing: HubTracing | undefined,
  connector: string,
  kind: string,
  message: SourceMessage,
): MessageTrace {
  let span: Span | null = null;
  let carrier: TraceCarrier;
  if (tracing?.enabled) {
    span = tracing.startSpan(`conveyor.source ${connector}`, Kind.CONSUMER, message.trace, {
      [SpanAttribute.connector]: connector,
      [SpanAttribute.connectorKind]: kind,
      [SpanAttribute.origin]: message.origin,
      [SpanAttribute.messageId]: message.id,
    });
    carrier = message.trace ?? spanCarrier(span);
  } else carrier = message.trace ?? { traceparent: newTraceparent() };
  return { carrier, traceId: carrier.traceparent.slice(3, 35), span };
}

/** Ends the message's span: its events appended, the message dead-lettered, or offered again later. */
export function endMessageTrace(
  trace: MessageTrace,
  outcome: 'appended' | 'dead-lettered' | 'nacked',
  events: number,
  error?: string,
): void {
  const span = trace.span;
  if (!span) return;
  span.setAttribute('conveyor.source.outcome', outcome);
  span.setAttribute(SpanAttribute.events, events);
  if (outcome !== 'appended')
    span.setStatus({ code: StatusCode.ERROR, ...(error ? { message: error } : {}) });
  span.end();
}
