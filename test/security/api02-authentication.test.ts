/**
 * OWASP API2:2023 Broken Authentication. Every endpoint but the probes and the reference page
 * needs a valid API key or JWT; missing, malformed, unknown, revoked and forged credentials are
 * 401 problem+json whose detail names the reason and never echoes the credential.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';
import type { Hub } from '../../src/hub.js';
import type { StoredEvent } from '../../src/model/envelope.js';
import { makeEvent } from '../helpers/events.js';
import { ADMIN_KEY, createTestHub } from '../helpers/hub.js';
import {
  assertProblem,
  call,
  createClient,
  publishAsAdmin,
  type Response,
  ScriptedServer,
} from './helpers.js';

const ISSUER = 'https://idp.example.com/';
const AUDIENCE = 'conveyor';

let hub: Hub;
let jwks: ScriptedServer;
let signingKey: CryptoKey;
let publicKey: CryptoKey;
let attackerKey: CryptoKey;

before(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  signingKey = pair.privateKey;
  publicKey = pair.publicKey;
  attackerKey = (await generateKeyPair('RS256')).privateKey;
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'idp-1', use: 'sig', alg: 'RS256' };
  jwks = new ScriptedServer();
  jwks.reply = () => ({ status: 200, body: { keys: [jwk] } });
  await jwks.listen();
  hub = await createTestHub({
    auth: { jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: `${jwks.url}/jwks` } },
  });
  await publishAsAdmin(hub, [makeEvent({ plant: 'P1' }), makeEvent({ plant: 'P2' })]);
});

after(async () => {
  await hub.close();
  await jwks.close();
});

/** Seconds since the epoch: the hub checks `exp` and `nbf` against its own clock. */
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A token that passes every check unless `claims` say otherwise; `undefined` drops a claim. */
function token(
  claims: Record<string, unknown> = {},
  options: { key?: CryptoKey | Uint8Array; alg?: string; kid?: string } = {},
): Promise<string> {
  const payload: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    exp: nowSeconds() + 600,
    client_id: 'mes-line-1',
    scope: 'events:read:production commands:material-consumption',
    plants: ['P1'],
    ...claims,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload)
    .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? 'idp-1' })
    .sign(options.key ?? signingKey);
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** 401 unauthorized, detail matching `reason`, and the credential nowhere in the answer. */
function assertRefused(res: Response, reason: RegExp, credential: string, what: string): void {
  assertProblem(res, 401, 'unauthorized', what);
  assert.match(res.json().detail, reason, what);
  if (credential.length > 0) {
    assert.ok(!res.body.includes(credential), `${what}: the answer echoes the credential`);
    const signature = credential.split('.')[2];
    if (signature && signature.length > 8) assert.ok(!res.body.includes(signature), what);
  }
}

test('API2 no header, a malformed header or an unknown key is 401 on every protected route', async () => {
  const unknownKey = `cvy_${'A'.repeat(43)}`;
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['no Authorization header', {}, /missing credentials/],
    ['Basic credentials', { authorization: 'Basic YWRtaW46YWRtaW4=' }, /missing credentials/],
    ['Bearer without a token', { authorization: 'Bearer' }, /missing credentials/],
    ['Bearer with two tokens', { authorization: `Bearer ${ADMIN_KEY} extra` }, /missing credentials/],
    ['the key without a scheme', { authorization: ADMIN_KEY }, /missing credentials/],
    ['another scheme', { authorization: `Token ${ADMIN_KEY}` }, /missing credentials/],
    ['an unknown key', { authorization: `Bearer ${unknownKey}` }, /unknown or revoked/],
    ['the admin key with one more character', { authorization: `Bearer ${ADMIN_KEY}x` }, /unknown/],
    ['a short key', { authorization: 'Bearer cvy_x' }, /unknown or revoked/],
    ['a 300-character key', { authorization: `Bearer cvy_${'b'.repeat(296)}` }, /unknown or revoked/],
  ];
  const routes: Array<[string, string]> = [
    ['GET', '/v1/events'],
    ['POST', '/v1/events'],
    ['POST', '/v1/material-consumptions'],
    ['GET', '/v1/dlq'],
    ['GET', '/v1/clients'],
    ['GET', '/v1/openapi.json'],
    ['GET', '/metrics'],
  ];
  for (const [what, headers, reason] of cases) {
    for (const [method, url] of routes) {
      const res = await call(hub, method, url, {
        key: null,
        headers,
        ...(method === 'POST' ? { body: {} } : {}),
      });
      const credential = (headers.authorization ?? '').replace(/^\S+\s*/, '');
      assertRefused(res, reason, credential.length > 12 ? credential : '', `${what} on ${method} ${url}`);
    }
  }
  // The probes and the reference page stay open.
  for (const url of ['/healthz', '/docs/json'])
    assert.equal((await call(hub, 'GET', url, { key: null })).statusCode, 200, url);
});

