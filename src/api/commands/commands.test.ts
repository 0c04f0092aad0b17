import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ADMIN_KEY, auth, createTestHub } from '../../../test/helpers/hub.js';
import { ScriptedServer } from '../../../test/helpers/scripted-server.js';
import { D96A_DESADV_ASN, EXAMPLE1_ASN } from '../../edi/expected-asns.test-data.js';
import { fixture, X12_856_FIXTURES } from '../../edi/test-helpers.js';
import type { Hub } from '../../hub.js';
import type { StoredEvent } from '../../model/envelope.js';

const ROUTINGS = [
  'plant,material,operation,workCenter,component,componentQuantity,uom',
  'P1,FG-1000,0010,P1-PRESS,RM-STEEL,2.5,KG',
  'P1,FG-1000,0020,P1-ASSY,CP-BOLT,8,EA',
  'P2,FG-2000,0010,P2-MILL,,,',
].join('\n');

let hub: Hub;
let wms: ScriptedServer;
let reservations = 0;

const json = (key = ADMIN_KEY, extra: Record<string, string> = {}) => ({
  ...auth(key),
  'content-type': 'application/json',
  ...extra,
});

async function post(url: string, body: unknown, key = ADMIN_KEY, extra: Record<string, string> = {}) {
  return hub.app.inject({ method: 'POST', url, headers: json(key, extra), payload: JSON.stringify(body) });
}

async function createClient(name: string, scopes: string[], plants?: string[]): Promise<string> {
  const res = await post('/v1/clients', { name, scopes, ...(plants ? { plants } : {}) });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().key as string;
}

async function eventsOf(type: string): Promise<StoredEvent[]> {
  return hub.log.read({ types: [type], limit: 1000 });
}

before(async () => {
  wms = new ScriptedServer();
  await wms.listen();
  wms.reply = (request) => {
    if (request.path === '/wms/reservations') {
      const body = request.json as { material: string };
      if (body.material === 'RM-NONE') return { status: 409, body: { error: 'insufficient-stock' } };
      if (body.material === 'RM-DOWN') return { status: 500, body: { error: 'database offline' } };
      return { status: 201, body: { reservationId: `R-${++reservations}`, bin: 'A-01' } };
    }
    if (request.path.startsWith('/wms/shipments/'))
      return { status: 201, body: { confirmedAt: '2026-03-01T10:00:00Z' } };
    return { status: 404, body: {} };
  };
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-routings-'));
  writeFileSync(join(dir, 'routings.csv'), ROUTINGS);
  hub = await createTestHub({
    referenceData: { routings: join(dir, 'routings.csv') },
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
  });
});

after(async () => {
  await hub.close();
  await wms.close();
});

const release = {
  plant: 'P1',
  material: 'FG-1000',
  quantity: { value: 100, uom: 'EA' },
  dueDate: '2026-12-01T00:00:00Z',
};

test('release enriches routing and BOM from the reference CSV and publishes production.order.released', async () => {
  const res = await post('/v1/production-orders/PO-100/release', release);
  assert.equal(res.statusCode, 202, res.body);
  const [summary] = res.json().events;
  assert.equal(summary.type, 'production.order.released');
  assert.equal(summary.subject, 'PO-100');
  const [stored] = (await eventsOf('production.order.released')).filter((e) => e.id === summary.id);
  assert.ok(stored, 'the event is in the log when 202 is answered');
  assert.equal(stored.sequence, summary.sequence);
  assert.equal(stored.plant, 'P1');
  assert.equal(stored.dataschema, 'urn:conveyor:schema:production.order.released:1');
  assert.deepEqual(stored.data, {
    ...release,
    orderId: 'PO-100',
    routing: [
      { operation: '0010', workCenter: 'P1-PRESS' },
      { operation: '0020', workCenter: 'P1-ASSY' },
    ],
    bom: [
      { material: 'RM-STEEL', quantity: { value: 2.5, uom: 'KG' } },
      { material: 'CP-BOLT', quantity: { value: 8, uom: 'EA' } },
    ],
  });
});

