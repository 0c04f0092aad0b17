import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ProductionOrderReleasedData } from '../model/schemas/index.js';
import { type PerformanceEvent, productionPerformanceXml, productionScheduleXml } from './from-canonical.js';
import {
  assertCanonical,
  COURBON,
  fixture,
  sorted,
  throwsB2mml,
  validateWithXsd,
  XSD,
} from './test-helpers.js';
import { b2mmlToCanonical } from './to-canonical.js';
import '../../test/helpers/seed.js';

const ORDER: ProductionOrderReleasedData = {
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
};

const PERFORMANCE: PerformanceEvent[] = [
  {
    type: 'production.operation.completed',
    data: {
      orderId: '100004711',
      plant: 'P1',
      operation: '0010',
      workCenter: 'WC-PRESS-1',
      quantityGood: { value: 496, uom: 'EA' },
      completedAt: '2024-06-12T14:32:05Z',
    },
  },
  {
    type: 'production.material.consumed',
    data: {
      orderId: '100004711',
      plant: 'P1',
      material: 'STL-COIL-1.5',
      quantity: { value: 84.5, uom: 'KG' },
      consumedAt: '2024-06-12T14:32:05Z',
      lot: 'L24-0518-03',
    },
  },
  {
    type: 'production.material.consumed',
    data: {
      orderId: '100004711',
      plant: 'P1',
      material: 'PIN-M8',
      quantity: { value: 1000, uom: 'EA' },
      consumedAt: '2024-06-12T10:05:41+02:00',
    },
  },
  {
    type: 'production.scrap.reported',
    data: {
      orderId: '100004711',
      plant: 'P1',
      material: 'BRK-CAL-2200',
      quantity: { value: 3, uom: 'EA' },
      reasonCode: 'SCR-BURR',
    },
  },
  {
    type: 'production.order.completed',
    data: {
      orderId: '100004711',
      plant: 'P1',
      quantityGood: { value: 492, uom: 'EA' },
      quantityScrap: { value: 8, uom: 'EA' },
      completedAt: '2024-06-13T09:10:00Z',
    },
  },
  {
    type: 'production.operation.completed',
    data: {
      orderId: 'A&B<7>',
      plant: 'P2',
      operation: 'Weighing',
      workCenter: 'BOX3',
      quantityGood: { value: 0.41, uom: 'KG' },
      completedAt: '2024-06-12T09:00:00.125+01:00',
    },
  },
];

const WRITE = { creationDateTime: '2024-06-13T10:00:00Z', bodId: 'BOD-1' } as const;

function typeAndData(events: readonly { type: string; data: unknown }[]): { type: string; data: unknown }[] {
  return sorted(events.map(({ type, data }) => ({ type, data })));
}

describe('productionScheduleXml', () => {
  it('writes V0600 that the schema accepts and that reads back to the same orders', () => {
    const orders = [
      ORDER,
      { ...ORDER, orderId: 'X&<"2\'', plant: 'P2', dueDate: '2024-06-14T16:00:00+02:00' },
    ];
    const xml = productionScheduleXml(orders, WRITE);
    assert.deepEqual(validateWithXsd(xml, XSD.v0600Schedule), { valid: true, errors: '' });
    const back = b2mmlToCanonical(xml);
    assert.deepEqual(back.warnings, []);
    assert.deepEqual(
      back.events.map((e) => e.data),
      orders,
    );
    assert.deepEqual(back.header, {
      version: 'V0600',
      transaction: 'SyncProductionSchedule',
      noun: 'ProductionSchedule',
      verb: 'Sync',
      sender: 'conveyor',
      creationDateTime: '2024-06-13T10:00:00Z',
      bodId: 'BOD-1',
    });
  });

  it('round-trips the Courbon order: V0401 → canonical → V0600 (valid) → the same canonical data', () => {
    const first = b2mmlToCanonical(fixture(COURBON.schedule), { plant: 'P1' });
    const orders = first.events.map((e) => e.data as ProductionOrderReleasedData);
    const xml = productionScheduleXml(orders, WRITE);
    assert.deepEqual(validateWithXsd(xml, XSD.v0600Schedule), { valid: true, errors: '' });
    const back = b2mmlToCanonical(xml);
    assert.deepEqual(back.warnings, []);
    assert.deepEqual(back.events, first.events);
  });

  it('writes an empty schedule for no orders, still valid', () => {
    const xml = productionScheduleXml([], WRITE);
    assert.equal(validateWithXsd(xml, XSD.v0600Schedule).valid, true);
    assert.deepEqual(b2mmlToCanonical(xml).events, []);
  });

  it('refuses data that is not a valid released order, naming the field', () => {
    const { plant: _plant, ...noPlant } = ORDER;
    const error = throwsB2mml(
      () => productionScheduleXml([ORDER, noPlant as ProductionOrderReleasedData]),
      'invalid-canonical-data',
    );
    assert.match(error.message, /order 2 .*\/data\/plant is required/);
    throwsB2mml(
      () => productionScheduleXml([{ ...ORDER, quantity: { value: -1, uom: 'EA' } }]),
      'invalid-canonical-data',
    );
  });

  it('refuses characters XML cannot carry', () => {
    throwsB2mml(() => productionScheduleXml([{ ...ORDER, material: 'A\u0001B' }]), 'invalid-canonical-data');
  });
});

