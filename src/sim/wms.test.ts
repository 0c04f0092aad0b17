import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { request } from 'undici';
import { HubClient } from './hub-client.js';
import { lotFor, lotNumberAt } from './master-data.js';
import { accepted, problem, TestHub } from './test-hub.js';
import { SimulatedWarehouse, SimulatedWms, type WmsOptions } from './wms.js';

/** The fields of the WMS's answers the tests read. */
interface WmsAnswer {
  reservationId: string;
  plant: string;
  material: string;
  quantity: unknown;
  orderId: string;
  error: string;
  shipmentId: string;
  confirmedAt: string;
}

async function post(
  url: string,
  body: unknown,
): Promise<{ status: number; body: WmsAnswer; retryAfter?: string }> {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.body.text();
  const retryAfter = response.headers['retry-after'];
  return {
    status: response.statusCode,
    body: text ? JSON.parse(text) : undefined,
    ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
  };
}

const RESERVATION = {
  plant: 'P1',
  material: 'CMP-BOLT-M8',
  quantity: { value: 8, uom: 'EA' },
  orderId: 'PO-1',
};
const SHIPMENT = {
  plant: 'P1',
  lines: [{ material: 'FG-1000', quantity: { value: 10, uom: 'EA' }, lots: ['L1'] }],
};

describe('SimulatedWms', () => {
  const started: SimulatedWms[] = [];
  async function wms(options: WmsOptions = {}): Promise<SimulatedWms> {
    const system = new SimulatedWms({ latencyMs: 0, ...options });
    started.push(system);
    await system.listen();
    return system;
  }
  afterEach(async () => {
    for (const s of started.splice(0)) await s.close();
  });

  it('reserves with a new reservation id and echoes the request', async () => {
    const system = await wms();
    const first = await post(`${system.url}/reservations`, RESERVATION);
    const second = await post(`${system.url}/reservations`, RESERVATION);
    assert.equal(first.status, 201);
    assert.match(first.body.reservationId, /^RSV-/);
    assert.notEqual(first.body.reservationId, second.body.reservationId);
    assert.deepEqual(
      { plant: first.body.plant, material: first.body.material, quantity: first.body.quantity },
      { plant: 'P1', material: 'CMP-BOLT-M8', quantity: { value: 8, uom: 'EA' } },
    );
    assert.equal(first.body.orderId, 'PO-1');
    assert.equal(system.reservations, 2);
    assert.equal(system.requests, 2);
  });

  it('refuses a material it has no stock of with 409 insufficient-stock', async () => {
    const system = await wms({ insufficientStock: ['CMP-RESIN-PA66'] });
    const answer = await post(`${system.url}/reservations`, { ...RESERVATION, material: 'CMP-RESIN-PA66' });
    assert.equal(answer.status, 409);
    assert.equal(answer.body.error, 'insufficient-stock');
    assert.equal(system.insufficientStock, 1);
    assert.equal(system.reservations, 0);
  });

  it('confirms a shipment once and answers a repeat with the first confirmation', async () => {
    const system = await wms();
    const first = await post(`${system.url}/shipments/SHP%2F1/confirm`, SHIPMENT);
    const again = await post(`${system.url}/shipments/SHP%2F1/confirm`, SHIPMENT);
    assert.equal(first.status, 201);
    assert.equal(first.body.shipmentId, 'SHP/1');
    assert.ok(!Number.isNaN(Date.parse(first.body.confirmedAt)));
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, first.body);
    assert.equal(system.confirmations, 1);
    assert.equal(system.repeatedConfirmations, 1);
  });

  it('answers 400 to bad bodies and 404 to unknown paths', async () => {
    const system = await wms();
    assert.equal((await post(`${system.url}/reservations`, 'not json')).status, 400);
    assert.equal((await post(`${system.url}/reservations`, { plant: 'P1' })).status, 400);
    assert.equal((await post(`${system.url}/shipments/S1/confirm`, { plant: 'P1', lines: [] })).status, 400);
    assert.equal((await post(`${system.url}/elsewhere`, {})).status, 404);
    assert.equal(system.badRequests, 3);
  });

  it('answers 503 with the seconds left as Retry-After inside its outage window', async () => {
    let clock = 1_000_000;
    const system = await wms({ outage: { periodMs: 10_000, downMs: 3_000 }, now: () => clock });
    clock += 1_000;
    assert.equal(system.isDown(), false);
    assert.equal((await post(`${system.url}/reservations`, RESERVATION)).status, 201);
    clock += 7_000; // 8 s into the period: down until 10 s
    const down = await post(`${system.url}/reservations`, RESERVATION);
    assert.equal(down.status, 503);
    assert.equal(down.retryAfter, '2');
    clock += 2_500; // the next period has begun
    assert.equal((await post(`${system.url}/shipments/S1/confirm`, SHIPMENT)).status, 201);
    assert.equal(system.unavailable, 1);
    assert.equal(system.requests, 3);
  });

  it('stalls requests inside a stalling outage and drops them when closed', async () => {
    const clock = 1_000_000;
    const system = await wms({
      outage: { periodMs: 10_000, downMs: 10_000, mode: 'stall' },
      now: () => clock,
    });
    const stalled = once(system, 'stalled');
    const pending = assert.rejects(post(`${system.url}/reservations`, RESERVATION));
    await stalled;
    assert.equal(system.stalled, 1);
    await system.close();
    await pending;
    assert.equal(system.unavailable, 0);
  });

  it('answers a stalled request with 503 once its stall is over', async () => {
    const system = await wms({
      outage: { periodMs: 10_000, downMs: 10_000, mode: 'stall' },
      stallMs: 5,
      now: () => 0,
    });
    const answer = await post(`${system.url}/reservations`, RESERVATION);
    assert.equal(answer.status, 503);
    assert.equal(system.stalled, 1);
  });

  it('answers after its latency', async () => {
    const system = await wms({ latencyMs: 40 });
    const startedAt = performance.now();
    assert.equal((await post(`${system.url}/reservations`, RESERVATION)).status, 201);
    assert.ok(performance.now() - startedAt >= 38);
  });
});

