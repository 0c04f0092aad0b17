import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { StoredEvent } from '../../src/model/envelope.js';
import { auth, createTestHub } from '../helpers/hub.js';
import { TestReceiver } from '../helpers/receiver.js';

type Hub = Awaited<ReturnType<typeof createTestHub>>;

let hub: Hub;
let crm: TestReceiver;

before(async () => {
  crm = new TestReceiver();
  await crm.listen();
  hub = await createTestHub({
    connectors: { crm: { kind: 'http', url: crm.url } },
    milestones: [
      {
        name: 'hold-dispositioned',
        start: 'quality.hold.placed',
        end: { type: 'quality.disposition.decided' },
        correlate: 'data.holdId',
        within: '1s',
      },
    ],
    alerts: [{ when: 'milestone.late', sink: 'crm' }],
  });
  await hub.listen();
});

after(async () => {
  await hub.close();
  await crm.close();
});

const publish = async (event: Record<string, unknown>) => {
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth(), 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify({
      specversion: '1.0',
      source: '/plants/P1/qms',
      time: new Date().toISOString(),
      ...event,
    }),
  });
  assert.equal(res.statusCode, 202, res.body);
};

const alertsOf = (type: string) =>
  crm.received.map((r) => JSON.parse(r.body) as StoredEvent).filter((e) => e.type === type);

test('a late milestone alerts the CRM once, clears when met, and is listed as met with its events', async () => {
  await publish({
    id: 'hold-1',
    type: 'quality.hold.placed',
    subject: 'QH-77',
    data: {
      holdId: 'QH-77',
      plant: 'P1',
      material: 'M-1',
      lots: ['L-1'],
      reason: 'burr',
      placedAt: new Date().toISOString(),
    },
  });
  await crm.waitFor(() => alertsOf('conveyor.milestone.late').length > 0, 10_000, 'the late alert');
  const [late] = alertsOf('conveyor.milestone.late');
  const data = late?.data as Record<string, unknown>;
  assert.equal(data.name, 'hold-dispositioned');
  assert.equal(data.correlation, 'QH-77');
  assert.equal(data.plant, 'P1');
  assert.equal(data.status, 'late');
  assert.equal((data.start as { id: string }).id, 'hold-1');

  const open = await hub.app.inject({ method: 'GET', url: '/v1/milestones?status=late', headers: auth() });
  assert.equal(open.statusCode, 200);
  assert.deepEqual(
    open
      .json()
      .items.map((i: { correlation: string; late: boolean; endedAt: unknown }) => [
        i.correlation,
        i.late,
        i.endedAt,
      ]),
    [['QH-77', true, null]],
  );

  await publish({
    id: 'disposition-1',
    type: 'quality.disposition.decided',
    subject: 'QH-77',
    data: { holdId: 'QH-77', plant: 'P1', disposition: 'rework', decidedAt: new Date().toISOString() },
  });
  await crm.waitFor(() => alertsOf('conveyor.milestone.cleared').length > 0, 10_000, 'the cleared alert');
  const cleared = alertsOf('conveyor.milestone.cleared')[0]?.data as Record<string, unknown>;
  assert.equal(cleared.milestoneId, data.milestoneId);
  assert.equal((cleared.end as { id: string }).id, 'disposition-1');
  assert.equal(
    new Set(alertsOf('conveyor.milestone.late').map((e) => e.id)).size,
    1,
    'exactly one late alert',
  );
  assert.equal(alertsOf('conveyor.milestone.late').length, 1);

  const met = await hub.app.inject({ method: 'GET', url: '/v1/milestones?status=met', headers: auth() });
  assert.equal(met.statusCode, 200);
  const [item] = met.json().items;
  assert.equal(item.id, data.milestoneId);
  assert.equal(item.status, 'met');
  assert.equal(item.late, true);
  assert.ok(typeof item.endedAt === 'string');
  assert.deepEqual(
    item.events.map((e: { id: string; role: string; type: string }) => [e.role, e.id, e.type]),
    [
      ['start', 'hold-1', 'quality.hold.placed'],
      ['end', 'disposition-1', 'quality.disposition.decided'],
    ],
  );
  const summary = await hub.app.inject({ method: 'GET', url: '/v1/milestones/summary', headers: auth() });
  assert.deepEqual(summary.json().items, [
    { name: 'hold-dispositioned', plant: 'P1', open: 0, late: 0, met: 1 },
  ]);
  const metrics = await hub.app.inject({ method: 'GET', url: '/metrics', headers: auth() });
  assert.match(metrics.body, /conveyor_milestones_late_total\{name="hold-dispositioned"\} 1/);
});

test('bad query parameters are a problem naming the field', async () => {
  const res = await hub.app.inject({ method: 'GET', url: '/v1/milestones?status=overdue', headers: auth() });
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().errors[0].path, 'status');
  const unauthenticated = await hub.app.inject({ method: 'GET', url: '/v1/milestones' });
  assert.equal(unauthenticated.statusCode, 401);
});
