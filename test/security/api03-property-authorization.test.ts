/**
 * OWASP API3:2023 Broken Object Property Level Authorization. A client cannot set the fields the
 * hub owns (an event's `sequence`, a release's routing and BOM, a reservation's id, a hold's
 * status, a client's key material), and no answer shows key material.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { keyPrefixOf } from '../../src/auth/api-keys.js';
import type { Hub } from '../../src/hub.js';
import { HUB_OWNED_ATTRIBUTES } from '../../src/model/envelope.js';
import { makeEvent } from '../helpers/events.js';
import { ADMIN_KEY, createTestHub } from '../helpers/hub.js';
import { assertProblem, call, createClient, ScriptedServer, sha256 } from './helpers.js';

let hub: Hub;
let wms: ScriptedServer;

before(async () => {
  wms = new ScriptedServer();
  wms.reply = () => ({ status: 201, body: { reservationId: 'R-1' } });
  await wms.listen();
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-sec-api3-'));
  writeFileSync(
    join(dir, 'routings.csv'),
    'plant,material,operation,workCenter,component,componentQuantity,uom\nP1,FG-1000,0010,P1-PRESS,RM-STEEL,2.5,KG\n',
  );
  hub = await createTestHub({
    referenceData: { routings: join(dir, 'routings.csv') },
    connectors: { wms: { kind: 'http', baseUrl: `${wms.url}/wms`, timeout: '5s' } },
    commands: { 'inventory-reservation': { connector: 'wms', path: '/reservations' } },
  });
});

after(async () => {
  await hub.close();
  await wms.close();
});

test('API3 a published CloudEvent cannot set the hub-owned `sequence`, in any content mode', async () => {
  assert.ok(HUB_OWNED_ATTRIBUTES.has('sequence'));
  const head = hub.log.head();
  for (const attribute of HUB_OWNED_ATTRIBUTES) {
    const structured = await call(hub, 'POST', '/v1/events', {
      body: makeEvent({ [attribute]: 1 }),
      contentType: 'application/cloudevents+json',
    });
    assertProblem(structured, 400, 'invalid-event', `structured ${attribute}`);
    assert.deepEqual(
      structured.json().errors.map((e: { path: string }) => e.path),
      [`/${attribute}`],
    );
    const batch = await call(hub, 'POST', '/v1/events', {
      body: [makeEvent(), makeEvent({ [attribute]: 999_999 })],
      contentType: 'application/cloudevents-batch+json',
    });
    assertProblem(batch, 400, 'invalid-event', `batch ${attribute}`);
    assert.equal(batch.json().errors[0].path, `/1/${attribute}`);
    const event = makeEvent();
    const binary = await call(hub, 'POST', '/v1/events', {
      body: event.data,
      headers: {
        'ce-specversion': '1.0',
        'ce-id': event.id,
        'ce-source': event.source,
        'ce-type': event.type,
        'ce-time': String(event.time),
        'ce-plant': 'P1',
        [`ce-${attribute}`]: '7',
      },
    });
    assertProblem(binary, 400, 'invalid-event', `binary ${attribute}`);
  }
  assert.equal(hub.log.head(), head, 'nothing was appended');
  // The hub sets it: the stored event's sequence is its log position.
  const ok = await call(hub, 'POST', '/v1/events', {
    body: makeEvent(),
    contentType: 'application/cloudevents+json',
  });
  assert.equal(ok.statusCode, 202);
  assert.equal(ok.json().events[0].sequence, head + 1);
});

test('API3 commands refuse hub-owned fields: routing and bom on release, reservationId, a hold’s status', async () => {
  const head = hub.log.head();
  const asked = wms.requests.length;
  const release = {
    plant: 'P1',
    material: 'FG-1000',
    quantity: { value: 10, uom: 'EA' },
    dueDate: '2026-12-01T00:00:00Z',
  };
  const cases: Array<[string, string, Record<string, unknown>, string[]]> = [
    [
      '/v1/production-orders/PO-1/release',
      'release with routing and bom',
      { ...release, routing: [{ operation: '0010', workCenter: 'ANY' }], bom: [] },
      ['/routing', '/bom'],
    ],
    ['/v1/production-orders/PO-1/release', 'release with bom', { ...release, bom: [] }, ['/bom']],
    [
      '/v1/inventory/reservations',
      'reservation with reservationId',
      { plant: 'P1', material: 'RM-STEEL', quantity: { value: 1, uom: 'KG' }, reservationId: 'R-MINE' },
      ['/reservationId'],
    ],
    [
      '/v1/quality/holds',
      'hold with status',
      { plant: 'P1', material: 'FG-1000', lots: ['L-1'], reason: 'x', status: 'released' },
      ['/status'],
    ],
  ];
  for (const [url, what, body, paths] of cases) {
    const res = await call(hub, 'POST', url, { body });
    assertProblem(res, 422, 'validation-failed', what);
    assert.deepEqual(
      res.json().errors.map((e: { path: string }) => e.path),
      paths,
      what,
    );
  }
  assert.equal(hub.log.head(), head, 'nothing was published');
  assert.equal(wms.requests.length, asked, 'the WMS never saw a forged reservation');
});

test('API3 a command body cannot choose its event’s source, id, type or plant binding', async () => {
  const res = await call(hub, 'POST', '/v1/production-orders/PO-SRC/release', {
    body: {
      plant: 'P1',
      material: 'FG-1000',
      quantity: { value: 10, uom: 'EA' },
      dueDate: '2026-12-01T00:00:00Z',
      source: '/plants/P2/erp',
      id: 'forged-id',
      type: 'quality.hold.released',
      specversion: '0.3',
    },
  });
  if (res.statusCode === 202) {
    const [stored] = await hub.log.read({ after: res.json().events[0].sequence - 1, limit: 1 });
    assert.equal(stored?.source, '/clients/admin');
    assert.equal(stored?.type, 'production.order.released');
    assert.notEqual(stored?.id, 'forged-id');
    assert.equal(stored?.specversion, '1.0');
  } else {
    assertProblem(res, 422, 'validation-failed', 'refused instead');
  }
  // Disposition: the plant is the hold's, and a body naming another plant is refused.
  const placed = await call(hub, 'POST', '/v1/quality/holds', {
    body: { plant: 'P1', material: 'FG-1000', lots: ['L-9'], reason: 'x' },
  });
  const holdId = placed.json().holdId as string;
  const moved = await call(hub, 'POST', `/v1/quality/holds/${holdId}/disposition`, {
    body: { disposition: 'use-as-is', plant: 'P2' },
  });
  assertProblem(moved, 422, 'validation-failed');
  assert.equal(moved.json().errors[0].path, '/plant');
});

test('API3 a client record cannot be mass-assigned key material, a revocation or a creation time', async () => {
  const chosen = `cvy_${'C'.repeat(43)}`;
  const res = await call(hub, 'POST', '/v1/clients', {
    body: {
      name: 'sneaky',
      scopes: ['events:read:production'],
      key: chosen,
      keyHash: sha256(chosen),
      keyPrefix: keyPrefixOf(chosen),
      revokedAt: 1,
      createdAt: 0,
    },
  });
  assert.ok(res.statusCode === 201 || res.statusCode === 422, res.body);
  assertProblem(await call(hub, 'GET', '/v1/events', { key: chosen }), 401, 'unauthorized', 'chosen key');
  if (res.statusCode === 201) {
    assert.notEqual(res.json().key, chosen);
    const record = await hub.store.clients.get('sneaky');
    assert.equal(record?.revokedAt, null);
    assert.notEqual(record?.createdAt, 0);
    assert.notEqual(record?.keyHash, sha256(chosen));
  }
});

test('API3 no answer shows key material: clients list, audit, dependencies, idempotent replays', async () => {
  const keys = [
    ADMIN_KEY,
    await createClient(hub, 'reader-3', ['events:read:production'], ['P1']),
    await createClient(hub, 'publisher-3', ['events:publish:production']),
  ];
  const onboarded = await call(hub, 'POST', '/v1/suppliers', {
    body: { supplierId: 'SUP-3', name: 'Acme', plants: ['P1'] },
    headers: { 'idempotency-key': 'onboard-sup-3' },
  });
  assert.equal(onboarded.statusCode, 201, onboarded.body);
  const supplierKey = onboarded.json().credential.key as string;
  keys.push(supplierKey);
  const created = await call(hub, 'POST', '/v1/clients', {
    body: { name: 'idem-3', scopes: ['ops'] },
    headers: { 'idempotency-key': 'create-idem-3' },
  });
  assert.equal(created.statusCode, 201);
  keys.push(created.json().key as string);

  const list = await call(hub, 'GET', '/v1/clients');
  assert.equal(list.statusCode, 200);
  const allowed = new Set(['name', 'scopes', 'plants', 'rateLimit', 'supplierId', 'createdAt', 'revokedAt']);
  for (const item of list.json().items as Array<Record<string, unknown>>) {
    const extra = Object.keys(item).filter((k) => !allowed.has(k));
    assert.deepEqual(extra, [], `client ${String(item.name)} shows ${extra}`);
  }
  const replayedSupplier = await call(hub, 'POST', '/v1/suppliers', {
    body: { supplierId: 'SUP-3', name: 'Acme', plants: ['P1'] },
    headers: { 'idempotency-key': 'onboard-sup-3' },
  });
  const replayedClient = await call(hub, 'POST', '/v1/clients', {
    body: { name: 'idem-3', scopes: ['ops'] },
    headers: { 'idempotency-key': 'create-idem-3' },
  });
  for (const replay of [replayedSupplier, replayedClient]) {
    assert.equal(replay.statusCode, 201, replay.body);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
  }
  assert.equal(replayedSupplier.json().credential.key, null);
  assert.equal(replayedClient.json().key, null);

  const answers = {
    'GET /v1/clients': list.body,
    'GET /v1/audit': (await call(hub, 'GET', '/v1/audit?limit=1000')).body,
    'GET /v1/catalog/dependencies': (await call(hub, 'GET', '/v1/catalog/dependencies')).body,
    'replayed POST /v1/suppliers': replayedSupplier.body,
    'replayed POST /v1/clients': replayedClient.body,
  };
  for (const [what, body] of Object.entries(answers)) {
    assert.doesNotMatch(body, /keyHash|keyPrefix/, what);
    for (const key of keys) {
      assert.ok(!body.includes(key), `${what} shows a key`);
      assert.ok(!body.includes(sha256(key)), `${what} shows a key hash`);
    }
  }
});
