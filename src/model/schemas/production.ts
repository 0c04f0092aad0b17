import { type Static, Type } from '@sinclair/typebox';
import {
  BusinessDate,
  LotId,
  MaterialId,
  OperationId,
  OrderId,
  PlantCode,
  Quantity,
  ReasonCode,
  Rfc3339,
  WorkCenter,
} from './building-blocks.js';
import { defineEventSchema } from './event-schema.js';

/** `production.order.released`: the ERP released a production order to a plant. */
export const ProductionOrderReleased = defineEventSchema('production.order.released', {
  title: 'Production order released',
  description:
    'The ERP released a production order to a plant (ISA-95 production schedule → operations request; B2MML `ProductionSchedule/ProductionRequest`). The hub adds the routing and BOM from reference data.',
  properties: {
    orderId: OrderId(),
    plant: PlantCode(),
    material: MaterialId({
      description:
        'The material to produce: ISA-95 material definition of the produced material (B2MML `MaterialProducedRequirement/MaterialDefinitionID`).',
    }),
    quantity: Quantity({
      description:
        'The quantity to produce (B2MML `MaterialProducedRequirement/Quantity`: `QuantityString` + `UnitOfMeasure`).',
    }),
    dueDate: BusinessDate({
      description:
        'When the order must be finished (B2MML `ProductionRequest/EndTime`), an RFC 3339 date or date-time.',
    }),
    routing: Type.Optional(
      Type.Array(
        Type.Object(
          {
            operation: OperationId(),
            workCenter: WorkCenter({
              description:
                'Where the operation runs: ISA-95 work center (B2MML `SegmentRequirement/EquipmentRequirement/EquipmentID` at `EquipmentElementLevel` WorkCenter).',
            }),
          },
          { description: 'One routing step (B2MML `SegmentRequirement`).' },
        ),
        {
          description:
            "The order's routing, in sequence: ISA-95 segment requirements (B2MML `ProductionRequest/SegmentRequirement`). Added by the hub from reference data.",
        },
      ),
    ),
    bom: Type.Optional(
      Type.Array(
        Type.Object(
          {
            material: MaterialId({
              description:
                'A component: ISA-95 material definition consumed (B2MML `MaterialConsumedRequirement/MaterialDefinitionID`).',
            }),
            quantity: Quantity({
              description:
                'The quantity of the component for the whole order (B2MML `MaterialConsumedRequirement/Quantity`).',
            }),
          },
          { description: 'One bill-of-material line (B2MML `MaterialConsumedRequirement`).' },
        ),
        {
          description:
            "The order's bill of materials: ISA-95 material consumed requirements (B2MML `MaterialConsumedRequirement`). Added by the hub from reference data.",
        },
      ),
    ),
  },
  example: {
    orderId: '100004711',
    plant: 'P1',
    material: 'BRK-CAL-2200',
    quantity: { value: 500, uom: 'EA' },
    dueDate: '2024-06-14',
    routing: [
      { operation: '0010', workCenter: 'WC-PRESS-1' },
      { operation: '0020', workCenter: 'WC-ASSY-2' },
    ],
    bom: [
      { material: 'STL-COIL-1.5', quantity: { value: 420, uom: 'KG' } },
      { material: 'PIN-M8', quantity: { value: 1000, uom: 'EA' } },
    ],
  },
});
/** Data of `production.order.released`. */
export type ProductionOrderReleasedData = Static<typeof ProductionOrderReleased>;

/** `production.operation.completed`: the MES finished one operation of an order. */
export const ProductionOperationCompleted = defineEventSchema('production.operation.completed', {
  title: 'Production operation completed',
  description:
    'The MES finished one operation of a production order (ISA-95 production performance → segment response; B2MML `JobResponse/SegmentResponse`).',
  properties: {
    orderId: OrderId(),
    plant: PlantCode(),
    operation: OperationId({
      description:
        'The operation finished: ISA-95 segment response of that process segment (B2MML `SegmentResponse/ProcessSegmentID`).',
    }),
    workCenter: WorkCenter({
      description:
        'Where the operation ran: ISA-95 work center (B2MML `SegmentResponse/EquipmentActual/EquipmentID` at `EquipmentElementLevel` WorkCenter).',
    }),
    quantityGood: Quantity({
      description:
        'Good quantity the operation produced (B2MML `SegmentResponse/MaterialActual/Quantity`, `MaterialUse` Produced).',
    }),
    completedAt: Rfc3339({
      description: 'When the operation ended (B2MML `SegmentResponse/ActualEndTime`).',
    }),
  },
  example: {
    orderId: '100004711',
    plant: 'P1',
    operation: '0010',
    workCenter: 'WC-PRESS-1',
    quantityGood: { value: 496, uom: 'EA' },
    completedAt: '2024-06-12T14:32:05Z',
  },
});
/** Data of `production.operation.completed`. */
export type ProductionOperationCompletedData = Static<typeof ProductionOperationCompleted>;

