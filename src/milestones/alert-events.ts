import type { CloudEvent } from '../model/envelope.js';
import { schemaId } from '../model/schemas/event-schema.js';
import { derivedTraceContext, formatTraceparent } from '../observability/trace-context.js';
import type { MilestoneRecord } from '../store/port.js';
import { MILESTONE_EVENT_TYPES } from './definitions.js';

export type AlertKind = keyof typeof MILESTONE_EVENT_TYPES;

/** The source of every milestone event the hub publishes. */
export const MILESTONE_SOURCE = '/conveyor/milestones';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The event that raises (`late`), clears (`cleared`) or announces (`met`) a milestone. Its id is
 * derived from the milestone and the kind, and its time from the record, so every hub instance
 * builds the same event and the log (idempotent by source and id) keeps one.
 */
export function alertEvent(kind: AlertKind, record: MilestoneRecord): CloudEvent {
  const type = MILESTONE_EVENT_TYPES[kind];
  const base = {
    milestoneId: record.id,
    name: record.name,
    correlation: record.correlation,
    ...(record.plant !== null ? { plant: record.plant } : {}),
    status: kind === 'late' ? 'late' : 'met',
    startedAt: iso(record.startedAt),
    dueAt: iso(record.dueAt),
    start: record.startEvent,
  };
  const lateAt = record.lateAt ?? record.dueAt;
  const metAt = record.metAt ?? record.dueAt;
  const data =
    kind === 'late'
      ? { ...base, lateAt: iso(lateAt) }
      : kind === 'cleared'
        ? { ...base, lateAt: iso(lateAt), metAt: iso(metAt), end: record.endEvent }
        : {
            ...base,
            metAt: iso(metAt),
            late: record.lateAt !== null || metAt > record.dueAt,
            end: record.endEvent,
          };
  const id = `${record.id}-${kind}`;
  return {
    specversion: '1.0',
    id,
    source: MILESTONE_SOURCE,
    type,
    time: iso(kind === 'late' ? lateAt : metAt),
    subject: record.correlation,
    ...(record.plant !== null ? { plant: record.plant } : {}),
    datacontenttype: 'application/json',
    dataschema: schemaId(type, 1),
    // A trace of its own, derived from the id like everything else here, so every instance builds the same event.
    traceparent: formatTraceparent(derivedTraceContext(id)),
    data,
  };
}
