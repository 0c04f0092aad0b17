/**
 * OWASP API4:2023 Unrestricted Resource Consumption. Bodies, JSON shape, batches and pages are
 * bounded; a client over its own rate limit gets 429 with Retry-After while others are served; a
 * lane over its ingress rate turns a flood into 429s. The hub keeps serving after each.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Hub } from '../../src/hub.js';
import { makeEvent } from '../helpers/events.js';
import { createTestHub } from '../helpers/hub.js';
import { assertNoInternals, assertProblem, call, createClient, type Response } from './helpers.js';

let hub: Hub;

before(async () => {
  hub = await createTestHub({
    server: { port: 0, bodyLimit: '512kb' },
    lanes: { bulk: { ingressPerSecond: 2 } },
  });
});

after(() => hub.close());

/** The hub still answers its probe and takes a normal event. */
async function assertStillServing(): Promise<void> {
  assert.equal((await call(hub, 'GET', '/healthz', { key: null })).statusCode, 200);
  const ok = await call(hub, 'POST', '/v1/events', {
    body: makeEvent(),
    contentType: 'application/cloudevents+json',
  });
  assert.equal(ok.statusCode, 202, ok.body);
}

const consumption = {
  orderId: 'PO-1',
  plant: 'P1',
  material: 'RM-1',
  quantity: { value: 1, uom: 'KG' },
};

test('API4 a body over server.bodyLimit is 413 payload-too-large problem+json, wherever it is sent', async () => {
  const head = hub.log.head();
  const padding = 'x'.repeat(600 * 1024);
  const cases: Array<[string, string, string]> = [
    ['/v1/events', JSON.stringify(makeEvent({ note: padding })), 'application/cloudevents+json'],
    ['/v1/events', JSON.stringify([makeEvent({ note: padding })]), 'application/cloudevents-batch+json'],
    ['/v1/material-consumptions', JSON.stringify({ ...consumption, note: padding }), 'application/json'],
    ['/v1/clients', JSON.stringify({ name: padding, scopes: ['ops'] }), 'application/json'],
    ['/v1/suppliers/SUP-1/asns', `ISA*${padding}`, 'application/edi-x12'],
  ];
  for (const [url, body, contentType] of cases) {
    const res = await call(hub, 'POST', url, { body, contentType });
    assertProblem(res, 413, 'payload-too-large', `${url} ${contentType}`);
    assert.match(res.json().detail, /server\.bodyLimit/);
  }
  assert.equal(hub.log.head(), head);
  await assertStillServing();
});

const DEEP = 100_000;
const deepArray = () => '['.repeat(DEEP) + ']'.repeat(DEEP);

test('API4 JSON nested 100,000 deep is 400 json-too-complex on JSON endpoints, and the hub keeps serving', async () => {
  for (const url of ['/v1/material-consumptions', '/v1/clients', '/v1/quality/holds', '/v1/dlq/replay']) {
    const bare = await call(hub, 'POST', url, { body: deepArray() });
    assertProblem(bare, 400, 'json-too-complex', `${url}: a bare deep array`);
    const inside = await call(hub, 'POST', url, {
      body: JSON.stringify({ ...consumption, extra: '@' }).replace('"@"', deepArray()),
    });
    assertProblem(inside, 400, 'json-too-complex', `${url}: a deep value in an object`);
    assertNoInternals(inside.body, url);
  }
  await assertStillServing();
});

test('API4 JSON nested 100,000 deep in a CloudEvent is 400 json-too-complex, and the hub keeps serving', async () => {
  const head = hub.log.head();
  const event = makeEvent();
  const deepData = JSON.stringify({ ...event, data: { ...(event.data as object), extra: '@' } }).replace(
    '"@"',
    deepArray(),
  );
  const cases: Array<[string, string, Record<string, string>]> = [
    ['structured, deep inside data', deepData, { 'content-type': 'application/cloudevents+json' }],
    ['batch, deep inside data', `[${deepData}]`, { 'content-type': 'application/cloudevents-batch+json' }],
    ['batch, a bare deep array', deepArray(), { 'content-type': 'application/cloudevents-batch+json' }],
    [
      'binary, deep data',
      JSON.stringify({ ...(event.data as object), extra: '@' }).replace('"@"', deepArray()),
      {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': 'deep-binary',
        'ce-source': '/plants/P1/mes',
        'ce-type': event.type,
        'ce-time': String(event.time),
        'ce-plant': 'P1',
      },
    ],
  ];
  const answers: string[] = [];
  for (const [what, body, headers] of cases) {
    const res = await call(hub, 'POST', '/v1/events', { body, headers });
    assertNoInternals(res.body, what);
    answers.push(`${what}: ${res.statusCode} ${res.json().code}`);
  }
  assert.equal(hub.log.head(), head, 'nothing was appended');
  await assertStillServing();
  assert.deepEqual(
    answers,
    cases.map(([what]) => `${what}: 400 json-too-complex`),
  );
});

