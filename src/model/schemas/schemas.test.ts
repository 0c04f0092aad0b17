import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TSchema } from '@sinclair/typebox';
import { CANONICAL_TYPES } from '../catalog.js';
import { CANONICAL_SCHEMAS_V1, JSON_SCHEMA_DIALECT, jsonSchemaOf } from './index.js';

const MILESTONE_FIELDS = ['milestoneId', 'name', 'correlation', 'status', 'startedAt', 'dueAt', 'start'];

/** The required data fields of SPEC §3, per type. */
const REQUIRED_FIELDS: Record<string, readonly string[]> = {
  'production.order.released': ['orderId', 'plant', 'material', 'quantity', 'dueDate'],
  'production.operation.completed': [
    'orderId',
    'plant',
    'operation',
    'workCenter',
    'quantityGood',
    'completedAt',
  ],
  'production.order.completed': ['orderId', 'plant', 'quantityGood', 'quantityScrap', 'completedAt'],
  'production.material.consumed': ['orderId', 'plant', 'material', 'quantity', 'consumedAt'],
  'production.scrap.reported': ['orderId', 'plant', 'material', 'quantity', 'reasonCode'],
  'maintenance.downtime.started': ['plant', 'equipmentId', 'reasonCode', 'planned', 'startedAt'],
  'maintenance.downtime.ended': ['plant', 'equipmentId', 'endedAt'],
  'quality.hold.placed': ['holdId', 'plant', 'material', 'lots', 'reason', 'placedAt'],
  'quality.hold.released': ['holdId', 'plant', 'releasedAt'],
  'quality.disposition.decided': ['holdId', 'plant', 'disposition', 'decidedAt'],
  'inventory.reservation.created': ['reservationId', 'plant', 'material', 'quantity'],
  'inventory.material.issued': ['plant', 'material', 'quantity', 'fromLocation'],
  'inventory.pallet.moved': ['palletId', 'plant', 'fromLocation', 'toLocation', 'movedAt'],
  'logistics.shipment.confirmed': ['shipmentId', 'plant', 'lines', 'shippedAt'],
  'logistics.shipment.invoice-ready': ['shipmentId', 'plant', 'readyAt'],
  'supplier.onboarded': ['supplierId', 'name', 'plants'],
  'supplier.asn.received': ['asnId', 'supplierId', 'plant', 'shipDate', 'lines'],
  'supplier.replenishment.requested': ['plant', 'supplierId', 'material', 'quantity', 'neededBy'],
  'telemetry.machine.state': ['plant', 'equipmentId', 'state', 'at'],
  'telemetry.machine.counter': ['plant', 'equipmentId', 'counter', 'value', 'at'],
  // The hub's own milestone events (docs/milestones.md).
  'conveyor.milestone.late': [...MILESTONE_FIELDS, 'lateAt'],
  'conveyor.milestone.cleared': [...MILESTONE_FIELDS, 'lateAt', 'metAt', 'end'],
  'conveyor.milestone.met': [...MILESTONE_FIELDS, 'metAt', 'late', 'end'],
};

function schemaOf(type: string): TSchema {
  const schema = CANONICAL_SCHEMAS_V1.get(type);
  assert.ok(schema, `no schema for ${type}`);
  return schema;
}

test('there is one schema per catalog type, and no other', () => {
  assert.deepEqual([...CANONICAL_SCHEMAS_V1.keys()].sort(), [...CANONICAL_TYPES.keys()].sort());
  assert.deepEqual(Object.keys(REQUIRED_FIELDS).sort(), [...CANONICAL_TYPES.keys()].sort());
});

test('each schema requires exactly the fields the spec lists', () => {
  for (const [type, fields] of Object.entries(REQUIRED_FIELDS)) {
    assert.deepEqual([...(schemaOf(type).required ?? [])].sort(), [...fields].sort(), type);
  }
});

test('plant is required exactly for plant-scoped types', () => {
  for (const info of CANONICAL_TYPES.values()) {
    assert.equal((schemaOf(info.type).required as string[]).includes('plant'), info.plantScoped, info.type);
  }
});

