import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeEvent } from '../../test/helpers/events.js';
import { auth, createTestHub } from '../../test/helpers/hub.js';
import { createClient } from '../../test/security/helpers.js';
import type { Hub } from '../hub.js';

let hub: Hub;
before(async () => {
  hub = await createTestHub();
  const hold = (holdId: string, plant: string) =>
    makeEvent({
      type: 'quality.hold.placed',
      subject: holdId,
      plant,
      data: {
        holdId,
        plant,
        material: 'FG-1000',
        lots: [`L-${holdId}`],
        reason: 'burr on bore',
        placedAt: '2026-03-01T08:00:00Z',
      },
    });
  // Published as events, as a QMS would: the list reads them without waiting for a poll.
  await hub.log.append([hold('QH-1', 'P1'), hold('QH-2', 'P2'), hold('QH-3', 'P1'), hold('QH-4', 'P1')]);
  await hub.log.append([
    makeEvent({
      type: 'quality.hold.released',
      subject: 'QH-3',
      plant: 'P1',
      data: { holdId: 'QH-3', plant: 'P1', releasedAt: '2026-03-01T09:00:00Z' },
    }),
  ]);
});
after(() => hub.close());

const list = (query: string, key?: string) =>
  hub.app.inject({ method: 'GET', url: `/v1/quality/holds${query}`, headers: auth(key) });
const ids = (res: { json(): { items: Array<{ holdId: string }> } }) => res.json().items.map((h) => h.holdId);

test('active holds by plant, paged by hold id, with the hold as the shipment check sees it', async () => {
  const all = await list('?status=active');
  assert.equal(all.statusCode, 200, all.body);
  assert.deepEqual(ids(all), ['QH-1', 'QH-2', 'QH-4'], 'the released hold is not active');
  assert.deepEqual(all.json().items[0], {
    holdId: 'QH-1',
    plant: 'P1',
    material: 'FG-1000',
    lots: ['L-QH-1'],
    reason: 'burr on bore',
    placedAt: '2026-03-01T08:00:00Z',
    status: 'active',
    disposition: null,
    updatedAt: all.json().items[0].updatedAt,
  });
  assert.deepEqual(ids(await list('?status=active&plant=P1')), ['QH-1', 'QH-4']);
  assert.deepEqual(ids(await list('?status=released')), ['QH-3']);
  const page = await list('?limit=2');
  assert.deepEqual(ids(page), ['QH-1', 'QH-2']);
  assert.equal(page.json().next, 'QH-2');
  const rest = await list(`?limit=2&after=${page.json().next}`);
  assert.deepEqual(ids(rest), ['QH-3', 'QH-4']);
  assert.deepEqual(ids(await list('?limit=2&after=QH-4')), []);
  assert.equal((await list('?limit=2&after=QH-4')).json().next, null);
});

test('bad filters are 400 naming the field', async () => {
  for (const [query, path] of [
    ['?status=open', 'status'],
    ['?plant=P%201', 'plant'],
    ['?limit=0', 'limit'],
  ] as const) {
    const res = await list(query);
    assert.equal(res.statusCode, 400, query);
    assert.equal(res.json().code, 'bad-request');
    assert.equal(res.json().errors[0].path, path, query);
  }
});

test('ops or commands:quality-hold may list; a plant-bound client lists only its plants’ holds', async () => {
  const qms = await createClient(hub, 'qms-p2', ['commands:quality-hold'], ['P2']);
  assert.deepEqual(ids(await list('', qms)), ['QH-2']);
  const foreign = await list('?plant=P1', qms);
  assert.equal(foreign.statusCode, 403);
  assert.equal(foreign.json().code, 'forbidden');
  const opsP1 = await createClient(hub, 'ops-p1', ['ops'], ['P1']);
  assert.deepEqual(ids(await list('?status=active', opsP1)), ['QH-1', 'QH-4']);
  const reader = await createClient(hub, 'reader', ['events:read:quality']);
  const refused = await list('', reader);
  assert.equal(refused.statusCode, 403);
  assert.match(refused.json().detail, /ops.*commands:quality-hold/);
});
