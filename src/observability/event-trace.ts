import type { CloudEvent } from '../model/envelope.js';
import {
  derivedTraceContext,
  parseTraceparent,
  type TraceContext,
  validTracestate,
} from './trace-context.js';

/**
 * The trace an event belongs to: its `traceparent`, or for an event without a valid one (stored
 * before the hub added them) a context derived from its id, the same on every attempt and instance.
 */
export function eventTraceContext(event: CloudEvent): TraceContext {
  return parseTraceparent(event.traceparent) ?? derivedTraceContext(event.id);
}

/** The event's `tracestate`, when it carries a valid one. */
export function eventTracestate(event: CloudEvent): string | undefined {
  return event.tracestate === undefined ? undefined : validTracestate(event.tracestate);
}

/** The fields every log line about an event carries, so a line can be found by event and by trace. */
export function eventLogFields(event: CloudEvent): { eventId: string; traceId: string } {
  return { eventId: event.id, traceId: eventTraceContext(event).traceId };
}
