import { type Static, Type } from '@sinclair/typebox';
import { EquipmentId, PlantCode, ReasonCode, Rfc3339 } from './building-blocks.js';
import { defineEventSchema } from './event-schema.js';

/** `maintenance.downtime.started`: a piece of equipment stopped being available. */
export const MaintenanceDowntimeStarted = defineEventSchema('maintenance.downtime.started', {
  title: 'Downtime started',
  description:
    'A piece of equipment became unavailable for production (ISA-95 equipment capability of type Unavailable; B2MML `EquipmentCapability` with `CapabilityType` Unavailable).',
  properties: {
    plant: PlantCode(),
    equipmentId: EquipmentId(),
    reasonCode: ReasonCode({
      description:
        "Why the equipment is down: a code from the plant's downtime reason catalogue (ISA-95 equipment capability reason).",
      examples: ['MECH-01'],
    }),
    planned: Type.Boolean({
      description:
        'Whether the stop was planned (maintenance, changeover) or not (breakdown); ISO 22400 planned vs. unplanned downtime for OEE.',
    }),
    startedAt: Rfc3339({
      description: 'When the equipment stopped (B2MML `EquipmentCapability/StartTime`).',
    }),
  },
  example: {
    plant: 'P1',
    equipmentId: 'PRESS-07',
    reasonCode: 'MECH-01',
    planned: false,
    startedAt: '2024-06-12T11:47:12Z',
  },
});
/** Data of `maintenance.downtime.started`. */
export type MaintenanceDowntimeStartedData = Static<typeof MaintenanceDowntimeStarted>;

/** `maintenance.downtime.ended`: the equipment is available again. */
export const MaintenanceDowntimeEnded = defineEventSchema('maintenance.downtime.ended', {
  title: 'Downtime ended',
  description:
    'A piece of equipment is available for production again (end of the ISA-95 Unavailable equipment capability).',
  properties: {
    plant: PlantCode(),
    equipmentId: EquipmentId(),
    endedAt: Rfc3339({
      description: 'When the equipment became available (B2MML `EquipmentCapability/EndTime`).',
    }),
  },
  example: { plant: 'P1', equipmentId: 'PRESS-07', endedAt: '2024-06-12T12:31:40Z' },
});
/** Data of `maintenance.downtime.ended`. */
export type MaintenanceDowntimeEndedData = Static<typeof MaintenanceDowntimeEnded>;
