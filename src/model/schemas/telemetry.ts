import { type Static, Type } from '@sinclair/typebox';
import { EquipmentId, PlantCode, Rfc3339, StringEnum } from './building-blocks.js';
import { defineEventSchema } from './event-schema.js';

/** The operating states a machine reports. */
export const MACHINE_STATES = ['running', 'idle', 'down', 'setup', 'unknown'] as const;

/** `telemetry.machine.state`: a machine changed state. */
export const TelemetryMachineState = defineEventSchema('telemetry.machine.state', {
  title: 'Machine state',
  description:
    'A machine reported its operating state (ISA-95 equipment status at level 2/3; the state model behind ISO 22400 availability and OEE).',
  properties: {
    plant: PlantCode(),
    equipmentId: EquipmentId(),
    state: StringEnum(MACHINE_STATES, {
      description:
        'The operating state (ISA-95 equipment status): running, idle, down, setup or unknown (no signal, e.g. after a Sparkplug death certificate).',
    }),
    at: Rfc3339({
      description: 'When the machine entered the state (the source timestamp, not the arrival time).',
    }),
  },
  example: { plant: 'P1', equipmentId: 'PRESS-07', state: 'running', at: '2024-06-12T12:31:41.250Z' },
});
/** Data of `telemetry.machine.state`. */
export type TelemetryMachineStateData = Static<typeof TelemetryMachineState>;

/** `telemetry.machine.counter`: a machine reported a counter or measured value. */
export const TelemetryMachineCounter = defineEventSchema('telemetry.machine.counter', {
  title: 'Machine counter',
  description:
    'A machine reported a counter or measured value (ISA-95 equipment actual property / process data at level 2; a Sparkplug B or OPC UA metric).',
  properties: {
    plant: PlantCode(),
    equipmentId: EquipmentId(),
    counter: Type.String({
      minLength: 1,
      maxLength: 256,
      description:
        'The counter or measurement name (B2MML `EquipmentProperty/ID`; the Sparkplug metric name or OPC UA browse name).',
      examples: ['strokes'],
    }),
    value: Type.Number({
      description:
        'The value (B2MML `EquipmentProperty/Value`). Counters are never negative but measured values (temperatures) can be.',
    }),
    at: Rfc3339({ description: 'When the value was sampled (the source timestamp, not the arrival time).' }),
  },
  example: {
    plant: 'P1',
    equipmentId: 'PRESS-07',
    counter: 'strokes',
    value: 182_340,
    at: '2024-06-12T12:31:45Z',
  },
});
/** Data of `telemetry.machine.counter`. */
export type TelemetryMachineCounterData = Static<typeof TelemetryMachineCounter>;
