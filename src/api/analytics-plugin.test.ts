import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { auth, createTestHub } from '../../test/helpers/hub.js';
import { createClient } from '../../test/security/helpers.js';
import { ScanLimitExceeded, scanLog } from '../analytics/log-scan.js';
import type { Hub } from '../hub.js';

const MIN = 60_000;
/** The window starts 90 minutes ago (on a whole minute), so every event is appended inside the read range. */
const T = Math.floor((Date.now() - 90 * MIN) / MIN) * MIN;
const at = (minutes: number) => new Date(T + minutes * MIN).toISOString();

let hub: Hub;

function telemetry(type: string, data: Record<string, unknown>, plant = 'P1') {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: '/plants/P1/scada',
    type,
    time: (data.at ?? data.startedAt ?? data.endedAt ?? data.completedAt) as string,
    plant,
    datacontenttype: 'application/json',
    data: { plant, ...data },
  };
}
const state = (equipmentId: string, minutes: number, s: string) =>
  telemetry('telemetry.machine.state', { equipmentId, state: s, at: at(minutes) });
const counter = (equipmentId: string, minutes: number, name: string, value: number) =>
  telemetry('telemetry.machine.counter', { equipmentId, counter: name, value, at: at(minutes) });
const completed = (minutes: number, orderId: string, good: number, plant = 'P1') => ({
  ...telemetry(
    'production.operation.completed',
    {
      orderId,
      operation: '0010',
      workCenter: 'WC-PRESS-1',
      quantityGood: { value: good, uom: 'EA' },
      completedAt: at(minutes),
    },
    plant,
  ),
  subject: orderId,
});

before(async () => {
  hub = await createTestHub({ analytics: { idealRates: { 'PRESS-07': 60 } } });
  const events = [
    // PRESS-07: running from before the window; down 20..30 (unplanned); running 30..55; idle after.
    state('PRESS-07', -5, 'running'),
    state('PRESS-07', 20, 'down'),
    state('PRESS-07', 30, 'running'),
    state('PRESS-07', 55, 'idle'),
    telemetry('maintenance.downtime.started', {
      equipmentId: 'PRESS-07',
      reasonCode: 'MECH-01',
      planned: false,
      startedAt: at(20),
    }),
    telemetry('maintenance.downtime.ended', { equipmentId: 'PRESS-07', endedAt: at(30) }),
    // Cumulative counters; the reading before the window is the baseline; at 58 the counter was reset.
    counter('PRESS-07', -1, 'good', 1000),
    counter('PRESS-07', 10, 'good', 2000),
    counter('PRESS-07', 50, 'good', 3500),
    counter('PRESS-07', 58, 'good', 20),
    counter('PRESS-07', -1, 'scrap', 50),
    counter('PRESS-07', 10, 'scrap', 90),
    counter('PRESS-07', 50, 'scrap', 150),
    counter('PRESS-07', 30, 'temperature', 80),
    // After the window: not counted.
    counter('PRESS-07', 61, 'good', 500),
    // The packaging line has no ideal rate configured.
    state('LINE-1', 0, 'running'),
    counter('LINE-1', 0, 'GoodCount', 0),
    counter('LINE-1', 30, 'GoodCount', 300),
    // Another plant's machine.
    {
      ...state('PRESS-09', 0, 'running'),
      plant: 'P2',
      data: { ...state('PRESS-09', 0, 'running').data, plant: 'P2' },
    },
    completed(5, 'PO-A1', 10),
    completed(25, 'PO-A1', 12),
    completed(45, 'PO-A2', 8),
    completed(70, 'PO-A2', 99), // after the window
    completed(10, 'PO-B1', 5, 'P2'),
  ];
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth(), 'content-type': 'application/cloudevents-batch+json' },
    payload: JSON.stringify(events),
  });
  assert.equal(res.statusCode, 202, res.body);
});

after(() => hub.close());

const get = (url: string, key?: string) => hub.app.inject({ method: 'GET', url, headers: auth(key) });
const window = `from=${encodeURIComponent(at(0))}&to=${encodeURIComponent(at(60))}`;

test('OEE of a known hour comes out exactly: availability, performance, quality, counts and times', async () => {
  const res = await get(`/v1/analytics/oee?plant=P1&equipment=PRESS-07&${window}`);
  assert.equal(res.statusCode, 200, res.body);
  const [item, ...rest] = res.json().items;
  assert.equal(rest.length, 0);
  assert.equal(item.plant, 'P1');
  assert.equal(item.equipmentId, 'PRESS-07');
  assert.equal(item.from, at(0));
  assert.equal(item.to, at(60));
  assert.equal(item.runSeconds, 45 * 60);
  assert.equal(item.plannedSeconds, 60 * 60);
  assert.equal(item.downtimeSeconds, 15 * 60);
  assert.equal(item.goodCount, 2520); // 1000 + 1500 + 20 after the reset
  assert.equal(item.scrapCount, 100);
  assert.equal(item.idealRatePerMinute, 60);
  assert.equal(item.availability, 0.75);
  assert.equal(item.performance, 2620 / 2700);
  assert.equal(item.quality, 2520 / 2620);
  assert.equal(item.oee, 0.75 * (2620 / 2700) * (2520 / 2620));
  assert.equal(item.throughputPerHour, 2520);
  assert.equal(item.countedFrom, 'counters');
  assert.deepEqual(item.downtimeReasons, [{ reasonCode: 'MECH-01', planned: false, seconds: 600 }]);
});

