import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CompactSign,
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { JwtRejected, JwtVerifier, type JwtVerifierOptions } from './jwt.js';
import type { JwtSettings } from './jwt-settings.js';

const ISSUER = 'https://idp.example.com/';
const AUDIENCE = 'conveyor';
/** The verifiers' clock; tokens are stamped relative to it, not to the wall clock. */
const NOW_MS = 1_900_000_000_000;
const NOW = NOW_MS / 1000;

interface TestKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

async function makeKey(alg: 'RS256' | 'ES256', kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, use: 'sig' } };
}

/** A token that passes every check unless `claims` or `header` say otherwise; `undefined` drops a claim. */
function sign(
  key: TestKey,
  claims: Record<string, unknown> = {},
  header: { kid?: string | undefined } = { kid: key.kid },
): Promise<string> {
  const payload: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    exp: NOW + 300,
    client_id: 'mes-line-1',
    ...claims,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload as JWTPayload)
    .setProtectedHeader({ alg: key.alg, ...(header.kid === undefined ? {} : { kid: header.kid }) })
    .sign(key.privateKey);
}

function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** Serves `{ keys }` and counts the fetches; `status` other than 200 makes it fail. */
async function startJwksServer(keys: JWK[]) {
  const state = { keys, requests: 0, status: 200 };
  const server = createServer((_req, res) => {
    state.requests++;
    res.writeHead(state.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    state,
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function settingsFor(source: { jwksUrl?: string; jwksFile?: string }, clockToleranceSec = 30): JwtSettings {
  return {
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUrl: source.jwksUrl ?? null,
    jwksFile: source.jwksFile ?? null,
    scopeClaim: 'scope',
    clockToleranceSec,
  };
}

async function assertRejected(promise: Promise<unknown>, message: string | RegExp, token?: string) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof JwtRejected, `expected JwtRejected, got ${String(error)}`);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    if (token !== undefined) assert.ok(!error.message.includes(token), 'the message echoes the token');
    return true;
  });
}