test('release refuses a plant/material without routing (422 unknown-routing), hub-owned fields and bad fields; nothing published', async () => {
  const before = hub.log.head();
  const unknown = await post('/v1/production-orders/PO-101/release', { ...release, material: 'FG-2000' });
  assert.equal(unknown.statusCode, 422);
  assert.equal(unknown.json().code, 'unknown-routing');
  assert.match(unknown.json().detail, /FG-2000.*P1.*FG-1000/);
  const forged = await post('/v1/production-orders/PO-102/release', { ...release, routing: [] });
  assert.equal(forged.statusCode, 422);
  assert.deepEqual(
    forged.json().errors.map((e: { path: string }) => e.path),
    ['/routing'],
  );
  const bad = await post('/v1/production-orders/PO-103/release', {
    ...release,
    quantity: { value: -1, uom: 'EA' },
  });
  assert.equal(bad.statusCode, 422);
  assert.ok(
    bad.json().errors.some((e: { path: string }) => e.path === '/quantity/value'),
    bad.body,
  );
  const mismatch = await post('/v1/production-orders/PO-104/release', { ...release, orderId: 'PO-999' });
  assert.equal(mismatch.statusCode, 422);
  assert.equal(mismatch.json().errors[0].path, '/orderId');
  assert.equal(hub.log.head(), before);
});

test('commands need their own scope and respect the plant binding', async () => {
  const key = await createClient('erp-p2', ['commands:production-order-release'], ['P2']);
  const wrongPlant = await post('/v1/production-orders/PO-200/release', release, key);
  assert.equal(wrongPlant.statusCode, 403);
  assert.equal(wrongPlant.json().errors[0].path, '/plant');
  const ownPlant = await post(
    '/v1/production-orders/PO-201/release',
    { ...release, plant: 'P2', material: 'FG-2000' },
    key,
  );
  assert.equal(ownPlant.statusCode, 202, ownPlant.body);
  const noScope = await post('/v1/material-consumptions', { orderId: 'PO-201', plant: 'P2' }, key);
  assert.equal(noScope.statusCode, 403);
  assert.match(noScope.json().detail, /commands:material-consumption/);
});

test('material consumption publishes production.material.consumed with consumedAt defaulted', async () => {
  const res = await post('/v1/material-consumptions', {
    orderId: 'PO-100',
    plant: 'P1',
    material: 'RM-STEEL',
    quantity: { value: 250, uom: 'KG' },
    lot: 'L-77',
  });
  assert.equal(res.statusCode, 202, res.body);
  const stored = (await eventsOf('production.material.consumed')).find(
    (e) => e.id === res.json().events[0].id,
  );
  assert.ok(stored);
  assert.equal((stored.data as { lot: string }).lot, 'L-77');
  assert.ok(Date.parse((stored.data as { consumedAt: string }).consumedAt) > 0);
  const wrongType = await hub.app.inject({
    method: 'POST',
    url: '/v1/material-consumptions',
    headers: { ...auth(), 'content-type': 'application/edi-x12' },
    payload: 'ISA*00',
  });
  assert.equal(wrongType.statusCode, 415);
});

test('reservation asks the WMS, answers 201 with its answer and publishes only on success', async () => {
  const asked = wms.requests.length;
  const res = await post('/v1/inventory/reservations', {
    plant: 'P1',
    material: 'RM-STEEL',
    quantity: { value: 5, uom: 'KG' },
    orderId: 'PO-100',
  });
  assert.equal(res.statusCode, 201, res.body);
  const { result, events } = res.json();
  assert.equal(result.bin, 'A-01');
  assert.equal(events[0].subject, result.reservationId);
  assert.deepEqual(wms.requests[asked]?.json, {
    plant: 'P1',
    material: 'RM-STEEL',
    quantity: { value: 5, uom: 'KG' },
    orderId: 'PO-100',
  });
  const stored = (await eventsOf('inventory.reservation.created')).find((e) => e.id === events[0].id);
  assert.ok(stored);
  assert.equal((stored.data as { reservationId: string }).reservationId, result.reservationId);

  const before = hub.log.head();
  const refused = await post('/v1/inventory/reservations', {
    plant: 'P1',
    material: 'RM-NONE',
    quantity: { value: 5, uom: 'KG' },
  });
  assert.equal(refused.statusCode, 422);
  assert.equal(refused.json().code, 'refused-by-system-of-record');
  assert.deepEqual(refused.json().upstream, { status: 409, body: { error: 'insufficient-stock' } });
  const invalid = await post('/v1/inventory/reservations', { plant: 'P1', material: 'RM-STEEL' });
  assert.equal(invalid.statusCode, 422);
  assert.equal(wms.requests.length, asked + 2, 'an invalid request never reaches the WMS');
  assert.equal(hub.log.head(), before);
});

