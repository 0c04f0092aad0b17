/**
 * OWASP API7:2023 Server Side Request Forgery. The hub calls only what its configuration names
 * (the system of record, the issuer's JWKS): no field, header, path parameter, schema reference,
 * token header or upstream redirect can make it call a URL a client chooses. A decoy server on
 * loopback, named in every such place, must receive nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import type { Hub } from '../../src/hub.js';
import { makeEvent } from '../helpers/events.js';
import { createTestHub } from '../helpers/hub.js';
import { call, type Reply, ScriptedServer } from './helpers.js';

let hub: Hub;
let wms: ScriptedServer;
let decoy: ScriptedServer;
let jwks: ScriptedServer;
let wmsAnswer: () => Reply;
let decoyUrl: string;

before(async () => {
  wms = new ScriptedServer();
  wms.reply = () => wmsAnswer();
  decoy = new ScriptedServer();
  decoy.reply = () => ({ status: 200, body: { keys: [] } });
  jwks = new ScriptedServer();
  const { publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'idp-1', use: 'sig', alg: 'ES256' };
  jwks.reply = () => ({ status: 200, body: { keys: [jwk] } });
  await Promise.all([wms.listen(), decoy.listen(), jwks.listen()]);
  decoyUrl = `${decoy.url}/steal`;
  wmsAnswer = () => ({ status: 201, body: { reservationId: 'R-1', confirmedAt: '2026-03-01T10:00:00Z' } });
  hub = await createTestHub({
    auth: { jwt: { issuer: 'https://idp.example.com/', audience: 'conveyor', jwksUrl: `${jwks.url}/jwks` } },
    connectors: {
      wms: {
        kind: 'http',
        baseUrl: `${wms.url}/wms`,
        timeout: '5s',
        circuitBreaker: { failureThreshold: 100, resetAfter: '30s' },
      },
    },
    commands: {
      'inventory-reservation': { connector: 'wms', path: '/reservations' },
      'shipment-confirmation': { connector: 'wms', path: '/shipments/{shipmentId}/confirm' },
    },
  });
});

after(async () => {
  await hub.close();
  await Promise.all([wms.close(), decoy.close(), jwks.close()]);
});

/** Every field name a client might hope the hub follows, pointing at the decoy. */
const lures = () => ({
  url: decoyUrl,
  baseUrl: decoy.url,
  callback: decoyUrl,
  callbackUrl: decoyUrl,
  webhook: decoyUrl,
  host: `127.0.0.1:${decoy.port}`,
  endpoint: decoyUrl,
  redirect: decoyUrl,
});
/** Headers a proxy-aware server might build URLs from. */
const lureHeaders = () => ({
  host: `127.0.0.1:${decoy.port}`,
  'x-forwarded-host': `127.0.0.1:${decoy.port}`,
  'x-forwarded-proto': 'http',
  'x-forwarded-port': String(decoy.port),
  forwarded: `host=127.0.0.1:${decoy.port};proto=http`,
  'x-original-url': decoyUrl,
  'x-rewrite-url': decoyUrl,
  referer: decoyUrl,
});

function assertOnlyTheWms(since: number): void {
  assert.equal(decoy.requests.length, 0, `the decoy was called: ${JSON.stringify(decoy.requests[0]?.path)}`);
  for (const request of wms.requests.slice(since)) {
    assert.ok(request.path.startsWith('/wms/'), `the WMS was called outside its base path: ${request.path}`);
    assert.ok(!request.path.includes('/../'), request.path);
  }
}

test('API7 command bodies and headers naming another URL or host do not move the hub’s calls', async () => {
  const since = wms.requests.length;
  const commands: Array<[string, Record<string, unknown>]> = [
    [
      '/v1/inventory/reservations',
      { plant: 'P1', material: 'RM-STEEL', quantity: { value: 1, uom: 'KG' }, ...lures() },
    ],
    ['/v1/inventory/reservations', { plant: 'P1', material: 'RM-STEEL', quantity: { value: 1, uom: 'KG' } }],
    [
      '/v1/shipments/SH-1/confirmation',
      {
        plant: 'P1',
        lines: [{ material: 'FG-1', quantity: { value: 1, uom: 'EA' }, lots: ['L-1'] }],
        ...lures(),
      },
    ],
    ['/v1/suppliers', { supplierId: 'SUP-SSRF', name: 'Lure Ltd', plants: ['P1'], ...lures() }],
    ['/v1/quality/holds', { plant: 'P1', material: 'FG-1', lots: ['L-1'], reason: 'x', ...lures() }],
    [
      '/v1/material-consumptions',
      { orderId: 'PO-1', plant: 'P1', material: 'RM-1', quantity: { value: 1, uom: 'KG' }, ...lures() },
    ],
  ];
  for (const [url, body] of commands) {
    const res = await call(hub, 'POST', url, { body, headers: lureHeaders() });
    assert.ok(res.statusCode < 500 || res.statusCode === 503, `${url}: ${res.statusCode} ${res.body}`);
  }
  assert.ok(wms.requests.length > since, 'the WMS itself was asked');
  assertOnlyTheWms(since);
});