describe('JwtVerifier with a JWKS URL', () => {
  let rsa: TestKey;
  let ec: TestKey;
  let jwks: Awaited<ReturnType<typeof startJwksServer>>;

  before(async () => {
    rsa = await makeKey('RS256', 'rsa-1');
    ec = await makeKey('ES256', 'ec-1');
    jwks = await startJwksServer([]);
  });

  after(() => jwks.close());

  /** A verifier on a fresh cache, against a server serving `keys` from now on. */
  function verifier(keys: JWK[], options: JwtVerifierOptions = {}, clockToleranceSec = 30) {
    jwks.state.keys = keys;
    jwks.state.requests = 0;
    jwks.state.status = 200;
    return new JwtVerifier(settingsFor({ jwksUrl: jwks.url }, clockToleranceSec), {
      now: () => NOW_MS,
      ...options,
    });
  }

  test('an RS256 token verifies and its claims map to the identity', async () => {
    const token = await sign(rsa, {
      client_id: 'mes-line-1',
      azp: 'ignored-azp',
      sub: 'ignored-sub',
      scope: 'events:write  orders:read',
      plants: ['P100', 'P200'],
      supplier_id: 'SUP-7',
    });
    assert.deepEqual(await verifier([rsa.jwk]).verify(token), {
      client: 'mes-line-1',
      scopes: ['events:write', 'orders:read'],
      plants: ['P100', 'P200'],
      supplierId: 'SUP-7',
    });
  });

  test('an ES256 token verifies; scopes and plants take either form, and absent claims have defaults', async () => {
    const v = verifier([rsa.jwk, ec.jwk]);
    const withAzp = await sign(ec, {
      client_id: undefined,
      azp: 'portal',
      sub: 'user-1',
      scope: ['asn:read', 'asn:write'],
      plants: 'P100 P300',
    });
    assert.deepEqual(await v.verify(withAzp), {
      client: 'portal',
      scopes: ['asn:read', 'asn:write'],
      plants: ['P100', 'P300'],
      supplierId: null,
    });
    const subOnly = await sign(ec, { client_id: undefined, sub: 'svc-reporting' });
    assert.deepEqual(await v.verify(subOnly), {
      client: 'svc-reporting',
      scopes: [],
      plants: null,
      supplierId: null,
    });
  });

  test('the scope claim named in the settings is the one read', async () => {
    jwks.state.keys = [rsa.jwk];
    const v = new JwtVerifier(
      { ...settingsFor({ jwksUrl: jwks.url }), scopeClaim: 'scp' },
      { now: () => NOW_MS },
    );
    const token = await sign(rsa, { scope: 'not-this', scp: 'events:read' });
    assert.deepEqual((await v.verify(token)).scopes, ['events:read']);
  });

  test('50 verifications fetch the JWKS once', async () => {
    const v = verifier([rsa.jwk]);
    const token = await sign(rsa);
    for (let i = 0; i < 50; i++) await v.verify(token);
    assert.equal(jwks.state.requests, 1);
  });

  test('concurrent verifications on a cold cache share one fetch', async () => {
    const v = verifier([rsa.jwk]);
    const token = await sign(rsa);
    await Promise.all(Array.from({ length: 20 }, () => v.verify(token)));
    assert.equal(jwks.state.requests, 1);
  });

  test('with cacheMaxAgeMs 0 every verification fetches the JWKS again', async () => {
    const v = verifier([rsa.jwk], { cacheMaxAgeMs: 0 });
    const token = await sign(rsa);
    for (let i = 0; i < 3; i++) await v.verify(token);
    assert.equal(jwks.state.requests, 3);
  });

  test('a token signed by a rotated-in key is accepted once the server serves that key', async () => {
    const v = verifier([rsa.jwk], { cooldownMs: 0 });
    await v.verify(await sign(rsa));
    const next = await makeKey('RS256', 'rsa-2');
    const rotated = await sign(next);
    await assertRejected(v.verify(rotated), "no key in the JWKS matches the token's kid");
    assert.equal(jwks.state.requests, 2, 'the unknown kid refetched the JWKS');

    jwks.state.keys = [rsa.jwk, next.jwk];
    assert.equal((await v.verify(rotated)).client, 'mes-line-1');
    assert.equal(jwks.state.requests, 3);
  });

  test('unknown kids within the cooldown do not refetch the JWKS', async () => {
    const v = verifier([rsa.jwk]);
    await v.verify(await sign(rsa));
    const stranger = await makeKey('RS256', 'unknown');
    for (let i = 0; i < 20; i++) {
      const token = await sign(stranger, {}, { kid: `unknown-${i}` });
      await assertRejected(v.verify(token), "no key in the JWKS matches the token's kid");
    }
    assert.equal(jwks.state.requests, 1);
  });

  test('a token without a kid is checked against each key of its type', async () => {
    const other = await makeKey('RS256', 'rsa-other');
    const v = verifier([other.jwk, rsa.jwk]);
    assert.equal((await v.verify(await sign(rsa, {}, {}))).client, 'mes-line-1');
    const stranger = await makeKey('RS256', 'stranger');
    await assertRejected(v.verify(await sign(stranger, {}, {})), "the token's signature does not verify");
  });

  test('an expired token is refused', async () => {
    const token = await sign(rsa, { exp: NOW - 3600 });
    await assertRejected(verifier([rsa.jwk]).verify(token), 'the token has expired', token);
  });

  test('exp is checked with the clock tolerance, on the injected clock', async () => {
    const token = await sign(rsa, { exp: NOW });
    let now = NOW_MS + 29_000;
    const v = verifier([rsa.jwk], { now: () => now });
    assert.equal((await v.verify(token)).client, 'mes-line-1');
    now = NOW_MS + 31_000;
    await assertRejected(v.verify(token), 'the token has expired');

    now = NOW_MS + 29_000;
    const strict = verifier([rsa.jwk], { now: () => now }, 0);
    await assertRejected(strict.verify(token), 'the token has expired');
  });

  test('a token whose nbf is in the future is refused', async () => {
    const token = await sign(rsa, { nbf: NOW + 120 });
    await assertRejected(verifier([rsa.jwk]).verify(token), 'the token is not valid yet');
  });

  test('a token from another issuer is refused', async () => {
    const token = await sign(rsa, { iss: 'https://evil.example.com/' });
    await assertRejected(verifier([rsa.jwk]).verify(token), "the token's issuer is not trusted");
  });

  test('a token for another audience is refused', async () => {
    const token = await sign(rsa, { aud: ['billing', 'crm'] });
    await assertRejected(verifier([rsa.jwk]).verify(token), "the token's audience is not conveyor");
  });

  test('a token without exp is refused', async () => {
    const token = await sign(rsa, { exp: undefined });
    await assertRejected(verifier([rsa.jwk]).verify(token), 'the token has no exp claim');
  });

  test('a token signed by another key under a trusted kid is refused', async () => {
    const forger = await makeKey('RS256', rsa.kid);
    const token = await sign(forger);
    await assertRejected(verifier([rsa.jwk]).verify(token), "the token's signature does not verify", token);
  });

  test('an unsigned token (alg none) is refused', async () => {
    const payload = { iss: ISSUER, aud: AUDIENCE, exp: NOW + 300, client_id: 'intruder' };
    const token = `${b64({ alg: 'none' })}.${b64(payload)}.`;
    assert.ok(JwtVerifier.looksLikeJwt(token));
    await assertRejected(
      verifier([rsa.jwk]).verify(token),
      "the token's signing algorithm none is not accepted",
      token,
    );
  });

  test('an HS256 token keyed with the RSA public key PEM is refused', async () => {
    const pem = await exportSPKI(rsa.publicKey);
    const token = await new SignJWT({ client_id: 'intruder' })
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime(NOW + 300)
      .sign(new TextEncoder().encode(pem));
    await assertRejected(
      verifier([rsa.jwk]).verify(token),
      "the token's signing algorithm HS256 is not accepted",
    );
  });

  test('a token that names no client is refused', async () => {
    const token = await sign(rsa, { client_id: undefined, scope: 'events:write' });
    await assertRejected(
      verifier([rsa.jwk]).verify(token),
      'the token names no client (client_id, azp or sub)',
    );
  });

  test('a malformed plants or supplier_id claim is refused rather than read as unbound', async () => {
    const v = verifier([rsa.jwk]);
    await assertRejected(v.verify(await sign(rsa, { plants: 100 })), /plants claim is neither/);
    await assertRejected(v.verify(await sign(rsa, { plants: ['P100', 7] })), /plants claim is neither/);
    await assertRejected(
      v.verify(await sign(rsa, { supplier_id: 7 })),
      "the token's supplier_id claim is not a string",
    );
  });

  test('an unreachable JWKS server is a rejection, not a crash', async () => {
    const down = await startJwksServer([rsa.jwk]);
    await down.close();
    const v = new JwtVerifier(settingsFor({ jwksUrl: down.url }), { now: () => NOW_MS });
    await assertRejected(v.verify(await sign(rsa)), "the issuer's JWKS could not be fetched");
  });

  test('a JWKS server answering with an error is a rejection', async () => {
    const v = verifier([rsa.jwk]);
    jwks.state.status = 503;
    await assertRejected(v.verify(await sign(rsa)), "the issuer's JWKS could not be fetched");
  });

  test('a garbled token is refused as malformed', async () => {
    const v = verifier([rsa.jwk]);
    const badHeader = `${b64('not json')}.${b64({ client_id: 'x' })}.c2ln`;
    await assertRejected(v.verify(badHeader), 'the token is malformed', badHeader);
    const signedGarbage = await new CompactSign(new TextEncoder().encode('not a claims set'))
      .setProtectedHeader({ alg: 'RS256', kid: rsa.kid })
      .sign(rsa.privateKey);
    await assertRejected(v.verify(signedGarbage), 'the token is malformed', signedGarbage);
  });
});

