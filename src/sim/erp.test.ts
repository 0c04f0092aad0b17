import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { demoRoutings, SimulatedErp, UNKNOWN_MATERIAL } from './erp.js';
import { HubClient } from './hub-client.js';
import { accepted, problem, TestHub } from './test-hub.js';

describe('SimulatedErp', () => {
  const hub = new TestHub();
  let erp: SimulatedErp;

  before(async () => {
    await hub.listen();
  });
  beforeEach(() => {
    hub.reset();
    erp = new SimulatedErp(
      new HubClient(hub.url, 'erp-key', { sleep: async () => undefined }),
      ['P1', 'P2'],
      1,
    );
  });
  afterEach(async () => {
    await erp.close();
  });
  after(async () => {
    await hub.close();
  });

  it('releases orders through the release command, keyed by order', async () => {
    await erp.releaseOne();
    const [release] = hub.requests;
    const orderId = /^\/v1\/production-orders\/(PO-[0-9A-Z]+-000001)\/release$/.exec(
      release?.path ?? '',
    )?.[1];
    assert.ok(orderId, release?.path);
    assert.equal(release?.headers['idempotency-key'], `release-${orderId}`);
    assert.equal(release?.headers.authorization, 'Bearer erp-key');
    const body = release?.json as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['dueDate', 'material', 'plant', 'quantity']);
    assert.equal(body['plant'], 'P2');
    assert.equal(body['material'], 'FG-2000');
    assert.deepEqual(body['quantity'], { value: 150, uom: 'EA' });
    assert.equal(erp.released, 1);
  });

  it('releases every 25th order for the material MES does not know', async () => {
    for (let i = 0; i < 25; i++) await erp.releaseOne();
    const materials = hub.requests.map((r) => (r.json as { material: string }).material);
    assert.equal(materials.filter((m) => m === UNKNOWN_MATERIAL).length, 1);
    assert.equal(materials[24], UNKNOWN_MATERIAL);
  });

  it('counts refusals, retries 503 with the same key and counts what stays unavailable', async () => {
    let calls = 0;
    hub.script = (request) => {
      calls++;
      if (calls === 1) return problem(422, 'unknown-routing');
      if (calls === 2) return problem(503, 'unavailable');
      if (calls === 3) return accepted(request);
      return problem(503, 'unavailable');
    };
    await erp.releaseOne();
    await erp.releaseOne();
    await erp.releaseOne();
    assert.equal(hub.requests[1]?.headers['idempotency-key'], hub.requests[2]?.headers['idempotency-key']);
    assert.deepEqual([erp.refused, erp.released, erp.failed], [1, 1, 1]);
  });

  it('releases on its own once started', async () => {
    const timed = new SimulatedErp(new HubClient(hub.url, 'k'), ['P1'], 200);
    timed.start();
    await hub.received(3);
    timed.stop();
    await timed.idle();
    assert.ok(timed.released >= 3);
    await timed.close();
  });
});

describe('demoRoutings', () => {
  it('routes FG-1000/2000/3000 and FG-9999 in every plant, two operations with a component each', () => {
    const [header, ...rows] = demoRoutings(['P1', 'P2']).trimEnd().split('\n');
    assert.equal(header, 'plant,material,operation,workCenter,component,componentQuantity,uom');
    assert.equal(rows.length, 2 * 4 * 2);
    const cells = rows.map((r) => r.split(','));
    assert.ok(cells.every((c) => c.length === 7 && c.every((v) => v.length > 0)));
    for (const plant of ['P1', 'P2']) {
      for (const material of ['FG-1000', 'FG-2000', 'FG-3000', UNKNOWN_MATERIAL]) {
        const steps = cells.filter((c) => c[0] === plant && c[1] === material);
        assert.deepEqual(
          steps.map((c) => c[2]),
          ['0010', '0020'],
        );
        assert.ok(steps.every((c) => c[3]?.startsWith(`${plant}-WC-`) && Number(c[5]) > 0));
        assert.equal(new Set(steps.map((c) => c[4])).size, 2, 'two BOM components');
      }
    }
  });
});
