import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { auth, createTestHub } from '../../test/helpers/hub.js';
import type { Hub } from '../hub.js';

let hub: Hub;
before(async () => {
  hub = await createTestHub();
});
after(() => hub.close());

/** A URL for a route pattern, each `:param` filled with an id. */
function urlOf(pattern: string): string {
  return pattern.replace(/:[A-Za-z]+/g, 'X-1').replace(/\*$/, 'x');
}

const LISTED = [
  '/v1/events?type=a&type=b',
  '/v1/events?limit=1&limit=2',
  '/v1/milestones?status=late&status=open',
  '/v1/audit?actor=a&actor=b',
  '/v1/analytics/oee?plant=P1&plant=P2',
  '/v1/analytics/postings?plant=P1&plant=P2',
  '/v1/quality/holds?plant=P1&plant=P2',
  '/v1/dlq?route=a&route=b',
  '/v1/reconciliation?after=1&after=2',
];

test('a repeated query parameter is a 400 problem naming it, on the listed endpoints', async () => {
  for (const url of LISTED) {
    const res = await hub.app.inject({ method: 'GET', url, headers: auth() });
    assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', url);
    const name = url.slice(url.indexOf('?') + 1).split('=')[0];
    const problem = res.json();
    assert.equal(problem.type, 'urn:conveyor:problem:bad-request', url);
    assert.deepEqual(
      problem.errors.map((e: { path: string }) => e.path),
      [name],
      url,
    );
    assert.match(problem.errors[0].message, /given 2 times/, url);
  }
});

test('a repeated query parameter is a 400, never a 500, on every GET endpoint', async () => {
  const gets = hub.routes.filter((r) => r.method === 'GET' && r.url.startsWith('/v1/'));
  assert.ok(gets.length > 20, `only ${gets.length} GET routes`);
  for (const route of gets) {
    for (const name of ['limit', 'after', 'type', 'plant', 'from']) {
      const url = `${urlOf(route.url)}?${name}=1&${name}=2`;
      const res = await hub.app.inject({ method: 'GET', url, headers: auth() });
      assert.equal(res.statusCode, 400, `${route.url} ${name}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      assert.equal(res.json().errors[0].path, name, route.url);
    }
  }
});

test('a single value of each parameter is still served', async () => {
  const res = await hub.app.inject({ method: 'GET', url: '/v1/events?type=a&limit=2', headers: auth() });
  assert.equal(res.statusCode, 200, res.body);
});

const PATH_ID_ROUTES: ReadonlyArray<{ method: 'GET' | 'POST'; url: (id: string) => string; param: string }> =
  [
    { method: 'GET', url: (id) => `/v1/trace/${id}`, param: 'subject' },
    { method: 'POST', url: (id) => `/v1/production-orders/${id}/release`, param: 'orderId' },
    { method: 'POST', url: (id) => `/v1/quality/holds/${id}/disposition`, param: 'holdId' },
    { method: 'POST', url: (id) => `/v1/shipments/${id}/confirmation`, param: 'shipmentId' },
  ];

test('path ids of 128 characters are taken (as the API description says), 129 are a 400 naming the parameter', async () => {
  for (const route of PATH_ID_ROUTES) {
    const ok = await hub.app.inject({
      method: route.method,
      url: route.url('A'.repeat(128)),
      headers: { ...auth(), 'content-type': 'application/json' },
      payload: route.method === 'POST' ? '{}' : undefined,
    });
    // The id is taken; what follows (a 404 trace, a 422 body) is about the rest of the request.
    assert.ok(
      ok.statusCode !== 400 || !/too long|param length/.test(ok.body),
      `${route.param} 128: ${ok.statusCode} ${ok.body}`,
    );
    assert.doesNotMatch(ok.body, /no route/, `${route.param} 128`);
    for (const id of ['A'.repeat(129), 'é'.repeat(129), '😀'.repeat(129)]) {
      const res = await hub.app.inject({
        method: route.method,
        url: route.url(encodeURIComponent(id)),
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: route.method === 'POST' ? '{}' : undefined,
      });
      assert.equal(res.statusCode, 400, `${route.param} ${id.length}: ${res.body}`);
      assert.deepEqual(res.json().errors, [
        { path: route.param, message: 'must be at most 128 characters long' },
      ]);
    }
  }
});

test('a path segment far over the bound is refused by the router with the same kind of problem', async () => {
  const res = await hub.app.inject({ method: 'GET', url: `/v1/trace/${'A'.repeat(2_000)}`, headers: auth() });
  assert.equal(res.statusCode, 400, res.body);
  assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  assert.match(res.json().errors[0].message, /ids are at most 128 characters long/);
});

test('an id of 128 characters written by the API can be traced by it', async () => {
  const subject = `PO-${'7'.repeat(125)}`;
  const res = await hub.app.inject({ method: 'GET', url: `/v1/trace/${subject}`, headers: auth() });
  assert.equal(res.statusCode, 404, res.body);
  assert.match(res.json().detail, /no event|no such/i);
});