test('API7 path parameters cannot redirect a system-of-record call: they are encoded under the configured path', async () => {
  const since = wms.requests.length;
  const shipmentIds = [
    `http:%2F%2F127.0.0.1:${decoy.port}%2Fsteal`,
    '..%2F..%2F..%2Fsteal',
    `%2F%2F127.0.0.1:${decoy.port}%2Fsteal`,
    `SH-1%3Fnext%3D${encodeURIComponent(decoyUrl)}`,
    `@127.0.0.1:${decoy.port}`,
  ];
  for (const id of shipmentIds) {
    const res = await call(hub, 'POST', `/v1/shipments/${id}/confirmation`, {
      body: {
        plant: 'P1',
        lines: [{ material: 'FG-1', quantity: { value: 1, uom: 'EA' }, lots: ['L-2'] }],
      },
    });
    assert.ok(res.statusCode < 500 || res.statusCode === 503, `${id}: ${res.statusCode} ${res.body}`);
  }
  assertOnlyTheWms(since);
  for (const request of wms.requests.slice(since))
    assert.match(request.path, /^\/wms\/shipments\/[^/]+\/confirm$/, request.path);
});

test('API7 an upstream redirect to another host is not followed', async () => {
  wmsAnswer = () => ({ status: 307, headers: { location: decoyUrl }, body: {} });
  try {
    const res = await call(hub, 'POST', '/v1/inventory/reservations', {
      body: { plant: 'P1', material: 'RM-STEEL', quantity: { value: 1, uom: 'KG' } },
    });
    assert.ok(res.statusCode === 422 || res.statusCode === 503, `${res.statusCode} ${res.body}`);
    assert.equal(decoy.requests.length, 0, 'the redirect was followed');
  } finally {
    wmsAnswer = () => ({ status: 201, body: { reservationId: 'R-1', confirmedAt: '2026-03-01T10:00:00Z' } });
  }
});

test('API7 events and schemas referring to remote URLs are never fetched', async () => {
  await call(hub, 'POST', '/v1/events', {
    body: makeEvent({ dataschema: `${decoy.url}/schema.json`, source: decoyUrl }),
    contentType: 'application/cloudevents+json',
  });
  await call(hub, 'POST', '/v1/events', {
    body: makeEvent({ source: decoyUrl, callback: decoyUrl }),
    contentType: 'application/cloudevents+json',
  });
  const remoteRef = {
    owner: 'integration-team',
    schema: {
      $schema: `${decoy.url}/meta-schema`,
      $id: `${decoy.url}/ssrf.json`,
      type: 'object',
      properties: { a: { $ref: `${decoy.url}/remote.json#/definitions/a` } },
    },
  };
  for (const type of ['custom.ssrf.probe', 'production.order.released']) {
    const res = await call(hub, 'POST', `/v1/catalog/schemas/${type}/versions`, { body: remoteRef });
    assert.ok(res.statusCode < 500, `${type}: ${res.statusCode} ${res.body}`);
  }
  assert.equal(decoy.requests.length, 0, 'a remote reference was fetched');
});

test('API7 a JWT header naming its own key URL (jku, x5u) is ignored: only the configured JWKS is asked', async () => {
  const { privateKey } = await generateKeyPair('ES256');
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({
    iss: 'https://idp.example.com/',
    aud: 'conveyor',
    exp: now + 600,
    client_id: 'intruder',
    scope: 'admin',
  })
    .setProtectedHeader({
      alg: 'ES256',
      kid: 'intruder-1',
      jku: `${decoy.url}/jwks`,
      x5u: `${decoy.url}/x5u`,
    })
    .sign(privateKey);
  const res = await call(hub, 'GET', '/v1/events', { key: token });
  assert.equal(res.statusCode, 401, res.body);
  assert.equal(decoy.requests.length, 0, 'the token’s jku or x5u was fetched');
  assert.ok(
    jwks.requests.every((r) => r.path === '/jwks'),
    'only the configured JWKS URL',
  );
});
