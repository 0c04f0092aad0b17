import { type Static, Type } from '@sinclair/typebox';
import { LotId, MaterialId, PlantCode, Quantity, Rfc3339, ShipmentId } from './building-blocks.js';
import { defineEventSchema } from './event-schema.js';

/** `logistics.shipment.confirmed`: goods left the plant. */
export const LogisticsShipmentConfirmed = defineEventSchema('logistics.shipment.confirmed', {
  title: 'Shipment confirmed',
  description:
    'The system of record confirmed that a shipment left the plant (goods issue of an outbound delivery; the despatch advice sent to the customer).',
  properties: {
    shipmentId: ShipmentId(),
    plant: PlantCode({
      description: 'The shipping plant: ISA-95 site (B2MML `HierarchyScope/EquipmentID` at Site level).',
    }),
    lines: Type.Array(
      Type.Object(
        {
          material: MaterialId({
            description: 'The material shipped: ISA-95 material definition (B2MML `MaterialDefinitionID`).',
          }),
          quantity: Quantity({ description: 'The quantity shipped on this line (B2MML `Quantity`).' }),
          lots: Type.Array(LotId({ description: 'A shipped lot (B2MML `MaterialLotID`).' }), {
            description:
              'The lots shipped on this line (ISA-95 material lots, B2MML `MaterialLotID`); empty for material not managed in lots. A lot under an active quality hold blocks the confirmation.',
          }),
        },
        { description: 'One shipment line.' },
      ),
      { minItems: 1, description: 'The shipment lines.' },
    ),
    shippedAt: Rfc3339({ description: 'When the goods left (goods issue time).' }),
  },
  example: {
    shipmentId: '80012345',
    plant: 'P1',
    lines: [{ material: 'BRK-CAL-2200', quantity: { value: 240, uom: 'EA' }, lots: ['L24-0611-03'] }],
    shippedAt: '2024-06-14T13:45:00Z',
  },
});
/** Data of `logistics.shipment.confirmed`. */
export type LogisticsShipmentConfirmedData = Static<typeof LogisticsShipmentConfirmed>;

/** `logistics.shipment.invoice-ready`: the shipment can be invoiced. */
export const LogisticsShipmentInvoiceReady = defineEventSchema('logistics.shipment.invoice-ready', {
  title: 'Shipment ready for invoicing',
  description: 'A confirmed shipment has everything billing needs and can be invoiced by the ERP.',
  properties: {
    shipmentId: ShipmentId(),
    plant: PlantCode({
      description: 'The shipping plant: ISA-95 site (B2MML `HierarchyScope/EquipmentID` at Site level).',
    }),
    readyAt: Rfc3339({ description: 'When the shipment became ready for invoicing.' }),
  },
  example: { shipmentId: '80012345', plant: 'P1', readyAt: '2024-06-14T14:00:00Z' },
});
/** Data of `logistics.shipment.invoice-ready`. */
export type LogisticsShipmentInvoiceReadyData = Static<typeof LogisticsShipmentInvoiceReady>;
