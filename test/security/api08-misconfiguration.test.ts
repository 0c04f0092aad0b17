/**
 * OWASP API8:2023 Security Misconfiguration. The hub refuses to listen in the clear beyond
 * loopback unless told so knowingly; with `server.tls` it serves HTTPS with HSTS, and with
 * `server.tls.ca` only clients holding a certificate from that CA connect; every response carries
 * the security headers; error answers show no stack trace, file path or framework internals.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Agent, request } from 'undici';
import { ConfigError, loadConfigFromObject } from '../../src/config/index.js';
import type { Hub } from '../../src/hub.js';
import { makeEvent } from '../helpers/events.js';
import { createTestHub } from '../helpers/hub.js';
import {
  assertNoInternals,
  assertProblem,
  call,
  createClient,
  makeCertificates,
  type Response,
  routeKey,
} from './helpers.js';

const certs = mkdtempSync(join(tmpdir(), 'conveyor-sec-tls-'));
const pem = (name: string) => join(certs, name);
let hub: Hub;

before(async () => {
  makeCertificates(certs);
  hub = await createTestHub({
    server: { port: 0, bodyLimit: '64kb' },
    connectors: { 'mes-p1': { kind: 'http', url: 'http://127.0.0.1:9/events' } },
    routes: [{ name: 'mes-orders', types: ['production.order.released'], sink: 'mes-p1' }],
  });
});

after(async () => {
  await hub.close();
  rmSync(certs, { recursive: true, force: true });
});

const dataDir = () => mkdtempSync(join(tmpdir(), 'conveyor-sec-cfg-'));

test('API8 listening beyond loopback without TLS is refused, naming server.host and the fix', () => {
  assert.equal(loadConfigFromObject({}, { dataDir: dataDir() }).server.host, '127.0.0.1', 'the default');
  for (const host of ['0.0.0.0', '::', '10.20.30.40']) {
    assert.throws(
      () => loadConfigFromObject({ server: { host } }, { dataDir: dataDir() }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        const problem = error.problems.find((p) => p.path === 'server.host');
        assert.ok(problem, error.message);
        assert.match(problem.message, /without TLS/);
        assert.match(problem.message, /server\.tls/);
        assert.match(problem.message, /server\.insecure: true/);
        assert.match(error.message, /server\.host/);
        return true;
      },
      host,
    );
  }
  const insecure = loadConfigFromObject(
    { server: { host: '0.0.0.0', insecure: true } },
    { dataDir: dataDir() },
  );
  assert.equal(insecure.server.insecure, true);
  const tls = loadConfigFromObject(
    { server: { host: '0.0.0.0', tls: { cert: pem('server.pem'), key: pem('server.key') } } },
    { dataDir: dataDir() },
  );
  assert.equal(tls.server.tls?.cert, pem('server.pem'));
  // Keys fetched in the clear could be swapped in transit: a JWKS over http is loopback only.
  assert.throws(
    () =>
      loadConfigFromObject(
        { auth: { jwt: { issuer: 'i', audience: 'a', jwksUrl: 'http://idp.example.com/jwks' } } },
        { dataDir: dataDir() },
      ),
    (error: unknown) => error instanceof ConfigError && /auth\.jwt\.jwksUrl/.test(error.message),
  );
});

/** One GET over its own agent (no pooled connection carries over), closed after. */
async function httpsGet(url: string, connect: Record<string, unknown>, headers: Record<string, string> = {}) {
  const agent = new Agent({ connect });
  try {
    const res = await request(url, { dispatcher: agent, headers });
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  } finally {
    await agent.close();
  }
}

