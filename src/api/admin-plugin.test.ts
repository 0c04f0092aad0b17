import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN_KEY, auth, createTestHub } from '../../test/helpers/hub.js';
import type { Hub } from '../hub.js';

let hub: Hub;
before(async () => {
  hub = await createTestHub();
});
after(() => hub.close());

const call = (method: string, url: string, body?: unknown, key = ADMIN_KEY) =>
  hub.app.inject({
    method: method as 'GET',
    url,
    headers: { ...auth(key), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    remoteAddress: '10.1.2.3',
  });

test('clients: created with a one-time key, listed without it, revoked at once', async () => {
  const created = await call('POST', '/v1/clients', {
    name: 'mes-p1',
    scopes: ['events:publish:production'],
    plants: ['P1'],
  });
  assert.equal(created.statusCode, 201);
  const { key } = created.json();
  assert.match(key, /^cvy_[A-Za-z0-9_-]{43}$/);
  const listed = (await call('GET', '/v1/clients'))
    .json()
    .items.find((c: { name: string }) => c.name === 'mes-p1');
  assert.deepEqual(listed.plants, ['P1']);
  assert.ok(!JSON.stringify(listed).includes(key));
  assert.equal(
    (await call('GET', '/v1/events', undefined, key)).statusCode,
    403,
    'the key works (no read scope)',
  );
  assert.equal((await call('DELETE', '/v1/clients/mes-p1')).statusCode, 200);
  assert.equal((await call('GET', '/v1/events', undefined, key)).statusCode, 401, 'revoked at once');
  assert.equal((await call('DELETE', '/v1/clients/admin')).statusCode, 409, 'an admin cannot revoke itself');
  const bad = await call('POST', '/v1/clients', {
    name: 'x y',
    scopes: ['root'],
    rateLimit: { perSecond: 0 },
  });
  assert.equal(bad.statusCode, 422);
  assert.deepEqual(
    bad.json().errors.map((e: { path: string }) => e.path),
    ['/name', '/scopes/0', '/rateLimit/perSecond'],
  );
});

test('the audit trail records state changes and denials with who, what, outcome and address, filtered and paged', async () => {
  const earlier = (await call('GET', '/v1/audit?limit=1000')).json().items;
  const start = String(earlier.at(-1)?.position ?? 0);
  const since = new Date(Date.now() - 60_000).toISOString();
  await call('POST', '/v1/clients', { name: 'auditor-target', scopes: ['ops'] });
  const { key } = (
    await call('POST', '/v1/clients', { name: 'reader', scopes: ['events:read:production'] })
  ).json();
  assert.equal((await call('GET', '/v1/dlq', undefined, key)).statusCode, 403);
  assert.equal(
    (await call('GET', '/v1/audit', undefined, key)).statusCode,
    403,
    'the audit trail is admin-only',
  );
  await call('DELETE', '/v1/clients/auditor-target');

  const trail = (await call('GET', `/v1/audit?after=${start}&since=${encodeURIComponent(since)}`)).json();
  const rows = trail.items.map((e: Record<string, unknown>) => [
    e.actor,
    e.action,
    e.target,
    e.outcome,
    e.ip,
  ]);
  assert.deepEqual(rows, [
    ['admin', 'client.create', 'auditor-target', 'done', '10.1.2.3'],
    ['admin', 'client.create', 'reader', 'done', '10.1.2.3'],
    ['reader', 'request.denied', 'GET /v1/dlq', 'denied', '10.1.2.3'],
    ['reader', 'request.denied', 'GET /v1/audit', 'denied', '10.1.2.3'],
    ['admin', 'client.revoke', 'auditor-target', 'done', '10.1.2.3'],
  ]);
  assert.ok(trail.items.every((e: { at: string }) => Date.parse(e.at) >= Date.parse(since)));

  const denied = (await call('GET', `/v1/audit?outcome=denied&actor=reader&after=${start}`)).json().items;
  assert.equal(denied.length, 2);
  const page1 = (await call('GET', `/v1/audit?action=client.create&limit=1&after=${start}`)).json();
  assert.equal(page1.items.length, 1);
  assert.equal(page1.items[0].target, 'auditor-target');
  assert.ok(page1.next);
  const page2 = (await call('GET', `/v1/audit?action=client.create&limit=1&after=${page1.next}`)).json();
  assert.equal(page2.items[0].target, 'reader');
  const future = (await call('GET', `/v1/audit?until=${encodeURIComponent(since)}&actor=reader`)).json();
  assert.deepEqual(future.items, []);
  const badTime = await call('GET', '/v1/audit?since=yesterday');
  assert.equal(badTime.statusCode, 400);
  assert.equal(badTime.json().errors[0].path, 'query/since');
});
