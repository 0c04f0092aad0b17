/**
 * OWASP API10:2023 Unsafe Consumption of APIs. The hub treats its system of record as untrusted:
 * an answer that is not JSON, lacks what the hub needs, is over 1 MiB, is an error, or comes too
 * late is a 503 (or 422) problem, nothing is published, and the hub keeps serving; a failing
 * system is shielded by its circuit breaker.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { ManualClock } from '../../src/delivery/clock.js';
import type { Hub } from '../../src/hub.js';
import { createTestHub } from '../helpers/hub.js';
import { assertNoInternals, assertProblem, call, gate, type Reply, ScriptedServer } from './helpers.js';

let hub: Hub;
let wms: ScriptedServer;
let clock: ManualClock;
let answer: () => Reply | Promise<Reply>;
const good = (): Reply => ({ status: 201, body: { reservationId: 'R-GOOD', bin: 'A-01' } });

function wmsConnector(failureThreshold: number) {
  return {
    connectors: {
      wms: {
        kind: 'http',
        baseUrl: `${wms.url}/wms`,
        timeout: '2s',
        circuitBreaker: { failureThreshold, resetAfter: '30s' },
      },
    },
    commands: {
      'inventory-reservation': { connector: 'wms', path: '/reservations' },
      'shipment-confirmation': { connector: 'wms', path: '/shipments/{shipmentId}/confirm' },
    },
  };
}

before(async () => {
  wms = new ScriptedServer();
  wms.reply = () => answer();
  await wms.listen();
  clock = new ManualClock();
  hub = await createTestHub(wmsConnector(1000), undefined, { clock });
});

beforeEach(() => {
  answer = good;
});

after(async () => {
  await hub.close();
  await wms.close();
});

const reservation = { plant: 'P1', material: 'RM-STEEL', quantity: { value: 5, uom: 'KG' } };
const reserve = (target: Hub = hub) =>
  call(target, 'POST', '/v1/inventory/reservations', { body: reservation });
const ship = (id: string) =>
  call(hub, 'POST', `/v1/shipments/${id}/confirmation`, {
    body: { plant: 'P1', lines: [{ material: 'FG-1', quantity: { value: 1, uom: 'EA' }, lots: ['L-1'] }] },
  });

/** Nothing was published, the answer is a clean problem, and the hub still serves a good request. */
async function assertContained(
  res: Awaited<ReturnType<typeof reserve>>,
  head: number,
  codes: string[],
  what: string,
): Promise<void> {
  assert.ok(codes.includes(res.json().code), `${what}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  assertProblem(res, res.statusCode, res.json().code, what);
  assertNoInternals(res.body, what);
  assert.equal(hub.log.head(), head, `${what}: nothing was published`);
  answer = good;
  assert.equal((await call(hub, 'GET', '/healthz', { key: null })).statusCode, 200);
  const after = await reserve();
  assert.equal(after.statusCode, 201, `${what}: the hub serves the next request: ${after.body}`);
}

test('API10 an answer that is not JSON, or lacks a usable reservationId, is 503 and publishes nothing', async () => {
  const garbage: Array<[string, Reply]> = [
    ['an HTML page', { status: 201, headers: { 'content-type': 'text/html' }, body: '<html>OK</html>' }],
    ['truncated JSON', { status: 201, body: '{"reservationId": "R-' }],
    ['binary bytes', { status: 201, body: Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]) }],
    ['an empty body', { status: 201, body: '' }],
    ['a JSON array', { status: 201, body: [1, 2, 3] }],
    ['a numeric id', { status: 201, body: { reservationId: 42 } }],
    ['an object id', { status: 201, body: { reservationId: { $gt: '' } } }],
    ['an empty id', { status: 201, body: { reservationId: '' } }],
    ['null', { status: 201, body: 'null' }],
  ];
  for (const [what, reply] of garbage) {
    answer = () => reply;
    const head = hub.log.head();
    const res = await reserve();
    assert.equal(res.statusCode, 503, `${what}: ${res.body}`);
    assert.match(String(res.headers['retry-after']), /^[1-9][0-9]*$/, what);
    await assertContained(res, head, ['system-of-record-unavailable'], what);
  }
});

test('API10 an id that breaks the canonical schema is refused, and nothing is published', async () => {
  answer = () => ({ status: 201, body: { reservationId: 'R'.repeat(10_000) } });
  const head = hub.log.head();
  const res = await reserve();
  assert.ok(res.statusCode === 422 || res.statusCode === 503, res.body.slice(0, 300));
  await assertContained(res, head, ['validation-failed', 'system-of-record-unavailable'], 'a 10 kB id');
});

test('API10 an answer over 1 MiB is 503: not read past the limit, not published', async () => {
  const huge = JSON.stringify({ reservationId: 'R-HUGE', padding: 'x'.repeat(1_100_000) });
  for (const status of [201, 422]) {
    answer = () => ({ status, body: huge });
    const head = hub.log.head();
    const res = await reserve();
    assert.ok(!res.body.includes('xxxxxxxxxx'), 'the oversized answer is not passed on');
    assert.ok(res.body.length < 10_000, `answer of ${res.body.length} bytes`);
    await assertContained(res, head, ['system-of-record-unavailable'], `a ${status} of 1.1 MB`);
  }
});

test('API10 an error answer (500, 502, 429, 408) is 503 with Retry-After; a 4xx refusal is 422; nothing is published', async () => {
  const errors: Array<[number, Record<string, string>]> = [
    [500, {}],
    [502, {}],
    [429, { 'retry-after': '120' }],
    [408, {}],
  ];
  for (const [status, headers] of errors) {
    answer = () => ({ status, headers, body: { error: 'stack trace at com.example.Wms(Wms.java:42)' } });
    const head = hub.log.head();
    const res = await reserve();
    assertProblem(res, 503, 'system-of-record-unavailable', String(status));
    assert.ok(!res.body.includes('Wms.java'), 'the upstream error body is not passed on');
    if (status === 429) assert.equal(res.headers['retry-after'], '120');
    await assertContained(res, head, ['system-of-record-unavailable'], String(status));
  }
  answer = () => ({ status: 409, body: { error: 'insufficient-stock' } });
  const head = hub.log.head();
  const refused = await reserve();
  assertProblem(refused, 422, 'refused-by-system-of-record');
  assert.deepEqual(refused.json().upstream, { status: 409, body: { error: 'insufficient-stock' } });
  await assertContained(refused, head, ['refused-by-system-of-record'], '409');
  const shipHead = hub.log.head();
  answer = () => ({ status: 500, body: {} });
  const shipped = await ship('SH-500');
  assertProblem(shipped, 503, 'system-of-record-unavailable', 'shipment');
  assert.equal(hub.log.head(), shipHead);
});

test('API10 an answer slower than the connector timeout is 503 and publishes nothing, even if it comes later', async () => {
  const held = gate<Reply>();
  answer = () => held.promise;
  const asked = wms.requests.length;
  const head = hub.log.head();
  const pending = reserve();
  await wms.received(asked + 1);
  await clock.advance(2_000);
  const res = await pending;
  assertProblem(res, 503, 'system-of-record-unavailable');
  assert.match(res.json().detail, /did not answer within 2000 ms/);
  // The late answer changes nothing.
  held.open({ status: 201, body: { reservationId: 'R-LATE' } });
  await assertContained(res, head, ['system-of-record-unavailable'], 'late');
  assert.equal(
    (await hub.log.read({ types: ['inventory.reservation.created'], subject: 'R-LATE' })).length,
    0,
  );
});

test('API10 an answer carrying __proto__ pollutes nothing', async () => {
  answer = () => ({
    status: 201,
    body: '{"reservationId":"R-PROTO","__proto__":{"polluted":true},"bin":"A"}',
  });
  const res = await reserve();
  assert.equal(res.statusCode, 201, res.body);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
});

test('API10 a failing system of record opens its circuit: the hub stops calling it and answers 503 at once', async () => {
  const breakerClock = new ManualClock();
  const guarded = await createTestHub(wmsConnector(2), undefined, { clock: breakerClock });
  try {
    answer = () => ({ status: 500, body: {} });
    const asked = wms.requests.length;
    for (let i = 0; i < 2; i++) assertProblem(await reserve(guarded), 503, 'system-of-record-unavailable');
    assert.equal(wms.requests.length, asked + 2);
    const open = await reserve(guarded);
    assertProblem(open, 503, 'system-of-record-unavailable');
    assert.match(open.json().detail, /circuit is open/);
    assert.equal(open.headers['retry-after'], '30');
    assert.equal(wms.requests.length, asked + 2, 'an open circuit sends nothing');
    // After resetAfter one probe goes through; its success closes the circuit.
    await breakerClock.advance(30_000);
    answer = good;
    assert.equal((await reserve(guarded)).statusCode, 201);
    assert.equal(wms.requests.length, asked + 3);
  } finally {
    await guarded.close();
  }
});