describe('SimulatedWarehouse', () => {
  const hub = new TestHub();
  const NOW = Date.parse('2024-03-01T12:00:30Z');
  let client: HubClient;
  let warehouse: SimulatedWarehouse;
  const waits: number[] = [];

  before(async () => {
    await hub.listen();
  });
  beforeEach(() => {
    hub.reset();
    waits.length = 0;
    client = new HubClient(hub.url, 'wms-key', { sleep: async (ms) => void waits.push(ms) });
    warehouse = new SimulatedWarehouse(client, { plants: ['P1', 'P2'], now: () => NOW, random: () => 0 });
  });
  afterEach(async () => {
    await warehouse.close();
  });
  after(async () => {
    await hub.close();
  });

  it('confirms shipments with lots named like the QMS names them', async () => {
    await warehouse.confirmShipment();
    const [confirmation] = hub.to('/v1/shipments/');
    assert.match(confirmation?.path ?? '', /^\/v1\/shipments\/SHP-[0-9A-Z]+-000001\/confirmation$/);
    assert.deepEqual(confirmation?.json, {
      plant: 'P2',
      lines: [
        {
          material: 'FG-1000',
          quantity: { value: 10, uom: 'EA' },
          lots: [lotFor('P2', 'FG-1000', lotNumberAt(NOW))],
        },
      ],
      shippedAt: '2024-03-01T12:00:30.000Z',
    });
    assert.equal(warehouse.shipmentsConfirmed, 1);
  });

  it('retries a 503 with the same Idempotency-Key', async () => {
    hub.script = (request, nth) =>
      nth === 1 ? problem(503, 'system-of-record-unavailable') : accepted(request);
    await warehouse.confirmShipment();
    const keys = hub.to('/v1/shipments/').map((r) => r.headers['idempotency-key']);
    assert.equal(keys.length, 2);
    assert.equal(keys[0], keys[1]);
    assert.deepEqual(waits, [0]);
    assert.equal(warehouse.shipmentsConfirmed, 1);
    assert.equal(warehouse.shipmentsFailed, 0);
  });

  it('counts a confirmation refused for a held lot, and other refusals as failures', async () => {
    hub.script = () =>
      hub.requests.length === 1
        ? problem(409, 'shipment-blocked-by-quality-hold', { holds: [{ holdId: 'QH-1', lots: ['L'] }] })
        : problem(409, 'idempotency-key-reused');
    await warehouse.confirmShipment();
    await warehouse.confirmShipment();
    assert.equal(warehouse.blockedByHold, 1);
    assert.equal(warehouse.shipmentsFailed, 1);
    assert.equal(warehouse.shipmentsConfirmed, 0);
  });

  it('gives up after its attempts while the hub stays unavailable', async () => {
    hub.script = () => problem(503, 'system-of-record-unavailable');
    await warehouse.confirmShipment();
    assert.equal(hub.requests.length, 4);
    assert.equal(warehouse.shipmentsFailed, 1);
  });

  it('reserves the components of each released order delivered to it, once per event', async () => {
    hub.script = (request) =>
      (request.json as { material?: string }).material === 'CMP-RESIN-PA66'
        ? problem(422, 'refused-by-system-of-record', { upstream: { status: 409 } })
        : accepted(request);
    const url = await warehouse.listen();
    const event = {
      id: 'evt-1',
      type: 'production.order.released',
      data: {
        orderId: 'PO-7',
        plant: 'P1',
        material: 'FG-3000',
        bom: [
          { material: 'CMP-CABLE-3G', quantity: { value: 150, uom: 'MTR' } },
          { material: 'CMP-RESIN-PA66', quantity: { value: 40, uom: 'KGM' } },
        ],
      },
    };
    assert.equal((await post(url, event)).status, 204);
    assert.equal((await post(url, event)).status, 204);
    assert.equal((await post(url, 'garbage')).status, 400);
    await warehouse.idle();
    const reservations = hub.to('/v1/inventory/reservations');
    assert.deepEqual(
      reservations.map((r) => r.json),
      [
        { plant: 'P1', material: 'CMP-CABLE-3G', quantity: { value: 150, uom: 'MTR' }, orderId: 'PO-7' },
        { plant: 'P1', material: 'CMP-RESIN-PA66', quantity: { value: 40, uom: 'KGM' }, orderId: 'PO-7' },
      ],
    );
    assert.equal(reservations[0]?.headers['idempotency-key'], 'reserve-PO-7-CMP-CABLE-3G');
    assert.equal(warehouse.ordersReceived, 2);
    assert.equal(warehouse.duplicateOrders, 1);
    assert.equal(warehouse.reservationsMade, 1);
    assert.equal(warehouse.reservationsRefused, 1);
  });

  it('confirms shipments on its own once started, until stopped', async () => {
    const timed = new SimulatedWarehouse(new HubClient(hub.url, 'k'), { plants: ['P1'], intervalMs: 5 });
    timed.start();
    await hub.received(2);
    timed.stop();
    await timed.idle();
    assert.ok(timed.shipmentsConfirmed >= 2);
    await timed.close();
  });

  it('closes without waiting for a confirmation that waits to retry', async () => {
    const patient = new SimulatedWarehouse(new HubClient(hub.url, 'k'), { plants: ['P1'] });
    hub.script = () => ({ ...problem(503, 'unavailable'), headers: { 'retry-after': '30' } });
    const confirming = patient.confirmShipment();
    await hub.received(1);
    await patient.close();
    await confirming;
    assert.equal(patient.shipmentsFailed, 0);
    assert.equal(patient.shipmentsConfirmed, 0);
  });
});
