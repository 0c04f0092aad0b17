import { type Static, type TProperties, Type } from '@sinclair/typebox';
import { PlantCode, Rfc3339, StringEnum, Text } from './building-blocks.js';
import { defineEventSchema } from './event-schema.js';

/**
 * Events the hub itself publishes about business milestones (an SLA between a start event and an
 * end). Alerts are routes from these types to a sink, so they get retries, circuits and the DLQ.
 */

/** A log event a milestone started or ended on. */
const EventRef = (description: string) =>
  Type.Object(
    {
      id: Text({ maxLength: 256, description: 'The CloudEvents id of the event.' }),
      type: Text({ maxLength: 256, description: 'The event type, e.g. production.order.completed.' }),
      sequence: Type.Integer({ minimum: 1, description: 'Its position in the hub event log.' }),
      time: Rfc3339({ description: 'The time the event says the fact occurred.' }),
    },
    { description },
  );

/** The shared fields; `status` is the one value the event's kind implies (late, or met). */
function milestoneProperties<const S extends string>(status: S) {
  return {
    milestoneId: Text({
      maxLength: 64,
      description: 'The milestone: derived from its name and correlation, the same on every hub instance.',
    }),
    name: Text({
      maxLength: 64,
      description: 'The milestone definition (conveyor.yaml `milestones[].name`).',
    }),
    correlation: Text({
      maxLength: 512,
      description: 'The business key the start and end events share (the order, hold, shipment or ASN id).',
    }),
    plant: Type.Optional(
      PlantCode({
        description:
          'The plant of the start event: ISA-95 site (B2MML `HierarchyScope/EquipmentID` at Site level), when it names one.',
      }),
    ),
    status: StringEnum([status] as const, {
      description: `The milestone status when the event was raised: always ${status} for this type.`,
    }),
    startedAt: Rfc3339({ description: 'When the start event occurred; the SLA runs from here.' }),
    dueAt: Rfc3339({ description: 'When the milestone is due: startedAt plus the SLA (`within`).' }),
    start: EventRef('The event that opened the milestone.'),
  } satisfies TProperties;
}

const START_EXAMPLE = {
  id: '5b7c0d6e-8f41-4c1e-9a77-2f2b1d9c0e11',
  type: 'production.order.completed',
  sequence: 48211,
  time: '2024-06-12T14:00:00Z',
};

/** `conveyor.milestone.late`: a milestone passed its due time without its end event. */
export const ConveyorMilestoneLate = defineEventSchema('conveyor.milestone.late', {
  title: 'Milestone late',
  description:
    'A business milestone passed its due time and its end has not been seen (e.g. a completed order not yet posted to the ERP). Raised once per milestone.',
  properties: {
    ...milestoneProperties('late'),
    lateAt: Rfc3339({ description: 'When the hub found the milestone late.' }),
  },
  example: {
    milestoneId: 'ms-3f0c9a7d2b1e4c56a8d9e0f1',
    name: 'order-posted-to-erp',
    correlation: '100004711',
    plant: 'P1',
    status: 'late',
    startedAt: '2024-06-12T14:00:00Z',
    dueAt: '2024-06-12T14:15:00Z',
    start: START_EXAMPLE,
    lateAt: '2024-06-12T14:15:01Z',
  },
});
/** Data of `conveyor.milestone.late`. */
export type ConveyorMilestoneLateData = Static<typeof ConveyorMilestoneLate>;

const END_EXAMPLE = {
  id: 'c2e1a0f4-3b5d-4e6f-8a9b-0c1d2e3f4a5b',
  type: 'production.order.completed',
  sequence: 48377,
  time: '2024-06-12T14:21:30Z',
};

/** `conveyor.milestone.cleared`: a late milestone reached its end after all. */
export const ConveyorMilestoneCleared = defineEventSchema('conveyor.milestone.cleared', {
  title: 'Milestone alert cleared',
  description:
    'A milestone that had been raised as late has now been met: its late alert is cleared. Raised once per late milestone.',
  properties: {
    ...milestoneProperties('met'),
    lateAt: Rfc3339({ description: 'When the hub had found the milestone late.' }),
    metAt: Rfc3339({ description: 'When the milestone was met (its end was seen).' }),
    end: EventRef('The event that ended the milestone (the delivered event, for a delivery milestone).'),
  },
  example: {
    milestoneId: 'ms-3f0c9a7d2b1e4c56a8d9e0f1',
    name: 'order-posted-to-erp',
    correlation: '100004711',
    plant: 'P1',
    status: 'met',
    startedAt: '2024-06-12T14:00:00Z',
    dueAt: '2024-06-12T14:15:00Z',
    start: START_EXAMPLE,
    lateAt: '2024-06-12T14:15:01Z',
    metAt: '2024-06-12T14:21:31Z',
    end: END_EXAMPLE,
  },
});
/** Data of `conveyor.milestone.cleared`. */
export type ConveyorMilestoneClearedData = Static<typeof ConveyorMilestoneCleared>;

/** `conveyor.milestone.met`: a milestone reached its end (published only when an alert asks for it). */
export const ConveyorMilestoneMet = defineEventSchema('conveyor.milestone.met', {
  title: 'Milestone met',
  description:
    'A business milestone reached its end, on time or late. The hub publishes it only when an alert with `when: milestone.met` is configured.',
  properties: {
    ...milestoneProperties('met'),
    metAt: Rfc3339({ description: 'When the milestone was met (its end was seen).' }),
    late: Type.Boolean({ description: 'Whether the milestone had been late before it was met.' }),
    end: EventRef('The event that ended the milestone (the delivered event, for a delivery milestone).'),
  },
  example: {
    milestoneId: 'ms-3f0c9a7d2b1e4c56a8d9e0f1',
    name: 'order-posted-to-erp',
    correlation: '100004711',
    plant: 'P1',
    status: 'met',
    startedAt: '2024-06-12T14:00:00Z',
    dueAt: '2024-06-12T14:15:00Z',
    start: START_EXAMPLE,
    metAt: '2024-06-12T14:04:10Z',
    late: false,
    end: END_EXAMPLE,
  },
});
/** Data of `conveyor.milestone.met`. */
export type ConveyorMilestoneMetData = Static<typeof ConveyorMilestoneMet>;