test('optional fields the spec mentions are declared, and not required', () => {
  const released = schemaOf('production.order.released');
  assert.deepEqual(released.properties.routing.items.required.sort(), ['operation', 'workCenter']);
  assert.deepEqual(released.properties.bom.items.required.sort(), ['material', 'quantity']);
  assert.ok(!released.required.includes('routing') && !released.required.includes('bom'));
  const consumed = schemaOf('production.material.consumed');
  assert.ok('lot' in consumed.properties && !consumed.required.includes('lot'));
  const shipment = schemaOf('logistics.shipment.confirmed');
  assert.deepEqual(shipment.properties.lines.items.required.sort(), ['lots', 'material', 'quantity']);
  const asn = schemaOf('supplier.asn.received');
  assert.deepEqual(asn.properties.lines.items.required.sort(), ['material', 'quantity']);
});

test('every schema has its urn $id, a title, a description, one example and an open content model', () => {
  for (const [type, schema] of CANONICAL_SCHEMAS_V1) {
    assert.equal(schema.$id, `urn:conveyor:schema:${type}:1`);
    assert.ok(typeof schema.title === 'string' && schema.title.length > 0, type);
    assert.ok(typeof schema.description === 'string' && schema.description.length > 20, type);
    assert.equal(schema.examples?.length, 1, type);
    assert.equal(schema.additionalProperties, undefined, `${type} must allow fields beyond those declared`);
  }
});

/** Every schema node reachable through properties and items, with where it is. */
function* fields(schema: TSchema, path = ''): Generator<[string, TSchema]> {
  for (const [name, sub] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) {
    yield [`${path}/${name}`, sub];
    yield* fields(sub, `${path}/${name}`);
    if (sub.items) yield* fields(sub.items, `${path}/${name}[]`);
  }
}

test('every field has a description', () => {
  for (const [type, schema] of CANONICAL_SCHEMAS_V1) {
    for (const [path, field] of fields(schema)) {
      assert.ok(typeof field.description === 'string' && field.description.length >= 10, `${type} ${path}`);
    }
  }
});

test('ISA-95 role fields name the B2MML element they correspond to', () => {
  const expected: Record<string, RegExp> = {
    orderId: /JobOrder\/ID|ProductionRequest\/ID/,
    material: /MaterialDefinitionID/,
    lot: /MaterialLotID/,
    lots: /MaterialLot/,
    equipmentId: /EquipmentID/,
    workCenter: /work center/i,
    storageLocation: /StorageLocation/,
    fromLocation: /StorageLocation/,
    toLocation: /StorageLocation/,
    quantity: /Quantity/,
    plant: /site/i,
  };
  let checked = 0;
  for (const [type, schema] of CANONICAL_SCHEMAS_V1) {
    for (const [path, field] of fields(schema)) {
      const pattern = expected[path.split('/').at(-1) as string];
      if (pattern === undefined) continue;
      assert.match(field.description as string, pattern, `${type} ${path}`);
      checked++;
    }
  }
  assert.ok(checked > 60, `only ${checked} role fields found`);
});

test('quantities are {value >= 0, uom: UN/CEFACT code} everywhere', () => {
  for (const [type, schema] of CANONICAL_SCHEMAS_V1) {
    for (const [path, field] of fields(schema)) {
      if (!/quantity/i.test(path.split('/').at(-1) as string)) continue;
      assert.equal(field.properties.value.minimum, 0, `${type} ${path}`);
      assert.equal(field.properties.uom.pattern, '^[A-Z0-9]{1,3}$', `${type} ${path}`);
      assert.deepEqual([...field.required].sort(), ['uom', 'value']);
    }
  }
});

test('the enums hold the values the spec lists', () => {
  assert.deepEqual(schemaOf('telemetry.machine.state').properties.state.enum, [
    'running',
    'idle',
    'down',
    'setup',
    'unknown',
  ]);
  assert.deepEqual(schemaOf('quality.disposition.decided').properties.disposition.enum, [
    'use-as-is',
    'rework',
    'scrap',
    'return-to-supplier',
  ]);
});

test('jsonSchemaOf gives a plain 2020-12 document, a fresh copy each time', () => {
  const doc = jsonSchemaOf('telemetry.machine.state');
  assert.ok(doc);
  assert.equal(doc.$schema, JSON_SCHEMA_DIALECT);
  assert.equal(doc.$id, 'urn:conveyor:schema:telemetry.machine.state:1');
  assert.deepEqual(Object.getOwnPropertySymbols(doc), []);
  assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc);
  (doc as Record<string, unknown>).title = 'changed';
  assert.equal(jsonSchemaOf('telemetry.machine.state')?.title, 'Machine state');
  assert.equal(jsonSchemaOf('no.such.type'), undefined);
});