test('API8 a hub with server.tls serves HTTPS with Strict-Transport-Security; plain HTTP to it fails', async () => {
  const tlsHub = await createTestHub({
    server: { port: 0, tls: { cert: pem('server.pem'), key: pem('server.key') } },
  });
  try {
    const base = await tlsHub.listen();
    assert.match(base, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(pem('ca.pem'));
    const health = await httpsGet(`${base}/healthz`, { ca });
    assert.equal(health.status, 200);
    assert.equal(health.headers['strict-transport-security'], 'max-age=31536000');
    const events = await httpsGet(`${base}/v1/events`, { ca });
    assert.equal(events.status, 401);
    assert.equal(events.headers['strict-transport-security'], 'max-age=31536000', 'errors too');
    await assert.rejects(httpsGet(`${base}/healthz`, {}), 'a client that does not trust the CA');
    await assert.rejects(
      request(`${base.replace('https:', 'http:')}/healthz`, { headersTimeout: 5_000 }).then((r) =>
        r.body.text(),
      ),
      'plain HTTP to the TLS port',
    );
  } finally {
    await tlsHub.close();
  }
  const plain = await call(hub, 'GET', '/healthz', { key: null });
  assert.equal(plain.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
});

test('API8 with server.tls.ca a client without a certificate cannot connect; with one it still needs credentials', async () => {
  const mtlsHub = await createTestHub({
    server: { port: 0, tls: { cert: pem('server.pem'), key: pem('server.key'), ca: pem('ca.pem') } },
  });
  try {
    const base = await mtlsHub.listen();
    const ca = readFileSync(pem('ca.pem'));
    await assert.rejects(httpsGet(`${base}/healthz`, { ca }), 'no client certificate');
    const withCert = { ca, cert: readFileSync(pem('client.pem')), key: readFileSync(pem('client.key')) };
    assert.equal((await httpsGet(`${base}/healthz`, withCert)).status, 200);
    // The certificate opens the connection, not the API.
    assert.equal((await httpsGet(`${base}/v1/events`, withCert)).status, 401);
  } finally {
    await mtlsHub.close();
  }
});

function assertSecurityHeaders(res: Response, what: string, page = false): void {
  assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
  if (page) {
    // The web console's page and bundles: its own policy, and caching the hashed bundles is the point.
    assertConsoleHeaders(res, what);
    return;
  }
  assert.equal(res.headers['cache-control'], 'no-store', what);
  assert.equal(res.headers['x-frame-options'], 'DENY', what);
  assert.equal(res.headers['referrer-policy'], 'no-referrer', what);
  const csp = String(res.headers['content-security-policy'] ?? '');
  assert.match(csp, /default-src 'none'/, what);
  assert.match(csp, /frame-ancestors 'none'/, what);
}

/** The console loads only the hub's own files, runs no inline script and cannot be framed. */
function assertConsoleHeaders(res: Response, what: string): void {
  assert.equal(res.headers['x-frame-options'], 'DENY', what);
  assert.equal(res.headers['referrer-policy'], 'no-referrer', what);
  const csp = String(res.headers['content-security-policy'] ?? '');
  assert.match(csp, /default-src '(self|none)'/, what);
  assert.match(csp, /frame-ancestors 'none'/, what);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, what);
}

const isConsoleRoute = (url: string) => url === '/' || url.startsWith('/assets/');

const fill = (url: string) =>
  url.replace(/:([A-Za-z]+)/g, (_m, name: string) => (name === 'type' ? 'production.order.released' : 'x'));

test('API8 every response carries the security headers: every route, with and without credentials, and errors', async () => {
  const seen = new Set<string>();
  for (const route of hub.routes) {
    const url = fill(route.url).replace('*', 'swagger-ui.css');
    for (const key of [undefined, null]) {
      const res = await call(hub, route.method, url, {
        ...(key === null ? { key: null } : {}),
        ...(route.method === 'POST' ? { body: {} } : {}),
      });
      assertSecurityHeaders(
        res,
        `${route.method} ${url} ${key === null ? 'anonymous' : 'admin'} → ${res.statusCode}`,
        isConsoleRoute(route.url),
      );
      seen.add(routeKey(route.method, route.url));
    }
  }
  assert.ok(seen.size >= 40);
  for (const res of await errorResponses())
    assertSecurityHeaders(res, `${res.statusCode} ${res.body.slice(0, 80)}`);
});

let errorCache: Response[] | null = null;

/** One answer of each error family the API sends. */
async function errorResponses(): Promise<Response[]> {
  if (errorCache) return errorCache;
  const reader = await createClient(hub, 'errors-reader', ['events:read:production']);
  errorCache = [];
  await hub.store.deadLetters.add({
    id: 'dl-gone',
    route: 'route-that-was-removed',
    reason: 'rejected',
    event: { ...makeEvent(), sequence: 1 },
    attempts: [],
    at: Date.now(),
    status: 'open',
  });
  errorCache.push(
    await call(hub, 'GET', '/v1/nothing-here'),
    await call(hub, 'GET', '/../../etc/passwd'),
    await call(hub, 'PUT', '/v1/events', { body: {} }),
    await call(hub, 'DELETE', '/v1/dlq'),
    await call(hub, 'POST', '/v1/clients', { body: '<client/>', contentType: 'application/xml' }),
    await call(hub, 'POST', '/v1/events', { body: 'plain', contentType: 'text/plain' }),
    await call(hub, 'POST', '/v1/material-consumptions', { body: '{"plant": "P1",' }),
    await call(hub, 'POST', '/v1/events', { body: '{"id": ', contentType: 'application/cloudevents+json' }),
    await call(hub, 'POST', '/v1/clients', { body: { name: 'x'.repeat(70 * 1024), scopes: [] } }),
    await call(hub, 'POST', '/v1/clients', { body: `${'['.repeat(5000)}${']'.repeat(5000)}` }),
    await call(hub, 'GET', '/v1/events?limit=-5'),
    await call(hub, 'GET', '/v1/events', { key: null }),
    await call(hub, 'GET', '/v1/dlq', { key: reader }),
    await call(hub, 'POST', '/v1/clients', { body: { name: '', scopes: ['root'] } }),
    await call(hub, 'POST', '/v1/events', {
      body: { ...makeEvent(), type: 'production.nothing.known' },
      contentType: 'application/cloudevents+json',
    }),
    await call(hub, 'POST', '/v1/dlq/dl-gone/replay'),
  );
  return errorCache;
}

test('API8 error responses (400, 401, 403, 404, wrong method, 413, 415, 422, 500) show no stack, path or framework internals', async () => {
  const responses = await errorResponses();
  const statuses = new Set(responses.map((r) => r.statusCode));
  for (const status of [400, 401, 403, 404, 413, 415, 422, 500])
    assert.ok(statuses.has(status), `an error ${status} was produced: ${[...statuses]}`);
  for (const res of responses) {
    const what = `${res.statusCode} ${res.body.slice(0, 120)}`;
    assert.ok(res.statusCode >= 400, what);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/, what);
    assertNoInternals(res.body, what);
    assert.match(res.json().type, /^urn:conveyor:problem:/, what);
  }
  const internal = responses.find((r) => r.statusCode === 500) as Response;
  assertProblem(internal, 500, 'internal');
  assert.doesNotMatch(internal.body, /route-that-was-removed|no longer exists/, 'the cause stays in the log');
});

test('API8 a URL with broken percent-encoding is a 400 problem+json with the security headers, not the framework’s own error', async () => {
  for (const url of ['/v1/catalog/schemas/%E0%A4%A', '/v1/dlq/%zz']) {
    const res = await call(hub, 'GET', url);
    assertProblem(res, 400, 'bad-request', url);
    assertNoInternals(res.body, url);
    assertSecurityHeaders(res, url);
  }
});

test('API8 a served route called with another method is 405 method-not-allowed, as docs/errors.md says', async () => {
  for (const [method, url] of [
    ['PUT', '/v1/events'],
    ['DELETE', '/v1/dlq'],
    ['PATCH', '/v1/clients'],
  ] as const) {
    const res = await call(hub, method, url, { body: {} });
    assertProblem(res, 405, 'method-not-allowed', `${method} ${url}`);
  }
});

test('API8 a 415 names the content type it refused', async () => {
  const res = await call(hub, 'POST', '/v1/clients', { body: '<client/>', contentType: 'application/xml' });
  assertProblem(res, 415, 'unsupported-media-type');
  assert.match(res.json().detail, /application\/xml/, res.json().detail);
});