test('when the WMS fails the command is 503 with Retry-After and nothing is published', async () => {
  const before = hub.log.head();
  const res = await post('/v1/inventory/reservations', {
    plant: 'P1',
    material: 'RM-DOWN',
    quantity: { value: 1, uom: 'KG' },
  });
  assert.equal(res.statusCode, 503);
  assert.equal(res.json().code, 'system-of-record-unavailable');
  assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  assert.ok(Number(res.headers['retry-after']) >= 1);
  assert.equal(hub.log.head(), before);
});

test('a retried command with the same Idempotency-Key answers the first result and publishes once', async () => {
  const body = { plant: 'P1', material: 'RM-STEEL', quantity: { value: 3, uom: 'KG' } };
  const asked = wms.requests.length;
  const first = await post('/v1/inventory/reservations', body, ADMIN_KEY, { 'idempotency-key': 'resv-42' });
  const second = await post('/v1/inventory/reservations', body, ADMIN_KEY, { 'idempotency-key': 'resv-42' });
  assert.equal(first.statusCode, 201);
  assert.equal(second.statusCode, 201);
  assert.equal(second.headers['idempotent-replayed'], 'true');
  assert.deepEqual(second.json(), first.json());
  assert.equal(wms.requests.length, asked + 1, 'the WMS was asked once');
  const reused = await post(
    '/v1/inventory/reservations',
    { ...body, quantity: { value: 4, uom: 'KG' } },
    ADMIN_KEY,
    {
      'idempotency-key': 'resv-42',
    },
  );
  assert.equal(reused.statusCode, 409);
  assert.equal(reused.json().code, 'idempotency-key-reused');
  const events = (await eventsOf('inventory.reservation.created')).filter(
    (e) => e.id === first.json().events[0].id,
  );
  assert.equal(events.length, 1);
});

test('a quality hold blocks shipping its lots (409 naming the hold) until a releasing disposition', async () => {
  const placed = await post('/v1/quality/holds', {
    plant: 'P1',
    material: 'FG-1000',
    lots: ['L-1', 'L-2'],
    reason: 'bore diameter out of tolerance',
  });
  assert.equal(placed.statusCode, 202, placed.body);
  const { holdId } = placed.json();
  const shipment = (lots: string[]) => ({
    plant: 'P1',
    lines: [{ material: 'FG-1000', quantity: { value: 10, uom: 'EA' }, lots }],
  });
  const asked = wms.requests.length;
  const blocked = await post('/v1/shipments/SH-1/confirmation', shipment(['L-9', 'L-2']));
  assert.equal(blocked.statusCode, 409);
  assert.equal(blocked.json().code, 'shipment-blocked-by-quality-hold');
  assert.deepEqual(blocked.json().holds, [
    { holdId, lots: ['L-2'], reason: 'bore diameter out of tolerance', status: 'active' },
  ]);
  assert.match(blocked.json().detail, new RegExp(holdId));
  assert.equal(wms.requests.length, asked, 'a blocked shipment is not sent to the WMS');
  const audited = await hub.store.audit.list({ action: 'shipment.blocked', target: 'SH-1' }, 0, 10);
  assert.equal(audited.length, 1, 'the refusal is on the audit trail');
  assert.equal(audited[0]?.outcome, 'refused');
  assert.deepEqual(audited[0]?.detail, { plant: 'P1', lots: ['L-2'], holds: [holdId] });

  const other = await post('/v1/shipments/SH-2/confirmation', shipment(['L-9']));
  assert.equal(other.statusCode, 201, other.body);
  assert.equal(wms.requests.at(-1)?.path, '/wms/shipments/SH-2/confirm');
  assert.equal(other.json().result.confirmedAt, '2026-03-01T10:00:00Z');

  const decided = await post(`/v1/quality/holds/${holdId}/disposition`, { disposition: 'use-as-is' });
  assert.equal(decided.statusCode, 202, decided.body);
  assert.deepEqual(
    decided.json().events.map((e: { type: string }) => e.type),
    ['quality.disposition.decided', 'quality.hold.released'],
  );
  const again = await post(`/v1/quality/holds/${holdId}/disposition`, { disposition: 'scrap' });
  assert.equal(again.statusCode, 409);
  const shipped = await post('/v1/shipments/SH-1/confirmation', shipment(['L-9', 'L-2']));
  assert.equal(shipped.statusCode, 201, shipped.body);
  assert.equal(
    (await eventsOf('logistics.shipment.confirmed')).filter((e) => e.subject === 'SH-1').length,
    1,
  );
});