test('API2 a revoked key gets 401 at once, and re-keying a client leaves its old key dead', async () => {
  const key = await createClient(hub, 'reader', ['events:read:production']);
  assert.equal((await call(hub, 'GET', '/v1/events', { key })).statusCode, 200, 'verified (and cached)');
  const revoked = await call(hub, 'DELETE', '/v1/clients/reader');
  assert.equal(revoked.statusCode, 200, revoked.body);
  assertRefused(await call(hub, 'GET', '/v1/events', { key }), /unknown or revoked/, key, 'revoked key');

  const rekeyed = await createClient(hub, 'reader', ['events:read:production']);
  assert.notEqual(rekeyed, key);
  assert.equal((await call(hub, 'GET', '/v1/events', { key: rekeyed })).statusCode, 200);
  assertRefused(await call(hub, 'GET', '/v1/events', { key }), /unknown or revoked/, key, 'the old key');

  assertProblem(await call(hub, 'DELETE', '/v1/clients/admin'), 409, 'conflict', 'an admin revoking itself');
});

test('API2 a valid JWT works: scopes from the `scope` claim, plants from the `plants` claim', async () => {
  const jwt = await token();
  const read = await call(hub, 'GET', '/v1/events', { key: jwt });
  assert.equal(read.statusCode, 200, read.body);
  const plants = (read.json().items as StoredEvent[]).map((e) => e.plant);
  assert.ok(plants.length > 0);
  assert.deepEqual([...new Set(plants)], ['P1']);
  assertProblem(await call(hub, 'GET', '/v1/events?plant=P2', { key: jwt }), 403, 'forbidden');
  assertProblem(await call(hub, 'GET', '/v1/events?type=quality.*', { key: jwt }), 403, 'forbidden');
  assertProblem(await call(hub, 'GET', '/v1/dlq', { key: jwt }), 403, 'forbidden', 'no ops scope');
  const consumption = { orderId: 'PO-1', material: 'RM-1', quantity: { value: 1, uom: 'KG' } };
  assertProblem(
    await call(hub, 'POST', '/v1/material-consumptions', { key: jwt, body: { ...consumption, plant: 'P2' } }),
    403,
    'forbidden',
  );
  const ok = await call(hub, 'POST', '/v1/material-consumptions', {
    key: jwt,
    body: { ...consumption, plant: 'P1' },
  });
  assert.equal(ok.statusCode, 202, ok.body);
  assert.equal(ok.json().events.length, 1);
  const [stored] = await hub.log.read({ after: ok.json().events[0].sequence - 1, limit: 1 });
  assert.equal(stored?.source, '/clients/mes-line-1', 'the event names the token’s client');

  // Plants as a space-separated string bind the same way.
  const spaced = await token({ plants: 'P2' });
  const p2 = (await call(hub, 'GET', '/v1/events', { key: spaced })).json().items as StoredEvent[];
  assert.deepEqual([...new Set(p2.map((e) => e.plant))], ['P2']);
});

