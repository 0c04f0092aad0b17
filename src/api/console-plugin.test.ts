import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { auth, createTestHub } from '../../test/helpers/hub.js';
import type { Hub } from '../hub.js';
import { API_CSP, CONSOLE_CSP } from './security-headers.js';

const PAGE =
  '<!doctype html><html><head><script type="module" src="/assets/app-1a2b3c.js"></script></head></html>';
const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

let hub: Hub;
let unbuilt: Hub;
before(async () => {
  const root = mkdtempSync(join(tmpdir(), 'conveyor-console-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), PAGE);
  writeFileSync(join(root, 'assets', 'app-1a2b3c.js'), 'export const x = 1;\n');
  hub = await createTestHub({}, undefined, { consoleRoot: root });
  unbuilt = await createTestHub({}, undefined, { consoleRoot: join(root, 'missing') });
});
after(async () => {
  await hub.close();
  await unbuilt.close();
});

const get = (url: string, headers: Record<string, string> = {}, on = hub) =>
  on.app.inject({ method: 'GET', url, headers });

test('/ and client-side routes answer the page without credentials, with the console policy', async () => {
  for (const url of ['/', '/dlq', '/events/explorer?type=quality.*', '/trace/PO-1']) {
    const res = await get(url, url === '/' ? {} : HTML);
    assert.equal(res.statusCode, 200, url);
    assert.equal(res.body, PAGE, url);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.equal(res.headers['content-security-policy'], CONSOLE_CSP, url);
    assert.equal(res.headers['cache-control'], 'no-cache', 'a new build is picked up at once');
    assert.equal(res.headers['x-frame-options'], 'DENY');
  }
  assert.match(CONSOLE_CSP, /default-src 'self'/);
  assert.doesNotMatch(CONSOLE_CSP, /unsafe-inline|unsafe-eval/, 'no inline script or style');
});

test('hashed assets are served with a long cache; a missing one is a 404 problem', async () => {
  const asset = await get('/assets/app-1a2b3c.js');
  assert.equal(asset.statusCode, 200);
  assert.match(String(asset.headers['content-type']), /javascript/);
  assert.match(String(asset.headers['cache-control']), /max-age=31536000.*immutable/);
  const missing = await get('/assets/nope-000.js', HTML);
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.headers['content-type'], 'application/problem+json; charset=utf-8');
  const outside = await get('/assets/../index.html');
  assert.notEqual(outside.statusCode, 200, 'no path outside the assets folder');
});

test('API paths keep their problems: 401, 404 and 405 stay problem+json even for a browser', async () => {
  for (const url of ['/v1/nothing', '/docsx/../v1/events', '/metrics', '/healthz/x', '/readyz/x']) {
    const res = await get(url, HTML);
    assert.notEqual(res.headers['content-type'], 'text/html; charset=utf-8', url);
  }
  const unauth = await get('/v1/overview', HTML);
  assert.equal(unauth.statusCode, 401);
  const notFound = await get('/v1/nothing-here', { ...HTML, ...auth() });
  assert.equal(notFound.statusCode, 404);
  assert.equal(notFound.json().code, 'not-found');
  assert.equal(notFound.headers['content-security-policy'], API_CSP);
  const wrongMethod = await hub.app.inject({ method: 'DELETE', url: '/v1/overview', headers: auth() });
  assert.equal(wrongMethod.statusCode, 405);
  assert.equal(wrongMethod.json().code, 'method-not-allowed');
  // Not a browser asking for a page: an unknown path is the API's 404, not the console.
  const json = await get('/somewhere', { accept: 'application/json', ...auth() });
  assert.equal(json.statusCode, 404);
  assert.equal(json.json().code, 'not-found');
  const post = await hub.app.inject({ method: 'POST', url: '/somewhere', headers: { ...HTML, ...auth() } });
  assert.equal(post.statusCode, 404);
});

test('before a build, / says to run npm run build', async () => {
  const res = await get('/', HTML, unbuilt);
  assert.equal(res.statusCode, 503);
  assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  assert.equal(res.json().code, 'unavailable');
  assert.match(res.json().detail, /npm run build/);
  assert.equal((await get('/assets/app-1a2b3c.js', {}, unbuilt)).statusCode, 404);
});