test('a scrap disposition keeps the lots blocked; a hold published as an event blocks too', async () => {
  const placed = await post('/v1/quality/holds', {
    plant: 'P1',
    material: 'FG-1000',
    lots: ['L-30'],
    reason: 'crack',
  });
  const decided = await post(`/v1/quality/holds/${placed.json().holdId}/disposition`, {
    disposition: 'scrap',
  });
  assert.deepEqual(
    decided.json().events.map((e: { type: string }) => e.type),
    ['quality.disposition.decided'],
  );
  const ship = (lot: string) =>
    post('/v1/shipments/SH-30/confirmation', {
      plant: 'P1',
      lines: [{ material: 'FG-1000', quantity: { value: 1, uom: 'EA' }, lots: [lot] }],
    });
  const scrapped = await ship('L-30');
  assert.equal(scrapped.statusCode, 409);
  assert.equal(scrapped.json().holds[0].disposition, 'scrap');

  // A QMS publishing the hold itself (not through the command) is enforced the same way.
  const event = {
    specversion: '1.0',
    id: 'qms-hold-31',
    source: '/plants/P1/qms',
    type: 'quality.hold.placed',
    subject: 'QH-EXT-31',
    time: '2026-03-01T08:00:00Z',
    plant: 'P1',
    data: {
      holdId: 'QH-EXT-31',
      plant: 'P1',
      material: 'FG-1000',
      lots: ['L-31'],
      reason: 'supplier alert',
      placedAt: '2026-03-01T08:00:00Z',
    },
  };
  const published = await hub.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth(), 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify(event),
  });
  assert.equal(published.statusCode, 202, published.body);
  const external = await ship('L-31');
  assert.equal(external.statusCode, 409);
  assert.equal(external.json().holds[0].holdId, 'QH-EXT-31');
  // In another plant the same lot name is another lot.
  const elsewhere = await post('/v1/shipments/SH-32/confirmation', {
    plant: 'P2',
    lines: [{ material: 'FG-1000', quantity: { value: 1, uom: 'EA' }, lots: ['L-31'] }],
  });
  assert.equal(elsewhere.statusCode, 201, elsewhere.body);
});

test('a disposition for another plant’s hold is 404, as if it did not exist', async () => {
  const placed = await post('/v1/quality/holds', {
    plant: 'P1',
    material: 'FG-1000',
    lots: ['L-40'],
    reason: 'x',
  });
  const key = await createClient('qms-p2', ['commands:quality-disposition'], ['P2']);
  const res = await post(
    `/v1/quality/holds/${placed.json().holdId}/disposition`,
    { disposition: 'use-as-is' },
    key,
  );
  assert.equal(res.statusCode, 404);
});