test('API2 bad JWTs are 401 naming the reason, never the token: expired, issuer, audience, signature, alg none, HS256', async () => {
  const valid = await token();
  const [header, , signature] = valid.split('.');
  const pem = await exportSPKI(publicKey);
  const unsignedClaims = {
    iss: ISSUER,
    aud: AUDIENCE,
    exp: nowSeconds() + 600,
    client_id: 'intruder',
    scope: 'admin',
  };
  const cases: Array<[string, string, RegExp]> = [
    ['expired', await token({ exp: nowSeconds() - 3600 }), /the token has expired/],
    ['wrong issuer', await token({ iss: 'https://evil.example.com/' }), /issuer is not trusted/],
    ['wrong audience', await token({ aud: 'another-api' }), /audience is not conveyor/],
    ['no exp claim', await token({ exp: undefined }), /no exp claim/],
    ['not valid yet', await token({ nbf: nowSeconds() + 3600 }), /not valid yet/],
    ['forged signature (another key, same kid)', await token({}, { key: attackerKey }), /signature/],
    [
      'claims changed after signing',
      `${header}.${b64url({ ...unsignedClaims, client_id: 'mes-line-1' })}.${signature}`,
      /signature does not verify/,
    ],
    [
      'alg none',
      `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(unsignedClaims)}.`,
      /signing algorithm none is not accepted/,
    ],
    [
      'HS256 signed with the public key as the secret',
      await token(
        { scope: 'admin', plants: undefined },
        { alg: 'HS256', key: new TextEncoder().encode(pem) },
      ),
      /signing algorithm HS256 is not accepted/,
    ],
    ['an unknown kid', await token({}, { kid: 'idp-404' }), /no key in the JWKS matches/],
    ['plants that are not strings', await token({ plants: 7 }), /plants claim/],
    ['no client', await token({ client_id: undefined }), /names no client/],
  ];
  for (const [what, jwt, reason] of cases) {
    for (const [method, url] of [
      ['GET', '/v1/events'],
      ['POST', '/v1/material-consumptions'],
    ] as const) {
      const res = await call(hub, method, url, { key: jwt, ...(method === 'POST' ? { body: {} } : {}) });
      assertRefused(res, reason, jwt, `${what} on ${method} ${url}`);
    }
  }
});

test('API2 a hub without auth.jwt refuses JWTs with 401 and says why', async () => {
  const plain = await createTestHub();
  try {
    const jwt = await token({ scope: 'admin' });
    assertRefused(
      await call(plain, 'GET', '/v1/events', { key: jwt }),
      /JWT bearer tokens are not accepted here/,
      jwt,
      'JWT without auth.jwt',
    );
  } finally {
    await plain.close();
  }
});

test('API2 refused credentials are on the audit trail with the address, without the credential', async () => {
  const bogus = `cvy_${'Z'.repeat(43)}`;
  // Refused credentials are counted per address and reason; reading the trail writes the counts
  // so far, so this read starts a new count whose first request is the one below.
  await call(hub, 'GET', '/v1/audit?limit=1');
  await call(hub, 'GET', '/v1/dlq', { key: bogus });
  const audit = await call(hub, 'GET', '/v1/audit?action=auth.denied&limit=1000');
  assert.equal(audit.statusCode, 200, audit.body);
  const items = audit.json().items as Array<{
    target: string;
    outcome: string;
    ip: string;
    actor: string;
    detail: { reason: string; count: number };
  }>;
  const entry = items.find((i) => i.target === 'GET /v1/dlq' && i.actor === 'anonymous');
  assert.ok(entry, audit.body.slice(0, 500));
  assert.equal(entry.outcome, 'denied');
  assert.equal(entry.ip, '127.0.0.1');
  assert.equal(entry.detail.reason, 'unknown-key');
  assert.ok(entry.detail.count >= 1);
  assert.ok(!audit.body.includes(bogus), 'the audit trail holds no credential');
});