describe('productionPerformanceXml', () => {
  it('writes V0600 that the schema accepts and that reads back to the same events', () => {
    const xml = productionPerformanceXml(PERFORMANCE, WRITE);
    assert.deepEqual(validateWithXsd(xml, XSD.v0600Performance), { valid: true, errors: '' });
    const back = b2mmlToCanonical(xml);
    assert.deepEqual(back.warnings, []);
    assertCanonical(back.events);
    assert.deepEqual(typeAndData(back.events), typeAndData(PERFORMANCE));
  });

  it('round-trips the Courbon weighing: V0401 → canonical → V0600 (valid) → the same canonical data', () => {
    const first = b2mmlToCanonical(fixture(COURBON.performance), { plant: 'P1' });
    const xml = productionPerformanceXml(first.events as PerformanceEvent[], WRITE);
    assert.deepEqual(validateWithXsd(xml, XSD.v0600Performance), { valid: true, errors: '' });
    const back = b2mmlToCanonical(xml);
    assert.deepEqual(back.warnings, []);
    assert.deepEqual(back.events, first.events);
  });

  it('refuses other event types, invalid data and a second completion of an order', () => {
    throwsB2mml(
      () =>
        productionPerformanceXml([
          { type: 'production.order.released', data: ORDER } as unknown as PerformanceEvent,
        ]),
      'invalid-canonical-data',
    );
    const [operation] = PERFORMANCE;
    throwsB2mml(
      () =>
        productionPerformanceXml([
          { ...operation, data: { ...operation!.data, completedAt: 'yesterday' } } as PerformanceEvent,
        ]),
      'invalid-canonical-data',
    );
    const completion = PERFORMANCE.find((e) => e.type === 'production.order.completed')!;
    const error = throwsB2mml(
      () => productionPerformanceXml([completion, completion]),
      'invalid-canonical-data',
    );
    assert.match(error.message, /event 2 completes order 100004711 in plant P1 a second time/);
  });
});

// ---------------------------------------------------------------------------------------------------
// Property: whatever valid canonical data goes in comes back out.

// Ids with XML-special, accented and astral characters; no surrounding spaces (values are trimmed on reading).
const id = fc
  .string({
    unit: fc.constantFrom(...'AZaz09-_./ &<>"\'éΩ漢😀'.split(/(?:)/u)),
    minLength: 1,
    maxLength: 16,
  })
  .filter((s) => s.trim() === s && s !== '');
