import { type Static, Type } from '@sinclair/typebox';
import {
  LotId,
  MaterialId,
  OrderId,
  PalletId,
  PlantCode,
  Quantity,
  ReservationId,
  Rfc3339,
  StorageLocation,
} from './building-blocks.js';
import { defineEventSchema } from './event-schema.js';

/** `inventory.reservation.created`: the WMS reserved stock. */
export const InventoryReservationCreated = defineEventSchema('inventory.reservation.created', {
  title: 'Reservation created',
  description:
    'The WMS reserved stock of a material, usually for a production order (ISA-95 inventory operations request; B2MML `OperationsRequest` with `OperationsType` Inventory).',
  properties: {
    reservationId: ReservationId(),
    plant: PlantCode(),
    material: MaterialId({
      description:
        'The material reserved: ISA-95 material definition (B2MML `MaterialRequirement/MaterialDefinitionID`).',
    }),
    quantity: Quantity({ description: 'The quantity reserved (B2MML `MaterialRequirement/Quantity`).' }),
    orderId: Type.Optional(
      OrderId({
        description:
          'The production order the stock is reserved for: ISA-95 operations request (B2MML `ProductionRequest/ID`).',
      }),
    ),
    storageLocation: Type.Optional(
      StorageLocation({
        description: 'Where the reserved stock is kept (B2MML `MaterialRequirement/StorageLocation`).',
      }),
    ),
  },
  example: {
    reservationId: 'RSV-558201',
    plant: 'P1',
    material: 'STL-COIL-1.5',
    quantity: { value: 420, uom: 'KG' },
    orderId: '100004711',
    storageLocation: 'WH1-A-03-02',
  },
});
/** Data of `inventory.reservation.created`. */
export type InventoryReservationCreatedData = Static<typeof InventoryReservationCreated>;

/** `inventory.material.issued`: stock left a storage location. */
export const InventoryMaterialIssued = defineEventSchema('inventory.material.issued', {
  title: 'Material issued',
  description:
    'The WMS issued material from a storage location, e.g. to the line for an order (ISA-95 inventory operations: material movement out of a storage location).',
  properties: {
    plant: PlantCode(),
    material: MaterialId({
      description: 'The material issued: ISA-95 material definition (B2MML `MaterialDefinitionID`).',
    }),
    quantity: Quantity({ description: 'The quantity issued (B2MML `Quantity`).' }),
    fromLocation: StorageLocation({
      description:
        'The storage location the material left (B2MML `MaterialLot/StorageLocation` before the move).',
    }),
    orderId: Type.Optional(
      OrderId({
        description: 'The production order the material was issued to (B2MML `ProductionRequest/ID`).',
      }),
    ),
    lot: Type.Optional(LotId({ description: 'The lot issued (B2MML `MaterialLotID`).' })),
  },
  example: {
    plant: 'P1',
    material: 'PIN-M8',
    quantity: { value: 1000, uom: 'EA' },
    fromLocation: 'WH1-B-11-04',
    orderId: '100004711',
    lot: 'L24-0502-11',
  },
});
/** Data of `inventory.material.issued`. */
export type InventoryMaterialIssuedData = Static<typeof InventoryMaterialIssued>;

/** `inventory.pallet.moved`: a pallet changed storage location. */
export const InventoryPalletMoved = defineEventSchema('inventory.pallet.moved', {
  title: 'Pallet moved',
  description:
    'A pallet moved from one storage location to another (ISA-95 inventory operations: material sublot movement; B2MML `MaterialSubLot/StorageLocation` changes).',
  properties: {
    palletId: PalletId(),
    plant: PlantCode(),
    fromLocation: StorageLocation({
      description: 'Where the pallet was (B2MML `MaterialSubLot/StorageLocation` before).',
    }),
    toLocation: StorageLocation({
      description: 'Where the pallet is now (B2MML `MaterialSubLot/StorageLocation` after).',
    }),
    movedAt: Rfc3339({ description: 'When the move was confirmed.' }),
  },
  example: {
    palletId: '003456789012345675',
    plant: 'P1',
    fromLocation: 'GR-DOCK-2',
    toLocation: 'WH1-A-03-02',
    movedAt: '2024-06-12T07:22:18Z',
  },
});
/** Data of `inventory.pallet.moved`. */
export type InventoryPalletMovedData = Static<typeof InventoryPalletMoved>;
