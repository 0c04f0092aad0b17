import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { auth, createTestHub } from '../../test/helpers/hub.js';
import { OPENAPI_OPERATIONS } from '../catalog/openapi.js';
import type { Hub } from '../hub.js';
import { CANONICAL_TYPES } from '../model/catalog.js';

let hub: Hub;
before(async () => {
  hub = await createTestHub({
    connectors: { 'mes-p1': { kind: 'http', url: 'http://127.0.0.1:9/events' } },
    routes: [{ name: 'mes-orders', types: ['production.order.released'], sink: 'mes-p1' }],
  });
});
after(() => hub.close());

test('every route the hub serves is in the OpenAPI document, and every documented operation is served', () => {
  const documented = new Set(OPENAPI_OPERATIONS.map((o) => `${o.method} ${o.path}`));
  const served = new Set(
    hub.routes
      // The reference page's and the console's static files are not API operations.
      .filter(
        (r) =>
          r.method !== 'HEAD' &&
          !r.url.startsWith('/docs/') &&
          r.url !== '/docs/' &&
          !r.url.startsWith('/assets/'),
      )
      .map((r) => `${r.method} ${r.url.replace(/:([A-Za-z]+)/g, '{$1}')}`),
  );
  assert.deepEqual(
    [...served].filter((r) => !documented.has(r)),
    [],
    'served but not documented',
  );
  assert.deepEqual(
    [...documented].filter((r) => !served.has(r)),
    [],
    'documented but not served',
  );
});

test('the OpenAPI and AsyncAPI documents are served to authenticated clients', async () => {
  assert.equal((await hub.app.inject({ method: 'GET', url: '/v1/openapi.json' })).statusCode, 401);
  const openapi = (await hub.app.inject({ method: 'GET', url: '/v1/openapi.json', headers: auth() })).json();
  assert.equal(openapi.openapi, '3.1.0');
  assert.ok(openapi.paths['/v1/events'].post);
  const asyncapi = (
    await hub.app.inject({ method: 'GET', url: '/v1/catalog/asyncapi.json', headers: auth() })
  ).json();
  assert.equal(asyncapi.asyncapi, '3.0.0');
  assert.equal(Object.keys(asyncapi.channels).length, CANONICAL_TYPES.size);
  const receive = Object.values(
    asyncapi.operations as Record<string, { action: string; 'x-route'?: string }>,
  ).filter((o) => o.action === 'receive');
  assert.deepEqual(
    receive.map((o) => o['x-route']),
    ['mes-orders'],
  );
});

test('the API reference page is public and renders the document without any network', async () => {
  const page = await hub.app.inject({ method: 'GET', url: '/docs/' });
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /text\/html/);
  assert.match(page.body, /swagger-ui/);
  const doc = await hub.app.inject({ method: 'GET', url: '/docs/json' });
  assert.equal(doc.statusCode, 200);
  assert.equal(doc.json().info.title.length > 0, true);
  assert.ok(doc.json().paths['/v1/dlq']);
  const asset = await hub.app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
  assert.equal(asset.statusCode, 200, 'the UI assets are served by the hub itself');
  assert.doesNotMatch(
    page.body,
    /https?:\/\/(?!127\.0\.0\.1|localhost)[a-z0-9.-]+\/[^"']*\.(js|css)/i,
    'no asset from the internet',
  );
});