const plant = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,7}$/);
const quantity = fc.record({
  value: fc
    .oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.double({ min: 0, max: 1e12, noNaN: true }))
    .map((v) => (Object.is(v, -0) ? 0 : v)),
  uom: fc.stringMatching(/^[A-Z0-9]{1,3}$/),
});
const instant = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const dateTime = fc.oneof(
  instant,
  instant.map((t) => t.replace('Z', '+05:30')),
);
const order: fc.Arbitrary<ProductionOrderReleasedData> = fc
  .record({
    orderId: id,
    plant,
    material: id,
    quantity,
    dueDate: fc.oneof(
      dateTime,
      instant.map((t) => t.slice(0, 10)),
    ),
    routing: fc.array(fc.record({ operation: id, workCenter: id }), { maxLength: 3 }),
    bom: fc.array(fc.record({ material: id, quantity }), { maxLength: 3 }),
  })
  // Empty routing and BOM lists are written as nothing, and read back as absent.
  .map(({ routing, bom, ...rest }) => ({
    ...rest,
    ...(routing.length > 0 ? { routing } : {}),
    ...(bom.length > 0 ? { bom } : {}),
  }));

const orderKey = fc.record({
  orderId: fc.constantFrom('O-1', 'O-2', 'A&B'),
  plant: fc.constantFrom('P1', 'P2'),
});
const performanceEvent: fc.Arbitrary<PerformanceEvent> = fc.oneof(
  fc
    .record({ key: orderKey, operation: id, workCenter: id, quantityGood: quantity, completedAt: dateTime })
    .map(({ key, ...data }) => ({
      type: 'production.operation.completed' as const,
      data: { ...key, ...data },
    })),
  fc
    .record({
      key: orderKey,
      material: id,
      quantity,
      consumedAt: dateTime,
      lot: fc.option(id, { nil: undefined }),
    })
    .map(({ key, lot, ...data }) => ({
      type: 'production.material.consumed' as const,
      data: { ...key, ...data, ...(lot !== undefined ? { lot } : {}) },
    })),
  fc
    .record({ key: orderKey, material: id, quantity, reasonCode: id })
    .map(({ key, ...data }) => ({ type: 'production.scrap.reported' as const, data: { ...key, ...data } })),
  fc
    .record({ key: orderKey, quantityGood: quantity, quantityScrap: quantity, completedAt: dateTime })
    .map(({ key, ...data }) => ({ type: 'production.order.completed' as const, data: { ...key, ...data } })),
);
// At most one completion per order and plant.
const performance = fc.array(performanceEvent, { maxLength: 12 }).map((events) => {
  const completed = new Set<string>();
  return events.filter((e) => {
    if (e.type !== 'production.order.completed') return true;
    const key = `${e.data.orderId}|${e.data.plant}`;
    if (completed.has(key)) return false;
    completed.add(key);
    return true;
  });
});

/** fast-check builds records without a prototype; canonical data arrives as plain JSON objects. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

describe('round trip properties', () => {
  it('any released orders read back from the schedule unchanged', () => {
    fc.assert(
      fc.property(fc.array(order, { maxLength: 4 }).map(plain), (orders) => {
        const back = b2mmlToCanonical(productionScheduleXml(orders, WRITE));
        assert.deepEqual(back.warnings, []);
        assert.deepEqual(
          back.events.map((e) => e.data),
          orders,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('any completions, consumptions and scrap read back from the performance unchanged', () => {
    fc.assert(
      fc.property(performance.map(plain), (events) => {
        const back = b2mmlToCanonical(productionPerformanceXml(events, WRITE));
        assert.deepEqual(back.warnings, []);
        assert.deepEqual(typeAndData(back.events), typeAndData(events));
      }),
      { numRuns: 300 },
    );
  });

  it('the generated documents are valid V0600', () => {
    fc.assert(
      fc.property(fc.array(order, { minLength: 1, maxLength: 3 }), performance, (orders, events) => {
        const schedule = validateWithXsd(productionScheduleXml(orders, WRITE), XSD.v0600Schedule);
        assert.deepEqual(schedule, { valid: true, errors: '' });
        const report = validateWithXsd(productionPerformanceXml(events, WRITE), XSD.v0600Performance);
        assert.deepEqual(report, { valid: true, errors: '' });
      }),
      { numRuns: 15 },
    );
  });
});
