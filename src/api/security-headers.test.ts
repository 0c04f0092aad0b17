import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { API_CSP, DOCS_CSP, securityHeaders } from './security-headers.js';

const COMMON = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

/** An app shaped like the hub: JSON routes, an error, a 404, and the real swagger-ui under /docs. */
async function buildApp(tls: boolean): Promise<FastifyInstance> {
  const app = Fastify();
  app.addHook('onSend', securityHeaders({ tls, docsPrefix: '/docs' }));
  app.get('/v1/things', async () => ({ things: [] }));
  app.get('/v1/boom', async () => {
    throw new Error('boom');
  });
  app.get('/docsx', async () => ({ not: 'docs' }));
  // swagger-ui reads the document through the `swagger()` decorator, as in docs-plugin.
  await app.register(
    fp(
      async (instance) => {
        instance.decorate('swagger', () => ({ openapi: '3.1.0', info: {}, paths: {} }));
      },
      { name: '@fastify/swagger' },
    ),
  );
  // No staticCSP: its own onSend hook would run after ours and replace the policy.
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.ready();
  return app;
}

function assertHeaders(headers: Record<string, unknown>, csp: string, hsts: boolean): void {
  for (const [name, value] of Object.entries(COMMON)) assert.equal(headers[name], value, name);
  assert.equal(headers['content-security-policy'], csp);
  assert.equal(headers['strict-transport-security'], hsts ? 'max-age=31536000' : undefined);
}

describe('securityHeaders without TLS', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await buildApp(false);
  });
  after(() => app.close());

  test('API responses, errors and 404s get the strict policy and no HSTS', async () => {
    for (const [url, status] of [
      ['/v1/things', 200],
      ['/v1/boom', 500],
      ['/v1/nothing-here', 404],
      ['/docsx', 200], // shares the prefix's letters but is not under it
    ] as const) {
      const response = await app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, status, url);
      assertHeaders(response.headers, API_CSP, false);
    }
  });

  test('the docs page and its assets get the docs policy', async () => {
    for (const url of [
      '/docs',
      '/docs/',
      '/docs/?x=1',
      '/docs/static/swagger-ui.css',
      '/docs/static/swagger-initializer.js',
      '/docs/json',
    ]) {
      const response = await app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200, url);
      assertHeaders(response.headers, DOCS_CSP, false);
    }
  });

  test("the docs page loads only same-origin scripts and styles, and has no inline script for 'self' to block", async () => {
    const html = (await app.inject({ method: 'GET', url: '/docs/' })).body;
    const urls = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(urls.some((u) => u.endsWith('swagger-ui-bundle.js')));
    for (const url of urls) assert.doesNotMatch(url, /^(?:[a-z]+:)?\/\//i, `${url} is on another origin`);
    const inlineScripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].filter(
      (m) => !/\bsrc=/.test(m[0]) || m[1]!.trim() !== '',
    );
    assert.deepEqual(inlineScripts, []);
    assert.match(DOCS_CSP, /script-src 'self'(;|$)/);
    assert.doesNotMatch(DOCS_CSP, /script-src[^;]*unsafe/);
    assert.match(DOCS_CSP, /frame-ancestors 'none'/);
  });
});

describe('securityHeaders with TLS', () => {
  test('adds HSTS to every response, docs and 404s included', async () => {
    const app = await buildApp(true);
    try {
      assertHeaders((await app.inject({ method: 'GET', url: '/v1/things' })).headers, API_CSP, true);
      assertHeaders((await app.inject({ method: 'GET', url: '/nope' })).headers, API_CSP, true);
      assertHeaders((await app.inject({ method: 'GET', url: '/docs/' })).headers, DOCS_CSP, true);
    } finally {
      await app.close();
    }
  });
});

test('a trailing slash on docsPrefix is ignored; a relative one is refused', async () => {
  const app = Fastify();
  app.addHook('onSend', securityHeaders({ tls: false, docsPrefix: '/reference/' }));
  app.get('/reference', async () => 'page');
  app.get('/v1/x', async () => ({}));
  try {
    const page = await app.inject({ method: 'GET', url: '/reference' });
    assert.equal(page.headers['content-security-policy'], DOCS_CSP);
    const api = await app.inject({ method: 'GET', url: '/v1/x' });
    assert.equal(api.headers['content-security-policy'], API_CSP);
  } finally {
    await app.close();
  }
  assert.throws(() => securityHeaders({ tls: false, docsPrefix: 'docs' }), RangeError);
});
