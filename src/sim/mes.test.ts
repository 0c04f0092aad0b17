import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { request } from 'undici';
import { HubClient } from './hub-client.js';
import { lotNumberAt } from './master-data.js';
import { SimulatedMes } from './mes.js';
import { TestHub } from './test-hub.js';

async function deliver(url: string, event: unknown): Promise<number> {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify(event),
  });
  await response.body.dump();
  return response.statusCode;
}

const ORDER = {
  id: 'evt-1',
  type: 'production.order.released',
  data: {
    orderId: 'PO-1',
    plant: 'P1',
    material: 'FG-1000',
    quantity: { value: 100, uom: 'EA' },
    routing: [
      { operation: '0010', workCenter: 'P1-WC-PRESS' },
      { operation: '0020', workCenter: 'P1-WC-ASSY' },
    ],
    bom: [
      { material: 'CMP-STEEL-COIL', quantity: { value: 250, uom: 'KGM' } },
      { material: 'CMP-BOLT-M8', quantity: { value: 800, uom: 'EA' } },
    ],
  },
};

describe('SimulatedMes', () => {
  const hub = new TestHub();
  let client: HubClient;
  let mes: SimulatedMes;

  before(async () => {
    await hub.listen();
  });
  beforeEach(async () => {
    hub.reset();
    client = new HubClient(hub.url, 'mes-key', { sleep: async () => undefined });
    mes = new SimulatedMes(client, 0);
    await mes.listen();
  });
  afterEach(async () => {
    await mes.close();
    await client.close();
  });
  after(async () => {
    await hub.close();
  });

  it('reports the operations and then the material consumed for each completed order', async () => {
    const before = Date.now();
    assert.equal(await deliver(mes.url, ORDER), 204);
    await hub.received(2);
    await mes.idle();
    const [completions, consumption] = hub.requests;
    assert.equal(completions?.path, '/v1/events');
    assert.equal((completions!.json as unknown[]).length, 2);
    assert.equal(consumption?.path, '/v1/material-consumptions');
    assert.equal(consumption?.headers['idempotency-key'], 'consume-PO-1');
    const body = consumption?.json as Record<string, unknown>;
    assert.deepEqual(
      {
        orderId: body['orderId'],
        plant: body['plant'],
        material: body['material'],
        quantity: body['quantity'],
      },
      { orderId: 'PO-1', plant: 'P1', material: 'CMP-STEEL-COIL', quantity: { value: 250, uom: 'KGM' } },
    );
    const lot = String(body['lot']);
    const period = Number(lot.slice(lot.lastIndexOf('-') + 1));
    assert.ok(lot.startsWith('L-P1-CMP-STEEL-COIL-'));
    assert.ok(period >= lotNumberAt(before) && period <= lotNumberAt(Date.now()));
    assert.ok(!Number.isNaN(Date.parse(String(body['consumedAt']))));
    assert.equal(mes.completionsReported, 2);
    assert.equal(mes.consumptionsReported, 1);
  });

  it('reports the order material when the order has no BOM, and counts a refused consumption', async () => {
    hub.script = (request) =>
      request.path === '/v1/events'
        ? { status: 202 }
        : { status: 422, body: { type: 'urn:conveyor:problem:validation-failed' } };
    const { bom: _bom, ...data } = ORDER.data;
    assert.equal(await deliver(mes.url, { ...ORDER, id: 'evt-2', data }), 204);
    await hub.received(2);
    await mes.idle();
    assert.equal((hub.requests[1]!.json as { material: string }).material, 'FG-1000');
    assert.equal(mes.consumptionsFailed, 1);
  });

  it('reports no consumption when the completions were not accepted', async () => {
    hub.script = () => ({ status: 400 });
    assert.equal(await deliver(mes.url, ORDER), 204);
    await hub.received(1);
    await mes.idle();
    assert.equal(hub.requests.length, 1);
    assert.equal(mes.consumptionsReported + mes.consumptionsFailed, 0);
  });
});