test('buckets split the window and add up to it', async () => {
  const res = await get(`/v1/analytics/oee?equipment=PRESS-07&${window}&bucket=30m`);
  assert.equal(res.statusCode, 200, res.body);
  const { buckets } = res.json().items[0];
  assert.deepEqual(
    buckets.map((b: Record<string, unknown>) => [b.from, b.to, b.runSeconds, b.goodCount, b.scrapCount]),
    [
      [at(0), at(30), 20 * 60, 1000, 40],
      [at(30), at(60), 25 * 60, 1520, 60],
    ],
  );
  assert.equal(buckets[0].availability, 2 / 3);
});

test('a machine without an ideal rate has availability and quality but no performance or OEE', async () => {
  const res = await get(`/v1/analytics/oee?plant=P1&${window}`);
  const line = res.json().items.find((i: { equipmentId: string }) => i.equipmentId === 'LINE-1');
  assert.equal(line.availability, 1);
  assert.equal(line.goodCount, 300);
  assert.equal(line.quality, 1);
  assert.equal(line.performance, null);
  assert.equal(line.oee, null);
  assert.deepEqual(
    res.json().items.map((i: { equipmentId: string }) => i.equipmentId),
    ['LINE-1', 'PRESS-07'],
  );
});

test('throughput counts completed operations and quantities per plant and hour', async () => {
  const res = await get(`/v1/analytics/throughput?${window}`);
  assert.equal(res.statusCode, 200, res.body);
  const [p1, p2] = res.json().items;
  assert.equal(p1.plant, 'P1');
  assert.equal(p1.operations, 3);
  assert.equal(p1.operationsPerHour, 3);
  assert.deepEqual(p1.quantities, [{ uom: 'EA', good: 30, scrap: 0, goodPerHour: 30 }]);
  assert.deepEqual(p1.workCenters, [{ workCenter: 'WC-PRESS-1', operations: 3 }]);
  assert.equal(p2.plant, 'P2');
  assert.equal(p2.operations, 1);
});

test('a plant-bound client sees only its plants and is refused another plant', async () => {
  const key = await createClient(hub, 'dash-p2', ['analytics:read'], ['P2']);
  const own = await get(`/v1/analytics/oee?${window}`, key);
  assert.equal(own.statusCode, 200, own.body);
  assert.deepEqual(
    own.json().items.map((i: { plant: string; equipmentId: string }) => `${i.plant}/${i.equipmentId}`),
    ['P2/PRESS-09'],
  );
  const throughput = await get(`/v1/analytics/throughput?${window}`, key);
  assert.deepEqual(
    throughput.json().items.map((i: { plant: string }) => i.plant),
    ['P2'],
  );
  const other = await get(`/v1/analytics/oee?plant=P1&${window}`, key);
  assert.equal(other.statusCode, 403);
  const reader = await createClient(hub, 'reader-only', ['events:read:telemetry']);
  const refused = await get('/v1/analytics/oee', reader);
  assert.equal(refused.statusCode, 403);
  assert.match(refused.json().detail, /analytics:read/);
});

test('bad ranges are refused naming the field', async () => {
  const cases: Array<[string, string]> = [
    [`from=${encodeURIComponent(at(60))}&to=${encodeURIComponent(at(0))}`, 'to'],
    ['from=2026-01-01&to=2026-01-09', 'from'],
    ['from=yesterday', 'from'],
    [`${window}&bucket=1s`, 'bucket'],
    ['from=2026-01-01&to=2026-01-07&bucket=1m', 'bucket'],
    [`${window}&bucket=soon`, 'bucket'],
  ];
  for (const [query, path] of cases) {
    const res = await get(`/v1/analytics/oee?${query}`);
    assert.equal(res.statusCode, 400, query);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(res.json().errors[0].path, path, query);
  }
});

test('a scan stops with ScanLimitExceeded past its limit instead of reading on', async () => {
  const seen: string[] = [];
  await assert.rejects(
    scanLog(
      hub.log,
      { types: ['telemetry.machine.counter'], appendedFrom: 0, appendedTo: Date.now() + MIN, limit: 3 },
      (e) => seen.push(e.id),
    ),
    ScanLimitExceeded,
  );
  assert.equal(seen.length, 3);
});
