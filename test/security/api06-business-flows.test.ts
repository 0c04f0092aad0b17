/**
 * OWASP API6:2023 Unrestricted Access to Sensitive Business Flows. A retried command must not
 * reserve stock or confirm a shipment twice: the Idempotency-Key makes a retry return the first
 * answer, refuses the key for another request, and lets only one of two concurrent requests run.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { type CryptoKey, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { ManualClock } from '../../src/delivery/clock.js';
import type { Hub } from '../../src/hub.js';
import { createTestHub } from '../helpers/hub.js';
import { assertProblem, call, createClient, gate, type Reply, ScriptedServer } from './helpers.js';

let hub: Hub;
let wms: ScriptedServer;
let jwks: ScriptedServer;
let signingKey: CryptoKey;
let reservations = 0;
/** What the WMS answers next; tests replace it. */
let answer: () => Reply | Promise<Reply>;

before(async () => {
  wms = new ScriptedServer();
  wms.reply = () => answer();
  const pair = await generateKeyPair('ES256', { extractable: true });
  signingKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'idp-1', use: 'sig', alg: 'ES256' };
  jwks = new ScriptedServer();
  jwks.reply = () => ({ status: 200, body: { keys: [jwk] } });
  await Promise.all([wms.listen(), jwks.listen()]);
  // The WMS timeout runs on this clock, which never moves here: a held answer is never cut short.
  hub = await createTestHub(
    {
      auth: {
        jwt: { issuer: 'https://idp.example.com/', audience: 'conveyor', jwksUrl: `${jwks.url}/jwks` },
      },
      connectors: {
        wms: {
          kind: 'http',
          baseUrl: `${wms.url}/wms`,
          timeout: '2s',
          circuitBreaker: { failureThreshold: 100, resetAfter: '30s' },
        },
      },
      commands: {
        'inventory-reservation': { connector: 'wms', path: '/reservations' },
        'shipment-confirmation': { connector: 'wms', path: '/shipments/{shipmentId}/confirm' },
      },
    },
    undefined,
    { clock: new ManualClock() },
  );
});

beforeEach(() => {
  answer = () => ({ status: 201, body: { reservationId: `R-${++reservations}`, bin: 'A-01' } });
});

after(async () => {
  await hub.close();
  await Promise.all([wms.close(), jwks.close()]);
});

const reservation = (material = 'RM-STEEL') => ({
  plant: 'P1',
  material,
  quantity: { value: 5, uom: 'KG' },
  orderId: 'PO-100',
});
const reserve = (key: string, body: unknown = reservation(), client?: string) =>
  call(hub, 'POST', '/v1/inventory/reservations', {
    body,
    headers: { 'idempotency-key': key },
    ...(client ? { key: client } : {}),
  });
const eventsOfType = async (type: string) => hub.log.read({ types: [type], limit: 1000 });

test('API6 same Idempotency-Key and body: the first answer again, Idempotent-Replayed: true, one event, one WMS call', async () => {
  const asked = wms.requests.length;
  const first = await reserve('reserve-1');
  assert.equal(first.statusCode, 201, first.body);
  assert.equal(first.headers['idempotent-replayed'], undefined);
  const again = await reserve('reserve-1');
  assert.equal(again.statusCode, 201);
  assert.equal(again.headers['idempotent-replayed'], 'true');
  assert.deepEqual(again.json(), first.json());
  assert.equal(wms.requests.length, asked + 1, 'the WMS reserved once');
  const reservationId = first.json().result.reservationId as string;
  const events = (await eventsOfType('inventory.reservation.created')).filter(
    (e) => e.subject === reservationId,
  );
  assert.equal(events.length, 1, 'one event in the log');

  // An async command: the retry publishes nothing more.
  const consumption = {
    orderId: 'PO-100',
    plant: 'P1',
    material: 'RM-STEEL',
    quantity: { value: 1, uom: 'KG' },
  };
  const consume = () =>
    call(hub, 'POST', '/v1/material-consumptions', {
      body: consumption,
      headers: { 'idempotency-key': 'consume-1' },
    });
  const head = hub.log.head();
  const c1 = await consume();
  const c2 = await consume();
  assert.equal(c1.statusCode, 202, c1.body);
  assert.equal(c2.statusCode, 202);
  assert.equal(c2.headers['idempotent-replayed'], 'true');
  assert.deepEqual(c2.json(), c1.json());
  assert.equal(hub.log.head(), head + 1);
});

