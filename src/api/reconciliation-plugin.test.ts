import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { makeEvent } from '../../test/helpers/events.js';
import { auth, createTestHub, LogCapture } from '../../test/helpers/hub.js';
import { TestReceiver } from '../../test/helpers/receiver.js';
import { createClient } from '../../test/security/helpers.js';
import { ReconciliationJob } from '../analytics/reconciliation-job.js';
import { ReconciliationService } from '../analytics/reconciliation-service.js';
import { ManualClock } from '../delivery/clock.js';
import type { Hub } from '../hub.js';
import { createLogger } from '../observability/logger.js';

let hub: Hub;
let erp: TestReceiver;
let qms: TestReceiver;
let analytics: TestReceiver;
let postings: Server;
/** What the ERP's query endpoint answers, by order id. */
const booked = new Map<string, unknown>();

const time = new Date(Date.now() - 60_000).toISOString();
const day = time.slice(0, 10);
const completedAt = time;

const r1 = [
  makeEvent({ subject: 'PO-R1', type: 'production.operation.completed', time }),
  makeEvent({ subject: 'PO-R1', type: 'production.operation.completed', time }),
  makeEvent({
    subject: 'PO-R1',
    type: 'production.order.completed',
    time,
    data: {
      orderId: 'PO-R1',
      plant: 'P1',
      quantityGood: { value: 492, uom: 'EA' },
      quantityScrap: { value: 8, uom: 'EA' },
      completedAt,
    },
  }),
];
const r2 = makeEvent({ subject: 'PO-R2', plant: 'P2', type: 'production.operation.completed', time });

before(async () => {
  erp = new TestReceiver();
  qms = new TestReceiver();
  qms.behaviour = () => ({ status: 400 });
  analytics = new TestReceiver();
  analytics.behaviour = () => ({ status: 503 });
  await Promise.all([erp.listen(), qms.listen(), analytics.listen()]);
  // The ERP's query side: what it booked per order (`GET /orders/{orderId}/postings`).
  postings = createServer((req, res) => {
    const match = /^\/erp\/orders\/([^/]+)\/postings$/.exec(req.url ?? '');
    const answer = match ? booked.get(decodeURIComponent(match[1] as string)) : undefined;
    if (answer === undefined) return void res.writeHead(404).end();
    if (answer === 'fail') return void res.writeHead(500).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => postings.listen(0, '127.0.0.1', resolve));
  const erpQuery = `http://127.0.0.1:${(postings.address() as AddressInfo).port}/erp`;
  hub = await createTestHub({
    connectors: {
      erp: { kind: 'http', url: erp.url },
      'erp-query': { kind: 'http', baseUrl: erpQuery, timeout: '2s' },
      qms: { kind: 'http', url: qms.url },
      analytics: { kind: 'http', url: analytics.url },
    },
    routes: [
      { name: 'erp-postings', types: ['production.*'], sink: 'erp' },
      { name: 'qms-trace', types: ['production.operation.completed'], filter: "plant = 'P1'", sink: 'qms' },
      {
        name: 'analytics-feed',
        types: ['production.*'],
        filter: "type = 'production.order.completed'",
        sink: 'analytics',
        retry: { maxAttempts: 1 },
      },
    ],
    reconciliation: {
      systems: [{ route: 'erp-postings', connector: 'erp-query', path: '/orders/{orderId}/postings' }],
    },
  });
  await hub.listen();
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth(), 'content-type': 'application/cloudevents-batch+json' },
    payload: JSON.stringify([...r1, r2]),
  });
  assert.equal(res.statusCode, 202, res.body);
  // The ERP booked two of PO-R1's three events and one it got elsewhere; PO-R2 only as a count.
  booked.set('PO-R1', { events: [r1[0]?.id, r1[1]?.id, 'ERP-ONLY-1'] });
  booked.set('PO-R2', { count: 1 });
  const head = hub.log.head();
  const route = (name: string) => hub.delivery.subscriptions().find((s) => s.name === name);
  const settled = () =>
    (route('qms-trace')?.deadLettered ?? 0) >= 2 &&
    (route('analytics-feed')?.deadLettered ?? 0) >= 1 &&
    ['erp-postings', 'qms-trace', 'analytics-feed'].every((name) => (route(name)?.position ?? 0) >= head);
  for (const deadline = Date.now() + 20_000; !settled() && Date.now() < deadline; )
    await new Promise((resolve) => setImmediate(resolve));
  assert.ok(settled(), 'deliveries settled');
});

after(async () => {
  await hub.close();
  await Promise.all([erp.close(), qms.close(), analytics.close()]);
  await new Promise((resolve) => postings.close(resolve));
});

const get = (url: string, key?: string, headers: Record<string, string> = {}) =>
  hub.app.inject({ method: 'GET', url, headers: { ...auth(key), ...headers } });