test('API4 an object or array with more than 10,000 members is 400 json-too-complex', async () => {
  const wide = JSON.stringify({ ...consumption, lots: Array.from({ length: 10_001 }, (_, i) => `L-${i}`) });
  assertProblem(
    await call(hub, 'POST', '/v1/material-consumptions', { body: wide }),
    400,
    'json-too-complex',
  );
  const members = Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`k${i}`, i]));
  assertProblem(
    await call(hub, 'POST', '/v1/clients', { body: { name: 'wide', scopes: ['ops'], members } }),
    400,
    'json-too-complex',
  );
});

test('API4 a batch over 1,000 events is 413 batch-too-large; 1,000 are taken', async () => {
  const head = hub.log.head();
  const batch = (n: number) =>
    call(hub, 'POST', '/v1/events', {
      body: Array.from({ length: n }, () => makeEvent()),
      contentType: 'application/cloudevents-batch+json',
    });
  const over = await batch(1001);
  assertProblem(over, 413, 'batch-too-large');
  assert.match(over.json().detail, /1001 events; at most 1000/);
  assert.equal(hub.log.head(), head);
  const full = await batch(1000);
  assert.equal(full.statusCode, 202, full.body.slice(0, 300));
  assert.equal(hub.log.head(), head + 1000);
});

test('API4 list pages are bounded: limit over 1,000 is 400 on every list', async () => {
  for (const url of ['/v1/events', '/v1/dlq', '/v1/audit']) {
    assertProblem(await call(hub, 'GET', `${url}?limit=1001`), 400, 'bad-request', url);
    assertProblem(await call(hub, 'GET', `${url}?limit=1e9`), 400, 'bad-request', url);
    assertProblem(await call(hub, 'GET', `${url}?after=-1`), 400, 'bad-request', url);
    assert.equal((await call(hub, 'GET', `${url}?limit=1000`)).statusCode, 200, url);
  }
});

test('API4 per-client rate limit: the flooder gets 429 with Retry-After after its burst; the other client is always served', async () => {
  const flooder = await createClient(hub, 'flooder', ['events:read:production'], undefined, {
    perSecond: 5,
    burst: 5,
  });
  const neighbour = await createClient(hub, 'neighbour', ['events:read:production']);
  const flood: Response[] = [];
  const served: Response[] = [];
  for (let i = 0; i < 40; i++) {
    flood.push(await call(hub, 'GET', '/v1/events?limit=1', { key: flooder }));
    served.push(await call(hub, 'GET', '/v1/events?limit=1', { key: neighbour }));
  }
  assert.deepEqual(
    flood.slice(0, 5).map((r) => r.statusCode),
    [200, 200, 200, 200, 200],
    'the burst is honoured',
  );
  const limited = flood.filter((r) => r.statusCode === 429);
  assert.ok(limited.length > 0, 'the flooder is limited');
  assert.deepEqual([...new Set(flood.map((r) => r.statusCode))].sort(), [200, 429]);
  for (const res of limited) {
    assertProblem(res, 429, 'rate-limited');
    assert.match(String(res.headers['retry-after']), /^[1-9][0-9]*$/);
    assert.equal(res.json().client, 'flooder');
  }
  assert.deepEqual(
    served.map((r) => r.statusCode),
    served.map(() => 200),
    'the other client is never limited',
  );
});

test('API4 lane ingress limit: a telemetry flood over lanes.bulk.ingressPerSecond is 429; critical events still flow', async () => {
  const head = hub.log.head();
  const telemetry = () => makeEvent({ type: 'telemetry.machine.state', subject: 'PRESS-07' });
  const flood = await call(hub, 'POST', '/v1/events', {
    body: [telemetry(), telemetry(), telemetry()],
    contentType: 'application/cloudevents-batch+json',
  });
  assertProblem(flood, 429, 'rate-limited');
  assert.match(String(flood.headers['retry-after']), /^[1-9][0-9]*$/);
  assert.equal(flood.json().lane, 'bulk');
  assert.match(flood.json().detail, /lanes\.bulk/);
  assert.equal(hub.log.head(), head, 'nothing of the flood was appended');
  const critical = await call(hub, 'POST', '/v1/events', {
    body: makeEvent(),
    contentType: 'application/cloudevents+json',
  });
  assert.equal(critical.statusCode, 202, critical.body);
});
