/**
 * OWASP API5:2023 Broken Function Level Authorization. Every route the hub serves is in the
 * endpoint→scope table below (read off the handlers; `admin` holds every scope). A client with
 * only `events:read:production` is refused every admin, ops, catalog-write and command function;
 * a client holding exactly a route's scope gets past the check, so the table is the real mapping.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Hub } from '../../src/hub.js';
import { makeEvent } from '../helpers/events.js';
import { createTestHub } from '../helpers/hub.js';
import { assertProblem, type CallOptions, call, createClient, routeKey } from './helpers.js';

/** `public`: no credentials; `any`: any valid credential; otherwise the scope the handler requires. */
type Need = 'public' | 'any' | string;

/** GET entries cover HEAD too (fastify answers HEAD with the GET handler). */
const SCOPE_OF: Readonly<Record<string, Need>> = {
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /metrics': 'ops',
  'POST /v1/events': 'events:publish:<domain>',
  'GET /v1/events': 'events:read:<domain>',
  'GET /v1/trace/{subject}': 'events:read:<domain>',
  'POST /v1/production-orders/{orderId}/release': 'commands:production-order-release',
  'POST /v1/material-consumptions': 'commands:material-consumption',
  'POST /v1/quality/holds': 'commands:quality-hold',
  'POST /v1/quality/holds/{holdId}/disposition': 'commands:quality-disposition',
  'POST /v1/inventory/reservations': 'commands:inventory-reservation',
  'POST /v1/shipments/{shipmentId}/confirmation': 'commands:shipment-confirmation',
  'POST /v1/suppliers': 'commands:supplier-onboarding',
  'POST /v1/suppliers/{supplierId}/asns': 'commands:supplier-asn',
  'GET /v1/clients': 'admin',
  'POST /v1/clients': 'admin',
  'DELETE /v1/clients/{name}': 'admin',
  'GET /v1/audit': 'admin',
  'GET /v1/catalog/schemas': 'any',
  'GET /v1/catalog/schemas/{type}': 'any',
  'POST /v1/catalog/schemas/{type}/versions': 'catalog:write',
  'POST /v1/catalog/schemas/{type}/versions/{version}/approve': 'catalog:approve',
  'POST /v1/catalog/schemas/{type}/versions/{version}/deprecate': 'catalog:approve',
  'POST /v1/catalog/schemas/{type}/versions/{version}/retire': 'catalog:approve',
  'GET /v1/catalog/dependencies': 'any',
  'GET /v1/catalog/asyncapi.json': 'any',
  'GET /v1/openapi.json': 'any',
  'GET /v1/subscriptions': 'ops',
  'POST /v1/subscriptions/{name}/replay': 'ops',
  'GET /v1/dlq': 'ops',
  'GET /v1/dlq/{id}': 'ops',
  'POST /v1/dlq/{id}/replay': 'ops',
  'POST /v1/dlq/{id}/discard': 'ops',
  'POST /v1/dlq/replay': 'ops',
  'POST /v1/dlq/discard': 'ops',
  'GET /v1/cluster': 'ops',
  'GET /v1/reconciliation': 'ops',
  'GET /v1/analytics/oee': 'analytics:read',
  'GET /v1/analytics/throughput': 'analytics:read',
  'GET /v1/milestones': 'ops',
  'GET /v1/milestones/summary': 'ops',
  'GET /v1/overview': 'ops',
  // `ops` or `commands:quality-hold`; the refusal names both.
  'GET /v1/quality/holds': 'ops',
  'GET /v1/connectors': 'ops',
  'GET /v1/connectors/{name}/dead-letters': 'ops',
  // The API reference page and its assets (public by design; the documents under /v1 are not).
  'GET /docs': 'public',
  'GET /docs/': 'public',
  'GET /docs/static/index.html': 'public',
  'GET /docs/static/swagger-initializer.js': 'public',
  'GET /docs/static/{*}': 'public',
  'GET /docs/json': 'public',
  'GET /docs/yaml': 'public',
  // The web console's page and hashed bundles (no data; the console sends a key with each API call).
  'GET /': 'public',
  'GET /assets/{*}': 'public',
};

/** Values for path parameters: none names an existing object, so no call changes state. */
const PARAMS: Readonly<Record<string, string>> = {
  orderId: 'PO-API5',
  holdId: 'QH-NONE',
  shipmentId: 'SH-NONE',
  supplierId: 'SUP-NONE',
  name: 'no-such-name',
  id: 'dl-none',
  type: 'nothing.at.all',
  version: '1',
  subject: 'NO-SUBJECT',
};

const lookupKey = (method: string, url: string) =>
  routeKey(method === 'HEAD' ? 'GET' : method, url).replace('/*', '/{*}');