/** `production.order.completed`: the MES closed a production order. */
export const ProductionOrderCompleted = defineEventSchema('production.order.completed', {
  title: 'Production order completed',
  description:
    'The MES closed a production order (ISA-95 production performance → job response; B2MML `ProductionPerformance/ProductionResponse`).',
  properties: {
    orderId: OrderId(),
    plant: PlantCode(),
    quantityGood: Quantity({
      description: 'Good quantity produced by the order (B2MML `MaterialProducedActual/Quantity`).',
    }),
    quantityScrap: Quantity({
      description:
        'Quantity scrapped over the order (B2MML `MaterialProducedActual/Quantity` reported as scrap).',
    }),
    completedAt: Rfc3339({ description: 'When the order ended (B2MML `ProductionResponse/ActualEndTime`).' }),
  },
  example: {
    orderId: '100004711',
    plant: 'P1',
    quantityGood: { value: 492, uom: 'EA' },
    quantityScrap: { value: 8, uom: 'EA' },
    completedAt: '2024-06-13T09:10:00Z',
  },
});
/** Data of `production.order.completed`. */
export type ProductionOrderCompletedData = Static<typeof ProductionOrderCompleted>;

/** `production.material.consumed`: material was consumed against an order. */
export const ProductionMaterialConsumed = defineEventSchema('production.material.consumed', {
  title: 'Material consumed',
  description:
    'Material was consumed against a production order (ISA-95 production performance → material actual; B2MML `MaterialActual` with `MaterialUse` Consumed).',
  properties: {
    orderId: OrderId(),
    plant: PlantCode(),
    material: MaterialId({
      description:
        'The material consumed: ISA-95 material definition (B2MML `MaterialActual/MaterialDefinitionID`).',
    }),
    quantity: Quantity({ description: 'The quantity consumed (B2MML `MaterialActual/Quantity`).' }),
    consumedAt: Rfc3339({
      description:
        'When the material was consumed (the `ActualEndTime` of the segment response reporting it).',
    }),
    lot: Type.Optional(
      LotId({
        description:
          'The lot the material came from, for traceability (B2MML `MaterialActual/MaterialLotID`).',
      }),
    ),
  },
  example: {
    orderId: '100004711',
    plant: 'P1',
    material: 'STL-COIL-1.5',
    quantity: { value: 84.5, uom: 'KG' },
    consumedAt: '2024-06-12T10:05:41Z',
    lot: 'L24-0518-03',
  },
});
/** Data of `production.material.consumed`. */
export type ProductionMaterialConsumedData = Static<typeof ProductionMaterialConsumed>;

/** `production.scrap.reported`: the MES reported scrap on an order. */
export const ProductionScrapReported = defineEventSchema('production.scrap.reported', {
  title: 'Scrap reported',
  description:
    'The MES reported scrapped material on a production order (ISA-95 production performance → material actual reported as scrap, with a reason).',
  properties: {
    orderId: OrderId(),
    plant: PlantCode(),
    material: MaterialId({
      description:
        'The material scrapped: ISA-95 material definition (B2MML `MaterialActual/MaterialDefinitionID`).',
    }),
    quantity: Quantity({ description: 'The quantity scrapped (B2MML `MaterialActual/Quantity`).' }),
    reasonCode: ReasonCode({
      description:
        "Why it was scrapped: a code from the plant's scrap reason catalogue (B2MML `MaterialActualProperty` carrying the reason).",
      examples: ['SCR-BURR'],
    }),
  },
  example: {
    orderId: '100004711',
    plant: 'P1',
    material: 'BRK-CAL-2200',
    quantity: { value: 3, uom: 'EA' },
    reasonCode: 'SCR-BURR',
  },
});
/** Data of `production.scrap.reported`. */
export type ProductionScrapReportedData = Static<typeof ProductionScrapReported>;