test('API6 the same key with a different body or path is 409 idempotency-key-reused, and nothing runs', async () => {
  const first = await reserve('reserve-2');
  assert.equal(first.statusCode, 201, first.body);
  const asked = wms.requests.length;
  const head = hub.log.head();
  assertProblem(await reserve('reserve-2', reservation('RM-OTHER')), 409, 'idempotency-key-reused', 'body');
  const otherPath = await call(hub, 'POST', '/v1/shipments/SH-1/confirmation', {
    body: reservation(),
    headers: { 'idempotency-key': 'reserve-2' },
  });
  assertProblem(otherPath, 409, 'idempotency-key-reused', 'path');
  assert.equal(wms.requests.length, asked);
  assert.equal(hub.log.head(), head);
});

test('API6 two concurrent requests with one key: one runs (201), the other is 409 request-in-progress', async () => {
  const held = gate<Reply>();
  answer = () => held.promise;
  const asked = wms.requests.length;
  const first = reserve('reserve-3');
  await wms.received(asked + 1);
  // The first request is now inside the WMS call, holding the key.
  const second = await reserve('reserve-3');
  assertProblem(second, 409, 'request-in-progress');
  assert.match(String(second.headers['retry-after']), /^[1-9][0-9]*$/);
  assert.equal(wms.requests.length, asked + 1, 'the second request never reached the WMS');

  held.open({ status: 201, body: { reservationId: 'R-HELD', bin: 'B-02' } });
  const done = await first;
  assert.equal(done.statusCode, 201, done.body);
  assert.equal(done.json().result.reservationId, 'R-HELD');
  const retry = await reserve('reserve-3');
  assert.equal(retry.headers['idempotent-replayed'], 'true');
  assert.deepEqual(retry.json(), done.json());
  const events = (await eventsOfType('inventory.reservation.created')).filter((e) => e.subject === 'R-HELD');
  assert.equal(events.length, 1);
  assert.equal(wms.requests.length, asked + 1);
});

test('API6 keys are per client: another client reusing a key gets its own answer, never the first client’s', async () => {
  const other = await createClient(hub, 'erp-2', ['commands:inventory-reservation']);
  const mine = await reserve('shared-key');
  const theirs = await reserve('shared-key', reservation(), other);
  assert.equal(mine.statusCode, 201);
  assert.equal(theirs.statusCode, 201, theirs.body);
  assert.equal(theirs.headers['idempotent-replayed'], undefined);
  assert.notEqual(theirs.json().result.reservationId, mine.json().result.reservationId);
});

test('API6 a failed request frees its key: the retry runs again; a malformed key is 400', async () => {
  answer = () => ({ status: 500, body: { error: 'database locked' } });
  const failed = await reserve('reserve-4');
  assertProblem(failed, 503, 'system-of-record-unavailable');
  answer = () => ({ status: 201, body: { reservationId: 'R-AFTER', bin: 'A-09' } });
  const retried = await reserve('reserve-4');
  assert.equal(retried.statusCode, 201, retried.body);
  assert.equal(retried.headers['idempotent-replayed'], undefined);
  assert.equal(retried.json().result.reservationId, 'R-AFTER');

  for (const bad of ['x'.repeat(256), 'naïve-key']) {
    const res = await call(hub, 'POST', '/v1/inventory/reservations', {
      body: reservation(),
      headers: { 'idempotency-key': bad },
    });
    assertProblem(res, 400, 'bad-request', bad.slice(0, 10));
  }
});

test('API6 the Idempotency-Key passed on to the system of record is the client’s own: two clients never share one', async () => {
  const erp = await createClient(hub, 'erp', ['commands:inventory-reservation']);
  // A token client whose id holds a colon, as URN- and URL-style client ids do.
  const jwt = await new SignJWT({
    iss: 'https://idp.example.com/',
    aud: 'conveyor',
    exp: Math.floor(Date.now() / 1000) + 600,
    client_id: 'erp:eu',
    scope: 'commands:inventory-reservation',
  })
    .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
    .sign(signingKey);
  const since = wms.requests.length;
  const first = await reserve('eu:order-1', reservation(), erp);
  const second = await reserve('order-1', reservation(), jwt);
  assert.equal(first.statusCode, 201, first.body);
  assert.equal(second.statusCode, 201, second.body);
  const keys = wms.requests.slice(since).map((r) => r.headers['idempotency-key']);
  assert.equal(keys.length, 2);
  assert.ok(
    keys.every((k) => typeof k === 'string' && k.length > 0),
    `${keys}`,
  );
  assert.notEqual(keys[0], keys[1], `two clients reach the WMS under one idempotency key: ${keys[0]}`);
});
