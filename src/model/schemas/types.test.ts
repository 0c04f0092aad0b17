import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CANONICAL_SCHEMAS_V1,
  type CanonicalDataV1,
  type LogisticsShipmentConfirmedData,
  type ProductionOrderReleasedData,
  type QualityDispositionDecidedData,
  type TelemetryMachineStateData,
} from './index.js';
import { createDataValidator } from './validator.js';

// These assertions are checked by the compiler: a static type that drifts from its schema (a field
// becoming optional, an enum widening to string) breaks the build here.

const released: ProductionOrderReleasedData = {
  orderId: '100004712',
  plant: 'P2',
  material: 'BRK-CAL-2200',
  quantity: { value: 120, uom: 'EA' },
  dueDate: '2024-07-01',
};

// @ts-expect-error quantity is required
const withoutQuantity: ProductionOrderReleasedData = {
  orderId: '1',
  plant: 'P1',
  material: 'M',
  dueDate: '2024-07-01',
};

const badState: TelemetryMachineStateData = {
  plant: 'P1',
  equipmentId: 'PRESS-07',
  // @ts-expect-error state is one of the listed values, not any string
  state: 'broken',
  at: '2024-06-12T12:00:00Z',
};

const disposition: QualityDispositionDecidedData['disposition'] = 'return-to-supplier';

const shipment: LogisticsShipmentConfirmedData = {
  shipmentId: '80012346',
  plant: 'P1',
  // @ts-expect-error a shipment line's quantity is a Quantity, not a number
  lines: [{ material: 'BRK-CAL-2200', quantity: 240, lots: [] }],
  shippedAt: '2024-06-14T13:45:00Z',
};

const byType: CanonicalDataV1['telemetry.machine.counter'] = {
  plant: 'P1',
  equipmentId: 'PRESS-07',
  counter: 'strokes',
  value: 1,
  at: '2024-06-12T12:31:45Z',
};

test('values typed with the static types validate against the schemas, and mistyped ones do not', () => {
  const validator = createDataValidator();
  assert.deepEqual(validator.validate('production.order.released', 1, released), []);
  assert.deepEqual(validator.validate('telemetry.machine.counter', 1, byType), []);
  assert.notDeepEqual(validator.validate('production.order.released', 1, withoutQuantity), []);
  assert.notDeepEqual(validator.validate('telemetry.machine.state', 1, badState), []);
  assert.notDeepEqual(validator.validate('logistics.shipment.confirmed', 1, shipment), []);
  assert.ok(
    CANONICAL_SCHEMAS_V1.get('quality.disposition.decided')?.properties.disposition.enum.includes(
      disposition,
    ),
  );
});

test('CanonicalDataV1 names exactly the canonical types', () => {
  const names: Record<keyof CanonicalDataV1, true> = {
    'production.order.released': true,
    'production.operation.completed': true,
    'production.order.completed': true,
    'production.material.consumed': true,
    'production.scrap.reported': true,
    'maintenance.downtime.started': true,
    'maintenance.downtime.ended': true,
    'quality.hold.placed': true,
    'quality.hold.released': true,
    'quality.disposition.decided': true,
    'inventory.reservation.created': true,
    'inventory.material.issued': true,
    'inventory.pallet.moved': true,
    'logistics.shipment.confirmed': true,
    'logistics.shipment.invoice-ready': true,
    'supplier.onboarded': true,
    'supplier.asn.received': true,
    'supplier.replenishment.requested': true,
    'telemetry.machine.state': true,
    'telemetry.machine.counter': true,
    'conveyor.milestone.late': true,
    'conveyor.milestone.cleared': true,
    'conveyor.milestone.met': true,
  };
  assert.deepEqual(Object.keys(names).sort(), [...CANONICAL_SCHEMAS_V1.keys()].sort());
});