describe('JwtVerifier with a JWKS file', () => {
  let dir: string;
  let first: TestKey;
  let second: TestKey;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conveyor-jwt-'));
    first = await makeKey('ES256', 'file-1');
    second = await makeKey('RS256', 'file-2');
  });

  after(() => rm(dir, { recursive: true, force: true }));

  /** Writes the set with a distinct mtime, so the change shows even on coarse-grained filesystems. */
  async function writeJwks(path: string, content: string, mtimeSec: number) {
    await writeFile(path, content);
    await utimes(path, mtimeSec, mtimeSec);
  }

  test('keys are read from the file, and a rotated file is picked up after the check interval', async () => {
    const path = join(dir, 'rotating.json');
    await writeJwks(path, JSON.stringify({ keys: [first.jwk] }), 1_000_000);
    let now = NOW_MS;
    const v = new JwtVerifier(settingsFor({ jwksFile: path }), { now: () => now });
    const oldToken = await sign(first);
    const newToken = await sign(second);
    assert.equal((await v.verify(oldToken)).client, 'mes-line-1');

    await writeJwks(path, JSON.stringify({ keys: [second.jwk] }), 1_000_100);
    now += 500;
    await assertRejected(v.verify(newToken), "no key in the JWKS matches the token's kid");
    now += 500;
    assert.equal((await v.verify(newToken)).client, 'mes-line-1');
    await assertRejected(v.verify(oldToken), "no key in the JWKS matches the token's kid");
  });

  test('a missing or invalid file is a rejection, and a repaired file is read on the next token', async () => {
    const path = join(dir, 'broken.json');
    const v = new JwtVerifier(settingsFor({ jwksFile: path }), { now: () => NOW_MS });
    const token = await sign(first);
    await assertRejected(v.verify(token), 'the JWKS file could not be read');

    await writeJwks(path, '{"keys": [', 1_000_000);
    await assertRejected(v.verify(token), 'the JWKS file could not be read');
    await writeJwks(path, JSON.stringify({ nokeys: true }), 1_000_001);
    await assertRejected(v.verify(token), 'the JWKS file could not be read');

    await writeJwks(path, JSON.stringify({ keys: [first.jwk] }), 1_000_002);
    assert.equal((await v.verify(token)).client, 'mes-line-1');
  });
});

test('looksLikeJwt tells JWTs from API keys and garbage', async () => {
  const key = await makeKey('ES256', 'k');
  assert.equal(JwtVerifier.looksLikeJwt(await sign(key)), true);
  assert.equal(JwtVerifier.looksLikeJwt('cvy_3q2-7wJ8f_Zk0LxRcbVtaQm1nP4sUe9dYhG6iKoTlA'), false);
  for (const garbage of ['', 'abc', 'a.b', 'a.b.c.d', 'a..c', '.b.c', 'a b.c.d', 'eyJ.eyJ.sig=', 'a.b.c\n']) {
    assert.equal(JwtVerifier.looksLikeJwt(garbage), false, garbage);
  }
});
