import { type Static, Type } from '@sinclair/typebox';
import { HoldId, LotId, MaterialId, PlantCode, Rfc3339, StringEnum, Text } from './building-blocks.js';
import { defineEventSchema } from './event-schema.js';

/** The dispositions a quality decision can reach for held material. */
export const DISPOSITIONS = ['use-as-is', 'rework', 'scrap', 'return-to-supplier'] as const;

/** `quality.hold.placed`: QMS put material lots on hold. */
export const QualityHoldPlaced = defineEventSchema('quality.hold.placed', {
  title: 'Quality hold placed',
  description:
    'The QMS put material lots on hold: they must not be used or shipped until released (ISA-95 quality operations; material lot status set to held, B2MML `MaterialLot/Status`).',
  properties: {
    holdId: HoldId(),
    plant: PlantCode(),
    material: MaterialId({
      description:
        'The material of the held lots: ISA-95 material definition (B2MML `MaterialLot/MaterialDefinitionID`).',
    }),
    lots: Type.Array(LotId({ description: 'A held lot (B2MML `MaterialLotID`).' }), {
      minItems: 1,
      uniqueItems: true,
      description: 'The held lots: ISA-95 material lots whose status becomes held (B2MML `MaterialLot/ID`).',
    }),
    reason: Text({
      description: 'Why the lots are held, as the quality engineer wrote it (e.g. the nonconformance found).',
      examples: ['Burr on bore, customer complaint 4471'],
    }),
    placedAt: Rfc3339({
      description: 'When the hold took effect (start of the quality operations request).',
    }),
  },
  example: {
    holdId: 'QH-2024-0117',
    plant: 'P1',
    material: 'BRK-CAL-2200',
    lots: ['L24-0611-01', 'L24-0611-02'],
    reason: 'Burr on bore, customer complaint 4471',
    placedAt: '2024-06-12T15:02:00Z',
  },
});
/** Data of `quality.hold.placed`. */
export type QualityHoldPlacedData = Static<typeof QualityHoldPlaced>;

/** `quality.hold.released`: the hold was lifted. */
export const QualityHoldReleased = defineEventSchema('quality.hold.released', {
  title: 'Quality hold released',
  description:
    'The QMS lifted a hold: its lots may be used and shipped again (material lot status back to released, B2MML `MaterialLot/Status`).',
  properties: {
    holdId: HoldId(),
    plant: PlantCode(),
    releasedAt: Rfc3339({ description: 'When the hold was lifted (end of the quality operations request).' }),
  },
  example: { holdId: 'QH-2024-0117', plant: 'P1', releasedAt: '2024-06-13T08:15:00Z' },
});
/** Data of `quality.hold.released`. */
export type QualityHoldReleasedData = Static<typeof QualityHoldReleased>;

/** `quality.disposition.decided`: QMS decided what happens to held material. */
export const QualityDispositionDecided = defineEventSchema('quality.disposition.decided', {
  title: 'Disposition decided',
  description:
    'The QMS decided what happens to the material under a hold (ISA-95 quality operations response; the disposition of the held material lots).',
  properties: {
    holdId: HoldId(),
    plant: PlantCode(),
    disposition: StringEnum(DISPOSITIONS, {
      description:
        'The decision for the held lots (ISA-95 material lot disposition, B2MML `MaterialLot/Disposition`): use-as-is, rework, scrap or return-to-supplier.',
    }),
    decidedAt: Rfc3339({ description: 'When the decision was made (the quality operations response time).' }),
  },
  example: { holdId: 'QH-2024-0117', plant: 'P1', disposition: 'rework', decidedAt: '2024-06-13T08:10:00Z' },
});
/** Data of `quality.disposition.decided`. */
export type QualityDispositionDecidedData = Static<typeof QualityDispositionDecided>;