test('suppliers: onboarding returns a credential limited to its own ASNs, in JSON, X12 856 and EDIFACT DESADV', async () => {
  const onboarded = await post('/v1/suppliers', {
    supplierId: 'SUP-1',
    name: 'Acme Castings',
    plants: ['P1'],
  });
  assert.equal(onboarded.statusCode, 201, onboarded.body);
  const { credential } = onboarded.json();
  assert.match(credential.key, /^cvy_/);
  assert.equal(
    (await post('/v1/suppliers', { supplierId: 'SUP-1', name: 'Again', plants: ['P1'] })).statusCode,
    409,
  );
  assert.equal(
    (await post('/v1/suppliers', { supplierId: 'SUP-2', name: 'Other', plants: ['P1', 'P2'] })).statusCode,
    201,
  );

  const asn = {
    asnId: 'ASN-1',
    plant: 'P1',
    shipDate: '2026-03-02',
    lines: [{ material: 'RM-STEEL', quantity: { value: 500, uom: 'KG' }, lots: ['H-1'] }],
  };
  const ok = await post('/v1/suppliers/SUP-1/asns', asn, credential.key);
  assert.equal(ok.statusCode, 202, ok.body);
  const stored = (await eventsOf('supplier.asn.received')).find((e) => e.id === ok.json().events[0].id);
  assert.deepEqual(stored?.data, { ...asn, supplierId: 'SUP-1' });

  const foreign = await post('/v1/suppliers/SUP-2/asns', asn, credential.key);
  assert.equal(foreign.statusCode, 403);
  const wrongPlant = await post('/v1/suppliers/SUP-1/asns', { ...asn, plant: 'P2' }, credential.key);
  assert.equal(wrongPlant.statusCode, 403);
  const noScope = await post(
    '/v1/suppliers',
    { supplierId: 'SUP-3', name: 'x', plants: ['P1'] },
    credential.key,
  );
  assert.equal(noScope.statusCode, 403);

  const edi = (body: Buffer | string, type: string, supplier = 'SUP-1') =>
    hub.app.inject({
      method: 'POST',
      url: `/v1/suppliers/${supplier}/asns`,
      headers: { ...auth(credential.key), 'content-type': type },
      payload: body,
    });
  // Example1, read by hand: BSN02 123456, DTM*011 2001-04-20, three items with SN1 quantities.
  const x12 = await edi(fixture(X12_856_FIXTURES[0] as string), 'application/edi-x12');
  assert.equal(x12.statusCode, 202, x12.body);
  const x12Event = (await eventsOf('supplier.asn.received')).find((e) => e.id === x12.json().events[0].id);
  assert.equal(x12Event?.plant, 'P1');
  assert.deepEqual(x12Event?.data, {
    ...EXAMPLE1_ASN,
    supplierId: 'SUP-1',
    partnerId: EXAMPLE1_ASN.supplierId,
    plant: 'P1',
  });
  assert.ok(
    x12.json().warnings.some((w: string) => /14:21 without a time zone/.test(w)),
    `the zone-less ship time is reported: ${x12.body}`,
  );

  // The D.96A sample, read by hand: BGM+351+Y02197250, DTM+11:20160726, two LIN with PIA+5 and QTY+12:1.
  const desadv = await edi(fixture('edifact-php-edifact/D96ADESADV.edi'), 'application/edifact');
  assert.equal(desadv.statusCode, 202, desadv.body);
  const desadvEvent = (await eventsOf('supplier.asn.received')).find(
    (e) => e.id === desadv.json().events[0].id,
  );
  assert.deepEqual(desadvEvent?.data, {
    ...D96A_DESADV_ASN,
    supplierId: 'SUP-1',
    partnerId: D96A_DESADV_ASN.supplierId,
    plant: 'P1',
  });

  // Every 856 sample is taken: one event per ship notice it holds.
  for (const file of X12_856_FIXTURES) {
    const res = await edi(fixture(file), 'application/edi-x12');
    assert.equal(res.statusCode, 202, `${file}: ${res.body}`);
    assert.ok(res.json().events.length >= 1);
  }
  // A supplier delivering to several plants names the plant when the document's ship-to is not a plant code.
  const adminEdi = (query: string) =>
    hub.app.inject({
      method: 'POST',
      url: `/v1/suppliers/SUP-2/asns${query}`,
      headers: { ...auth(), 'content-type': 'application/edi-x12' },
      payload: fixture(X12_856_FIXTURES[0] as string),
    });
  assert.equal((await adminEdi('')).statusCode, 403, 'ship-to 201495124 is not one of SUP-2’s plants');
  assert.equal((await adminEdi('?plant=P2')).statusCode, 202);
});