/** A request for the route: path filled in, and a body for state-changing methods. */
function requestFor(method: string, url: string): { url: string; options: CallOptions } {
  const path = url.replace(/:([A-Za-z]+)/g, (_m, name: string) => PARAMS[name] ?? 'x').replace('*', 'x.css');
  if (method === 'POST' && url === '/v1/events')
    return { url: path, options: { body: makeEvent(), contentType: 'application/cloudevents+json' } };
  if (method === 'POST') return { url: path, options: { body: {} } };
  return { url: path, options: {} };
}

let hub: Hub;
let reader: string;

before(async () => {
  hub = await createTestHub({
    connectors: { 'mes-p1': { kind: 'http', url: 'http://127.0.0.1:9/events' } },
    routes: [{ name: 'mes-orders', types: ['production.order.released'], sink: 'mes-p1' }],
  });
  reader = await createClient(hub, 'reader', ['events:read:production']);
});

after(() => hub.close());

test('API5 every route the hub serves is in the endpoint→scope table, and the table names no other', () => {
  const served = new Set(hub.routes.map((r) => lookupKey(r.method, r.url)));
  assert.deepEqual(
    [...served].filter((r) => !(r in SCOPE_OF)),
    [],
    'served routes missing from the table',
  );
  assert.deepEqual(
    Object.keys(SCOPE_OF).filter((r) => !served.has(r) && r !== 'GET /v1/trace/{subject}'),
    [],
    'table entries the hub does not serve',
  );
});

test('API5 a client with only events:read:production is refused (403) on every admin, ops, catalog-write and command route', async () => {
  const refused: string[] = [];
  const allowed: string[] = [];
  for (const route of hub.routes) {
    const need = SCOPE_OF[lookupKey(route.method, route.url)];
    assert.ok(need !== undefined, `${route.method} ${route.url} is not in the table`);
    const { url, options } = requestFor(route.method, route.url);
    const res = await call(hub, route.method, url, { ...options, key: reader });
    const what = `${route.method} ${route.url} (needs ${need})`;
    if (need === 'public' || need === 'any' || need === 'events:read:<domain>') {
      assert.ok(res.statusCode !== 401 && res.statusCode !== 403, `${what}: ${res.statusCode} ${res.body}`);
      allowed.push(what);
    } else if (route.method === 'HEAD') {
      assert.equal(res.statusCode, 403, what);
      refused.push(what);
    } else {
      assertProblem(res, 403, 'forbidden', what);
      if (need !== 'events:publish:<domain>') assert.match(res.json().detail, new RegExp(need), what);
      refused.push(what);
    }
  }
  assert.ok(refused.length >= 25, `refused: ${refused.length}`);
  assert.ok(allowed.some((a) => a.startsWith('GET /v1/events ')));
});

test('API5 a client holding exactly a route’s scope gets past the check (and admin passes everywhere)', async () => {
  const keys = new Map<string, string>();
  const keyFor = async (scope: string) => {
    let key = keys.get(scope);
    if (!key) {
      key = await createClient(hub, `only-${scope.replaceAll(':', '-').replace(/[<>]/g, '')}`, [scope]);
      keys.set(scope, key);
    }
    return key;
  };
  for (const route of hub.routes) {
    if (route.method === 'HEAD') continue;
    const need = SCOPE_OF[lookupKey(route.method, route.url)] as Need;
    if (need === 'public' || need === 'any') continue;
    const scope = need.replace('<domain>', 'production');
    const { url, options } = requestFor(route.method, route.url);
    for (const key of [await keyFor(scope), undefined]) {
      const res = await call(hub, route.method, url, { ...options, ...(key ? { key } : {}) });
      assert.ok(
        res.statusCode !== 401 && res.statusCode !== 403,
        `${route.method} ${route.url} as ${key ? scope : 'admin'}: ${res.statusCode} ${res.body}`,
      );
    }
  }
});

test('API5 a client with every scope but admin is refused (403) on the admin routes', async () => {
  const everything = await createClient(hub, 'all-but-admin', [
    'ops',
    'catalog:write',
    'catalog:approve',
    'events:publish:production',
    'events:read:production',
    'commands:production-order-release',
    'commands:supplier-onboarding',
  ]);
  const adminRoutes = hub.routes.filter(
    (r) => r.method !== 'HEAD' && SCOPE_OF[lookupKey(r.method, r.url)] === 'admin',
  );
  assert.equal(adminRoutes.length, 4);
  for (const route of adminRoutes) {
    const { url, options } = requestFor(route.method, route.url);
    assertProblem(
      await call(hub, route.method, url, { ...options, key: everything }),
      403,
      'forbidden',
      `${route.method} ${route.url}`,
    );
  }
  // Nor can it grant itself admin.
  const escalate = await call(hub, 'POST', '/v1/clients', {
    key: everything,
    body: { name: 'mine', scopes: ['admin'] },
  });
  assertProblem(escalate, 403, 'forbidden');
  assert.equal(await hub.store.clients.get('mine'), undefined);
});
