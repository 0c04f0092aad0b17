import type { TSchema } from '@sinclair/typebox';
import type {
  ConveyorMilestoneClearedData,
  ConveyorMilestoneLateData,
  ConveyorMilestoneMetData,
} from './conveyor.js';
import { ConveyorMilestoneCleared, ConveyorMilestoneLate, ConveyorMilestoneMet } from './conveyor.js';
import type {
  InventoryMaterialIssuedData,
  InventoryPalletMovedData,
  InventoryReservationCreatedData,
} from './inventory.js';
import { InventoryMaterialIssued, InventoryPalletMoved, InventoryReservationCreated } from './inventory.js';
import type { LogisticsShipmentConfirmedData, LogisticsShipmentInvoiceReadyData } from './logistics.js';
import { LogisticsShipmentConfirmed, LogisticsShipmentInvoiceReady } from './logistics.js';
import type { MaintenanceDowntimeEndedData, MaintenanceDowntimeStartedData } from './maintenance.js';
import { MaintenanceDowntimeEnded, MaintenanceDowntimeStarted } from './maintenance.js';
import type {
  ProductionMaterialConsumedData,
  ProductionOperationCompletedData,
  ProductionOrderCompletedData,
  ProductionOrderReleasedData,
  ProductionScrapReportedData,
} from './production.js';
import {
  ProductionMaterialConsumed,
  ProductionOperationCompleted,
  ProductionOrderCompleted,
  ProductionOrderReleased,
  ProductionScrapReported,
} from './production.js';
import type {
  QualityDispositionDecidedData,
  QualityHoldPlacedData,
  QualityHoldReleasedData,
} from './quality.js';
import { QualityDispositionDecided, QualityHoldPlaced, QualityHoldReleased } from './quality.js';
import type {
  SupplierAsnReceivedData,
  SupplierOnboardedData,
  SupplierReplenishmentRequestedData,
} from './supplier.js';
import { SupplierAsnReceived, SupplierOnboarded, SupplierReplenishmentRequested } from './supplier.js';
import type { TelemetryMachineCounterData, TelemetryMachineStateData } from './telemetry.js';
import { TelemetryMachineCounter, TelemetryMachineState } from './telemetry.js';

export * from './building-blocks.js';
export * from './conveyor.js';
export { schemaId } from './event-schema.js';
export * from './inventory.js';
export * from './logistics.js';
export * from './maintenance.js';
export * from './production.js';
export * from './quality.js';
export * from './supplier.js';
export * from './telemetry.js';

/** The JSON Schema dialect every Conveyor schema document is written in. */
export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** The data type of each canonical v1 event type, for code that publishes or consumes them. */
export interface CanonicalDataV1 {
  'production.order.released': ProductionOrderReleasedData;
  'production.operation.completed': ProductionOperationCompletedData;
  'production.order.completed': ProductionOrderCompletedData;
  'production.material.consumed': ProductionMaterialConsumedData;
  'production.scrap.reported': ProductionScrapReportedData;
  'maintenance.downtime.started': MaintenanceDowntimeStartedData;
  'maintenance.downtime.ended': MaintenanceDowntimeEndedData;
  'quality.hold.placed': QualityHoldPlacedData;
  'quality.hold.released': QualityHoldReleasedData;
  'quality.disposition.decided': QualityDispositionDecidedData;
  'inventory.reservation.created': InventoryReservationCreatedData;
  'inventory.material.issued': InventoryMaterialIssuedData;
  'inventory.pallet.moved': InventoryPalletMovedData;
  'logistics.shipment.confirmed': LogisticsShipmentConfirmedData;
  'logistics.shipment.invoice-ready': LogisticsShipmentInvoiceReadyData;
  'supplier.onboarded': SupplierOnboardedData;
  'supplier.asn.received': SupplierAsnReceivedData;
  'supplier.replenishment.requested': SupplierReplenishmentRequestedData;
  'telemetry.machine.state': TelemetryMachineStateData;
  'telemetry.machine.counter': TelemetryMachineCounterData;
  'conveyor.milestone.late': ConveyorMilestoneLateData;
  'conveyor.milestone.cleared': ConveyorMilestoneClearedData;
  'conveyor.milestone.met': ConveyorMilestoneMetData;
}

/** A canonical v1 event type name. */
export type CanonicalTypeV1 = keyof CanonicalDataV1;

// Typed as a record over every key so that a type added to CanonicalDataV1 without a schema fails to compile.
const SCHEMAS: { readonly [K in CanonicalTypeV1]: TSchema } = {
  'production.order.released': ProductionOrderReleased,
  'production.operation.completed': ProductionOperationCompleted,
  'production.order.completed': ProductionOrderCompleted,
  'production.material.consumed': ProductionMaterialConsumed,
  'production.scrap.reported': ProductionScrapReported,
  'maintenance.downtime.started': MaintenanceDowntimeStarted,
  'maintenance.downtime.ended': MaintenanceDowntimeEnded,
  'quality.hold.placed': QualityHoldPlaced,
  'quality.hold.released': QualityHoldReleased,
  'quality.disposition.decided': QualityDispositionDecided,
  'inventory.reservation.created': InventoryReservationCreated,
  'inventory.material.issued': InventoryMaterialIssued,
  'inventory.pallet.moved': InventoryPalletMoved,
  'logistics.shipment.confirmed': LogisticsShipmentConfirmed,
  'logistics.shipment.invoice-ready': LogisticsShipmentInvoiceReady,
  'supplier.onboarded': SupplierOnboarded,
  'supplier.asn.received': SupplierAsnReceived,
  'supplier.replenishment.requested': SupplierReplenishmentRequested,
  'telemetry.machine.state': TelemetryMachineState,
  'telemetry.machine.counter': TelemetryMachineCounter,
  'conveyor.milestone.late': ConveyorMilestoneLate,
  'conveyor.milestone.cleared': ConveyorMilestoneCleared,
  'conveyor.milestone.met': ConveyorMilestoneMet,
};

/** The data schema of every canonical event type, version 1, keyed by event type. */
export const CANONICAL_SCHEMAS_V1: ReadonlyMap<string, TSchema> = new Map(Object.entries(SCHEMAS));

/** A plain JSON Schema document (what `JSON.parse` gives back). */
export type JsonSchemaDocument = { readonly [keyword: string]: unknown };

/**
 * The v1 data schema of a canonical type as a plain JSON Schema 2020-12 document (with `$schema`),
 * ready to serve, export or store; `undefined` for a type that is not canonical. Each call returns a
 * fresh copy the caller may modify.
 */
export function jsonSchemaOf(type: string): JsonSchemaDocument | undefined {
  const schema = CANONICAL_SCHEMAS_V1.get(type);
  if (schema === undefined) return undefined;
  // JSON round trip drops TypeBox's symbol-keyed metadata, leaving only JSON Schema keywords.
  return { $schema: JSON_SCHEMA_DIALECT, ...(JSON.parse(JSON.stringify(schema)) as JsonSchemaDocument) };
}
