/**
 * Secrets handling. API keys, JWTs and Idempotency-Keys never reach a log line, even at the most
 * verbose level and on failing requests (401, 403, 409, 500, 503); keys are kept only as hashes,
 * so no file under the data directory holds one in the clear.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import type { Hub } from '../../src/hub.js';
import { createLogger } from '../../src/observability/logger.js';
import { makeEvent } from '../helpers/events.js';
import { ADMIN_KEY, createTestHub, LogCapture } from '../helpers/hub.js';
import { call, createClient, ScriptedServer } from './helpers.js';

let hub: Hub & { dataDir: string };
let logs: LogCapture;
let jwks: ScriptedServer;
let wms: ScriptedServer;
/** Every secret a request below carries or an answer hands out. */
const secrets: string[] = [ADMIN_KEY];

before(async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'idp-1', use: 'sig', alg: 'ES256' };
  jwks = new ScriptedServer();
  jwks.reply = () => ({ status: 200, body: { keys: [jwk] } });
  wms = new ScriptedServer();
  wms.reply = (request) =>
    (request.json as { material?: string } | undefined)?.material === 'RM-DOWN'
      ? { status: 500, body: { error: 'down' } }
      : { status: 201, body: { reservationId: 'R-1' } };
  await Promise.all([jwks.listen(), wms.listen()]);
  logs = new LogCapture();
  hub = await createTestHub(
    {
      auth: {
        jwt: { issuer: 'https://idp.example.com/', audience: 'conveyor', jwksUrl: `${jwks.url}/jwks` },
      },
      connectors: {
        wms: { kind: 'http', baseUrl: `${wms.url}/wms`, timeout: '5s' },
        'mes-p1': { kind: 'http', url: `${wms.url}/mes` },
      },
      commands: { 'inventory-reservation': { connector: 'wms', path: '/reservations' } },
      routes: [{ name: 'mes-orders', types: ['production.order.released'], sink: 'mes-p1' }],
    },
    logs,
    // The most verbose level: everything debug logs, and more.
    { logger: createLogger('trace', logs) },
  );
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>, key: CryptoKey = privateKey) =>
    new SignJWT({
      iss: 'https://idp.example.com/',
      aud: 'conveyor',
      exp: now + 600,
      client_id: 'mes-line-1',
      scope: 'events:read:production',
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
      .sign(key);
  const validJwt = await sign({});
  const expiredJwt = await sign({ exp: now - 3600 });
  const forgedJwt = await sign({ scope: 'admin' }, (await generateKeyPair('ES256')).privateKey);
  secrets.push(validJwt, expiredJwt, forgedJwt);

  const reader = await createClient(hub, 'reader', ['events:read:production']);
  const revoked = await createClient(hub, 'short-lived', ['events:read:production']);
  await call(hub, 'DELETE', '/v1/clients/short-lived');
  secrets.push(reader, revoked);
  const idem = (n: number) => `idem-secret-${n}-5f0c2d9e8b7a`;
  secrets.push(idem(1), idem(2), idem(3), idem(4), idem(5));

  const created = await call(hub, 'POST', '/v1/clients', {
    body: { name: 'created-with-idem', scopes: ['ops'] },
    headers: { 'idempotency-key': idem(1) },
  });
  secrets.push(created.json().key as string);
  const supplier = await call(hub, 'POST', '/v1/suppliers', {
    body: { supplierId: 'SUP-S', name: 'Secretive Supplies', plants: ['P1'] },
    headers: { 'idempotency-key': idem(2) },
  });
  secrets.push(supplier.json().credential.key as string);
  await hub.store.deadLetters.add({
    id: 'dl-gone',
    route: 'removed-route',
    reason: 'rejected',
    event: { ...makeEvent(), sequence: 1 },
    attempts: [],
    at: Date.now(),
    status: 'open',
  });

  const reservation = (material: string) => ({ plant: 'P1', material, quantity: { value: 1, uom: 'KG' } });
  const statuses = [
    (await call(hub, 'GET', '/v1/events', { key: reader })).statusCode,
    (await call(hub, 'GET', '/v1/events', { key: validJwt })).statusCode,
    (await call(hub, 'GET', '/v1/events', { key: expiredJwt })).statusCode,
    (await call(hub, 'GET', '/v1/events', { key: forgedJwt })).statusCode,
    (await call(hub, 'GET', '/v1/events', { key: revoked })).statusCode,
    (await call(hub, 'GET', '/v1/events', { key: `cvy_${'U'.repeat(43)}` })).statusCode,
    (await call(hub, 'GET', '/v1/dlq', { key: reader })).statusCode,
    (await call(hub, 'POST', '/v1/dlq/dl-gone/replay', { headers: { 'idempotency-key': idem(3) } }))
      .statusCode,
    (
      await call(hub, 'POST', '/v1/inventory/reservations', {
        body: reservation('RM-OK'),
        headers: { 'idempotency-key': idem(4) },
      })
    ).statusCode,
    (
      await call(hub, 'POST', '/v1/inventory/reservations', {
        body: reservation('RM-OTHER'),
        headers: { 'idempotency-key': idem(4) },
      })
    ).statusCode,
    (
      await call(hub, 'POST', '/v1/inventory/reservations', {
        body: reservation('RM-DOWN'),
        headers: { 'idempotency-key': idem(5) },
      })
    ).statusCode,
    (await call(hub, 'POST', '/v1/material-consumptions', { body: '{"plant":', key: reader })).statusCode,
  ];
  assert.deepEqual(statuses, [200, 200, 401, 401, 401, 401, 403, 500, 201, 409, 503, 400]);
});

after(async () => {
  await hub.close();
  await Promise.all([jwks.close(), wms.close()]);
});

test('secrets: no log line holds an API key, a JWT, an Idempotency-Key or an Authorization header, at trace level', () => {
  assert.ok(logs.lines.length > 0, 'the hub logged something (the 500 at least)');
  assert.ok(
    logs.lines.some((l) => l.includes('"level":50')),
    'the failing request was logged as an error',
  );
  for (const line of logs.lines) {
    assert.doesNotMatch(line, /authorization/i, line.slice(0, 300));
    assert.doesNotMatch(line, /bearer /i, line.slice(0, 300));
    for (const secret of secrets) {
      assert.ok(!line.includes(secret), `a log line holds a secret: ${line.slice(0, 300)}`);
      // A JWT's signature alone is as good as the token for an attacker replaying it.
      const signature = secret.split('.')[2];
      if (signature) assert.ok(!line.includes(signature), line.slice(0, 300));
    }
  }
});

test('secrets: no file under the data directory holds a key or token in the clear', () => {
  const files = readdirSync(hub.dataDir);
  assert.ok(
    files.some((f) => f.endsWith('.db')),
    `${files}`,
  );
  for (const file of files) {
    const bytes = readFileSync(join(hub.dataDir, file));
    for (const secret of secrets.filter((s) => !s.startsWith('idem-')))
      assert.ok(!bytes.includes(secret), `${file} holds a secret in the clear`);
  }
});

test('secrets: the audit trail holds who did what, never a credential', async () => {
  const audit = await call(hub, 'GET', '/v1/audit?limit=1000');
  assert.equal(audit.statusCode, 200);
  assert.ok(audit.json().items.length > 0);
  for (const secret of secrets) assert.ok(!audit.body.includes(secret), 'the audit trail holds a secret');
});