test('broken EDI is 422 invalid-edi naming where, and nothing is published', async () => {
  await post('/v1/suppliers', { supplierId: 'SUP-9', name: 'Broken Parts', plants: ['P1'] });
  const good = fixture(X12_856_FIXTURES[0] as string).toString('utf8');
  const send = (payload: string | Buffer, type = 'application/edi-x12') =>
    hub.app.inject({
      method: 'POST',
      url: '/v1/suppliers/SUP-9/asns',
      headers: { ...auth(), 'content-type': type },
      payload,
    });
  const before = hub.log.head();
  const cases: Array<[string, string | Buffer, string?]> = [
    ['truncated interchange', good.slice(0, Math.floor(good.length * 0.6))],
    // The ISA declares "|" as the element separator, but the segments use "~".
    ['wrong delimiters', good.replace('ISA~', 'ISA|')],
    ['control numbers that disagree', good.replace('IEA~1~000000001', 'IEA~1~000000002')],
    ['a segment count that is wrong', good.replace('SE~25~0001', 'SE~24~0001')],
    ['UTF-16 encoded file', Buffer.from(`\ufeff${good}`, 'utf16le')],
    ['not EDI at all', '{"asnId": "x"}'],
    ['empty body', ''],
    ['EDIFACT sent as X12', fixture('edifact-php-edifact/D96ADESADV.edi')],
    ['X12 sent as EDIFACT', good, 'application/edifact'],
  ];
  for (const [name, payload, type] of cases) {
    const res = await send(payload, type);
    assert.equal(res.statusCode, 422, `${name}: ${res.statusCode} ${res.body}`);
    const problem = res.json();
    assert.equal(problem.code, 'invalid-edi', name);
    assert.ok(problem.detail.length > 20, `${name}: a detail that explains: ${problem.detail}`);
    assert.doesNotMatch(problem.detail, /at \S+\.js|node_modules|\/work\//, `${name}: no internals`);
  }
  assert.equal(hub.log.head(), before);
  // A UTF-8 byte-order mark in front of an otherwise good interchange is what partner tools write: taken.
  const bom = await send(`\ufeff${good.replace(/^\ufeff/, '')}`);
  assert.equal(bom.statusCode, 202, bom.body);
});

test('a replayed onboarding or client creation never reveals the key again, and the key is not stored in the clear', async () => {
  const body = { supplierId: 'SUP-KEY', name: 'Key Holder', plants: ['P1'] };
  const first = await post('/v1/suppliers', body, ADMIN_KEY, { 'idempotency-key': 'onboard-1' });
  const again = await post('/v1/suppliers', body, ADMIN_KEY, { 'idempotency-key': 'onboard-1' });
  assert.equal(first.statusCode, 201);
  assert.equal(again.statusCode, 201);
  assert.equal(again.headers['idempotent-replayed'], 'true');
  assert.match(first.json().credential.key, /^cvy_/);
  assert.equal(again.json().credential.key, null);
  assert.deepEqual(again.json().events, first.json().events);
  const created = await post('/v1/clients', { name: 'keyed', scopes: ['ops'] }, ADMIN_KEY, {
    'idempotency-key': 'c-1',
  });
  const replayed = await post('/v1/clients', { name: 'keyed', scopes: ['ops'] }, ADMIN_KEY, {
    'idempotency-key': 'c-1',
  });
  assert.match(created.json().key, /^cvy_/);
  assert.equal(replayed.json().key, null);
  for (const key of [first.json().credential.key, created.json().key]) {
    const claim = await hub.store.idempotency.claim(
      {
        client: 'admin',
        key: key === created.json().key ? 'c-1' : 'onboard-1',
        fingerprint: '',
        createdAt: Date.now(),
        expiresAt: Date.now(),
      },
      0,
    );
    assert.equal(claim.claimed, false);
    if (!claim.claimed) assert.ok(!claim.existing.body?.includes(key), 'the stored answer holds no key');
  }
});