test('per order and route: reported, delivered, rejected, dead-lettered, filtered out, and the system of record', async () => {
  const res = await get(`/v1/reconciliation?day=${day}`);
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.next, null);
  assert.deepEqual(
    body.items.map((i: { plant: string; order: string }) => `${i.plant}/${i.order}`),
    ['P1/PO-R1', 'P2/PO-R2'],
  );
  const [one, two] = body.items;
  assert.equal(one.day, day);
  assert.deepEqual(one.reported.byType, {
    'production.operation.completed': 2,
    'production.order.completed': 1,
  });
  assert.equal(one.reported.events, 3);
  assert.deepEqual(
    one.reported.totals.filter((t: { type: string }) => t.type === 'production.order.completed'),
    [
      { type: 'production.order.completed', field: 'quantityGood', uom: 'EA', value: 492 },
      { type: 'production.order.completed', field: 'quantityScrap', uom: 'EA', value: 8 },
    ],
  );
  const system = (item: { systems: Array<Record<string, unknown>> }, route: string) =>
    item.systems.find((s) => s.route === route);
  assert.deepEqual(system(one, 'erp-postings'), {
    route: 'erp-postings',
    sink: 'erp',
    expected: 3,
    delivered: 3,
    pending: 0,
    dlq: 0,
    rejected: 0,
    missing: 0,
    filteredOut: 0,
    systemOfRecord: { count: 3, missingInSystem: [r1[2]?.id], unknownToHub: ['ERP-ONLY-1'] },
  });
  assert.deepEqual(
    { ...system(one, 'qms-trace') },
    {
      route: 'qms-trace',
      sink: 'qms',
      expected: 2,
      delivered: 0,
      pending: 0,
      dlq: 0,
      rejected: 2,
      missing: 0,
      filteredOut: 0,
    },
  );
  assert.equal(system(one, 'analytics-feed')?.dlq, 1);
  assert.equal(system(one, 'analytics-feed')?.filteredOut, 2);
  const kinds = one.differences.map(
    (d: { route: string; kind: string; count: number }) => `${d.route}:${d.kind}:${d.count}`,
  );
  assert.deepEqual(kinds.sort(), ['analytics-feed:dlq:1', 'erp-postings:missing:1', 'qms-trace:rejected:2']);
  assert.deepEqual(one.differences.find((d: { kind: string }) => d.kind === 'missing').eventIds, [r1[2]?.id]);
  // PO-R2 (P2): delivered to the ERP, which counts it; filtered out by the other routes.
  assert.deepEqual(two.differences, []);
  assert.deepEqual(system(two, 'erp-postings')?.systemOfRecord, {
    count: 1,
    missingInSystem: [],
    unknownToHub: [],
  });
  assert.equal(system(two, 'qms-trace')?.filteredOut, 1);
});

test('filters: difference kind, route, order; paging with next', async () => {
  const orders = async (query: string) =>
    (await get(`/v1/reconciliation?day=${day}&${query}`)).json().items.map((i: { order: string }) => i.order);
  assert.deepEqual(await orders('difference=none'), ['PO-R2']);
  assert.deepEqual(await orders('difference=rejected'), ['PO-R1']);
  assert.deepEqual(await orders('difference=any'), ['PO-R1']);
  assert.deepEqual(await orders('difference=retrying'), []);
  assert.deepEqual(await orders('order=PO-R2'), ['PO-R2']);
  const routed = (await get(`/v1/reconciliation?day=${day}&route=qms-trace&order=PO-R1`)).json().items[0];
  assert.deepEqual(
    routed.systems.map((s: { route: string }) => s.route),
    ['qms-trace'],
  );
  assert.deepEqual(
    routed.differences.map((d: { kind: string }) => d.kind),
    ['rejected'],
  );
  const first = (await get(`/v1/reconciliation?day=${day}&limit=1`)).json();
  assert.deepEqual(
    first.items.map((i: { order: string }) => i.order),
    ['PO-R1'],
  );
  assert.equal(typeof first.next, 'string');
  const second = (await get(`/v1/reconciliation?day=${day}&limit=1&after=${first.next}`)).json();
  assert.deepEqual(
    second.items.map((i: { order: string }) => i.order),
    ['PO-R2'],
  );
  assert.equal(second.next, null);
});

test('a system of record that fails is reported as an error, not as a difference', async () => {
  booked.set('PO-R2', 'fail');
  try {
    const item = (await get(`/v1/reconciliation?day=${day}&order=PO-R2`)).json().items[0];
    const erpSystem = item.systems.find((s: { route: string }) => s.route === 'erp-postings');
    assert.deepEqual(erpSystem.systemOfRecord, { error: 'erp-query answered 500' });
    assert.deepEqual(item.differences, []);
  } finally {
    booked.set('PO-R2', { count: 1 });
  }
});

