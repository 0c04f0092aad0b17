import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { HubClient } from './hub-client.js';
import { lotFor, lotNumberAt } from './master-data.js';
import { pickDisposition, SimulatedQms } from './qms.js';
import { accepted, problem, TestHub } from './test-hub.js';

describe('SimulatedQms', () => {
  const hub = new TestHub();
  const NOW = Date.parse('2024-03-01T12:00:30Z');
  let qms: SimulatedQms;

  before(async () => {
    await hub.listen();
  });
  beforeEach(() => {
    hub.reset();
    qms = new SimulatedQms(new HubClient(hub.url, 'qms-key', { sleep: async () => undefined }), {
      plants: ['P1', 'P2'],
      dispositionDelayMs: { min: 0, max: 0 },
      now: () => NOW,
      random: () => 0,
    });
  });
  afterEach(async () => {
    await qms.close();
  });
  after(async () => {
    await hub.close();
  });

  it('places a hold on a lot the warehouse ships, then decides its disposition', async () => {
    const holdId = await qms.placeHold();
    await hub.received(2);
    await qms.idle();
    const [hold, disposition] = hub.requests;
    assert.equal(hold?.path, '/v1/quality/holds');
    assert.deepEqual(hold?.json, {
      holdId,
      plant: 'P1',
      material: 'FG-1000',
      lots: [lotFor('P1', 'FG-1000', lotNumberAt(NOW))],
      reason: 'SPC: torque out of control limits',
      placedAt: '2024-03-01T12:00:30.000Z',
    });
    assert.equal(hold?.headers['idempotency-key'], `hold-${holdId}`);
    assert.equal(disposition?.path, `/v1/quality/holds/${holdId}/disposition`);
    assert.deepEqual(disposition?.json, { disposition: 'use-as-is', decidedAt: '2024-03-01T12:00:30.000Z' });
    assert.equal(qms.holdsPlaced, 1);
    assert.equal(qms.dispositionsDecided, 1);
    assert.equal(qms.byDisposition['use-as-is'], 1);
  });

  it('decides on the hold id the hub answered with', async () => {
    hub.script = (request) =>
      request.path === '/v1/quality/holds'
        ? { status: 202, body: { holdId: 'QH-HUB-1', events: [] } }
        : accepted(request);
    assert.equal(await qms.placeHold(), 'QH-HUB-1');
    await hub.received(2);
    await qms.idle();
    assert.equal(hub.requests[1]?.path, '/v1/quality/holds/QH-HUB-1/disposition');
  });

  it('retries a 503 with the same Idempotency-Key and counts refusals as failures', async () => {
    hub.script = (request, nth) => {
      if (request.path !== '/v1/quality/holds') return problem(422, 'validation-failed');
      return nth === 1 ? problem(503, 'unavailable') : accepted(request);
    };
    await qms.placeHold();
    await hub.received(3);
    await qms.idle();
    const holds = hub.to('/v1/quality/holds').filter((r) => r.path === '/v1/quality/holds');
    assert.equal(holds.length, 2);
    assert.equal(holds[0]?.headers['idempotency-key'], holds[1]?.headers['idempotency-key']);
    assert.equal(qms.holdsPlaced, 1);
    assert.equal(qms.dispositionsFailed, 1);
  });

  it('drops dispositions not yet decided when stopped', async () => {
    const slow = new SimulatedQms(new HubClient(hub.url, 'k'), {
      plants: ['P1'],
      dispositionDelayMs: { min: 60_000, max: 60_000 },
    });
    await slow.placeHold();
    assert.equal(slow.pendingDispositions, 1);
    slow.stop();
    assert.equal(slow.pendingDispositions, 0);
    await slow.close();
    assert.equal(hub.requests.length, 1);
  });

  it('places holds on its own once started', async () => {
    const timed = new SimulatedQms(new HubClient(hub.url, 'k'), {
      plants: ['P1'],
      holdIntervalMs: 5,
      dispositionDelayMs: { min: 60_000, max: 60_000 },
    });
    timed.start();
    await hub.received(2);
    timed.stop();
    await timed.idle();
    assert.ok(timed.holdsPlaced >= 2);
    await timed.close();
  });
});

describe('pickDisposition', () => {
  it('is mostly use-as-is or rework, sometimes scrap', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      const d = pickDisposition(i / 100);
      counts.set(d, (counts.get(d) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(counts), {
      'use-as-is': 50,
      rework: 30,
      scrap: 15,
      'return-to-supplier': 5,
    });
  });
});
