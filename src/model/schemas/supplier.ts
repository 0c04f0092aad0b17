import { type Static, Type } from '@sinclair/typebox';
import {
  AsnId,
  BusinessDate,
  LotId,
  MaterialId,
  OrderId,
  PlantCode,
  Quantity,
  SupplierId,
  Text,
} from './building-blocks.js';
import { defineEventSchema } from './event-schema.js';

/** `supplier.onboarded`: a supplier was registered and may send ASNs. */
export const SupplierOnboarded = defineEventSchema('supplier.onboarded', {
  title: 'Supplier onboarded',
  description: 'A supplier was registered with the hub and may now send ASNs for the plants it delivers to.',
  properties: {
    supplierId: SupplierId(),
    name: Text({
      maxLength: 200,
      description: "The supplier's trading name.",
      examples: ['Nordstahl Coils GmbH'],
    }),
    plants: Type.Array(PlantCode({ description: 'A plant the supplier delivers to: ISA-95 site.' }), {
      minItems: 1,
      uniqueItems: true,
      description: 'The plants the supplier delivers to (ISA-95 sites).',
    }),
  },
  example: { supplierId: 'V-20417', name: 'Nordstahl Coils GmbH', plants: ['P1', 'P2'] },
});
/** Data of `supplier.onboarded`. */
export type SupplierOnboardedData = Static<typeof SupplierOnboarded>;

/** `supplier.asn.received`: a supplier announced a delivery. */
export const SupplierAsnReceived = defineEventSchema('supplier.asn.received', {
  title: 'ASN received',
  description:
    'A supplier announced a delivery with an advance shipping notice (X12 856, EDIFACT DESADV or canonical JSON); the inbound side of ISA-95 inventory operations.',
  properties: {
    asnId: AsnId(),
    supplierId: SupplierId(),
    plant: PlantCode({ description: 'The receiving plant: ISA-95 site (the ship-to party of the ASN).' }),
    shipDate: BusinessDate({
      description:
        'When the supplier shipped (X12 856 `DTM*011`, EDIFACT `DTM+11`), an RFC 3339 date or date-time.',
    }),
    lines: Type.Array(
      Type.Object(
        {
          material: MaterialId({
            description:
              "The material delivered, as the buyer's material definition (B2MML `MaterialDefinitionID`; X12 `LIN` buyer's part number).",
          }),
          quantity: Quantity({
            description: 'The quantity shipped on this line (B2MML `Quantity`; X12 `SN1`, EDIFACT `QTY+12`).',
          }),
          lots: Type.Optional(
            Type.Array(
              LotId({ description: 'A supplier lot (B2MML `MaterialLotID`; X12 `LIN` lot number).' }),
              {
                description:
                  "The supplier's lots on this line (ISA-95 material lots, B2MML `MaterialLotID`).",
              },
            ),
          ),
        },
        { description: 'One ASN line.' },
      ),
      { minItems: 1, description: 'The announced lines.' },
    ),
  },
  example: {
    asnId: 'ASN-0098231',
    supplierId: 'V-20417',
    plant: 'P1',
    shipDate: '2024-06-10',
    lines: [{ material: 'STL-COIL-1.5', quantity: { value: 12000, uom: 'KG' }, lots: ['NS-77812'] }],
  },
});
/** Data of `supplier.asn.received`. */
export type SupplierAsnReceivedData = Static<typeof SupplierAsnReceived>;

/** `supplier.replenishment.requested`: the plant asked a supplier for material. */
export const SupplierReplenishmentRequested = defineEventSchema('supplier.replenishment.requested', {
  title: 'Replenishment requested',
  description:
    'A plant asked a supplier to deliver a constrained material (a call-off against a scheduling agreement or a purchase requisition).',
  properties: {
    plant: PlantCode({ description: 'The plant that needs the material: ISA-95 site.' }),
    supplierId: SupplierId(),
    material: MaterialId({
      description: 'The material needed: ISA-95 material definition (B2MML `MaterialDefinitionID`).',
    }),
    quantity: Quantity({ description: 'The quantity requested (B2MML `Quantity`).' }),
    neededBy: BusinessDate({
      description: 'When the material must be at the plant, an RFC 3339 date or date-time.',
    }),
    orderId: Type.Optional(
      OrderId({
        description: 'The production order that needs the material (B2MML `ProductionRequest/ID`).',
      }),
    ),
  },
  example: {
    plant: 'P1',
    supplierId: 'V-20417',
    material: 'STL-COIL-1.5',
    quantity: { value: 6000, uom: 'KG' },
    neededBy: '2024-06-11T06:00:00+02:00',
    orderId: '100004711',
  },
});
/** Data of `supplier.replenishment.requested`. */
export type SupplierReplenishmentRequestedData = Static<typeof SupplierReplenishmentRequested>;