test('format=csv (or Accept: text/csv) answers a download with a header row and one row per order and route', async () => {
  for (const [url, headers] of [
    [`/v1/reconciliation?day=${day}&format=csv`, {}],
    [`/v1/reconciliation?day=${day}`, { accept: 'text/csv' }],
  ] as const) {
    const res = await get(url, undefined, headers);
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^text\/csv/);
    assert.equal(res.headers['content-disposition'], `attachment; filename="reconciliation-${day}.csv"`);
    const rows = res.body.trimEnd().split('\r\n');
    assert.equal(
      rows[0],
      'day,plant,order,reported_events,route,sink,expected,delivered,pending,dlq,rejected,missing,filtered_out,differences,system_count,system_missing,system_unknown,system_error',
    );
    assert.equal(rows.length, 1 + 3 + 3);
    assert.ok(rows.includes(`${day},P1,PO-R1,3,qms-trace,qms,2,0,0,0,2,0,0,rejected:2,,,,`), rows.join('\n'));
    assert.ok(
      rows.includes(`${day},P1,PO-R1,3,erp-postings,erp,3,3,0,0,0,0,0,missing:1,3,${r1[2]?.id},ERP-ONLY-1,`),
      rows.join('\n'),
    );
  }
});

test('plant-bound clients see only their plants; bad queries name the field', async () => {
  const p2 = await createClient(hub, 'ops-p2', ['ops'], ['P2']);
  const own = await get(`/v1/reconciliation?day=${day}`, p2);
  assert.deepEqual(
    own.json().items.map((i: { order: string }) => i.order),
    ['PO-R2'],
  );
  assert.equal((await get(`/v1/reconciliation?day=${day}&plant=P1`, p2)).statusCode, 403);
  const reader = await createClient(hub, 'reader-p', ['events:read:production']);
  assert.equal((await get(`/v1/reconciliation?day=${day}`, reader)).statusCode, 403);
  const cases: Array<[string, string]> = [
    ['', 'day'],
    ['day=2026-02-30', 'day'],
    ['from=2026-03-01&to=2026-03-09', 'from'],
    [`day=${day}&difference=some`, 'difference'],
    [`day=${day}&route=nowhere`, 'route'],
    [`day=${day}&limit=0`, 'limit'],
    [`day=${day}&after=%%%`, 'after'],
    [`day=${day}&format=xml`, 'format'],
  ];
  for (const [query, path] of cases) {
    const res = await get(`/v1/reconciliation?${query}`);
    assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
    assert.ok(
      res.json().errors.some((e: { path: string }) => e.path === path),
      `${query}: ${res.body}`,
    );
  }
});

test('the periodic job logs each order with differences and sets the gauges, then runs again every interval', async () => {
  const logs = new LogCapture();
  const clock = new ManualClock(Date.now());
  const service = new ReconciliationService({
    config: hub.config,
    log: hub.log,
    store: hub.store,
    delivery: hub.delivery,
  });
  const job = new ReconciliationJob(service, {
    everyMs: 900_000,
    clock,
    logger: createLogger('info', logs),
    metrics: hub.metrics,
  });
  await job.start();
  try {
    const until = async (done: () => boolean) => {
      for (const deadline = Date.now() + 10_000; !done() && Date.now() < deadline; )
        await new Promise((resolve) => setImmediate(resolve));
      assert.ok(done());
    };
    await until(() => job.checks >= 1);
    const warnings = logs.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40);
    assert.deepEqual(
      warnings.map((w) => w.order),
      ['PO-R1'],
    );
    const metrics = await hub.metrics.registry.metrics();
    assert.match(metrics, /conveyor_reconciliation_differences\{kind="rejected"\} 2/);
    assert.match(metrics, /conveyor_reconciliation_differences\{kind="dlq"\} 1/);
    assert.match(metrics, /conveyor_reconciliation_differences\{kind="missing"\} 1/);
    assert.match(metrics, /conveyor_reconciliation_differences\{kind="retrying"\} 0/);
    assert.match(metrics, /conveyor_reconciliation_checked_timestamp_seconds \d+/);
    await until(() => clock.pending === 1);
    await clock.advance(900_000);
    await until(() => job.checks >= 2);
  } finally {
    await job.stop();
    await service.close();
  }
});

test('the config refuses a system of record naming an unknown route or a connector without baseUrl', async () => {
  const { loadConfigFromObject } = await import('../config/index.js');
  assert.throws(
    () =>
      loadConfigFromObject({
        connectors: { erp: { kind: 'http', url: 'http://127.0.0.1:9/x' } },
        routes: [{ name: 'to-erp', types: ['production.*'], sink: 'erp' }],
        reconciliation: {
          every: '5m',
          systems: [
            { route: 'nope', connector: 'erp', path: '/orders/{orderId}' },
            { route: 'to-erp', connector: 'missing', path: '/orders' },
          ],
        },
      }),
    (error: Error & { problems?: Array<{ path: string }> }) => {
      const paths = (error.problems ?? []).map((p) => p.path);
      assert.deepEqual(paths.sort(), [
        'connectors.erp.baseUrl',
        'reconciliation.systems[0].route',
        'reconciliation.systems[1].connector',
        'reconciliation.systems[1].path',
      ]);
      return true;
    },
  );
});
