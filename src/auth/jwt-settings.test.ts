import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { compileJwtSettings, type RawJwtSettings } from './jwt-settings.js';

const BASE_DIR = resolve('/etc/conveyor');
const BASE: RawJwtSettings = { issuer: 'https://idp.example.com/', audience: 'conveyor' };

function compile(raw: RawJwtSettings | undefined) {
  const problems: Array<{ path: string; message: string }> = [];
  return { settings: compileJwtSettings(raw, BASE_DIR, problems), problems };
}

test('without auth.jwt there are no settings and no problems', () => {
  assert.deepEqual(compile(undefined), { settings: null, problems: [] });
});

test('defaults fill in scopeClaim and clockTolerance, and jwksFile resolves against the base dir', () => {
  assert.deepEqual(compile({ ...BASE, jwksFile: 'keys/jwks.json' }), {
    settings: {
      issuer: 'https://idp.example.com/',
      audience: 'conveyor',
      jwksUrl: null,
      jwksFile: resolve(BASE_DIR, 'keys/jwks.json'),
      scopeClaim: 'scope',
      clockToleranceSec: 30,
    },
    problems: [],
  });
});

test('given values are kept, and clockTolerance is stored in seconds', () => {
  const { settings, problems } = compile({
    ...BASE,
    jwksUrl: 'https://idp.example.com/.well-known/jwks.json',
    scopeClaim: 'scp',
    clockTolerance: '500ms',
  });
  assert.deepEqual(problems, []);
  assert.equal(settings?.jwksUrl, 'https://idp.example.com/.well-known/jwks.json');
  assert.equal(settings?.jwksFile, null);
  assert.equal(settings?.scopeClaim, 'scp');
  assert.equal(settings?.clockToleranceSec, 0.5);
});

test('an absolute jwksFile is kept as it is', () => {
  const absolute = resolve('/var/lib/conveyor/jwks.json');
  assert.equal(compile({ ...BASE, jwksFile: absolute }).settings?.jwksFile, absolute);
});

test('both jwksUrl and jwksFile is a problem', () => {
  const { settings, problems } = compile({
    ...BASE,
    jwksUrl: 'https://idp.example.com/jwks',
    jwksFile: 'jwks.json',
  });
  assert.equal(settings, null);
  assert.deepEqual(problems, [
    { path: 'auth.jwt.jwksUrl', message: 'set either jwksUrl or jwksFile, not both' },
  ]);
});

test('neither jwksUrl nor jwksFile is a problem that says what to set', () => {
  const { settings, problems } = compile(BASE);
  assert.equal(settings, null);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.path, 'auth.jwt.jwksUrl');
  assert.match(problems[0]?.message ?? '', /set jwksUrl .* or jwksFile/);
});

test('a jwksUrl over plain http to a non-loopback host is refused', () => {
  for (const jwksUrl of [
    'http://idp.example.com/jwks',
    'http://10.0.0.5/jwks',
    'http://127.0.0.1.nip.io/jwks',
  ]) {
    const { settings, problems } = compile({ ...BASE, jwksUrl });
    assert.equal(settings, null, jwksUrl);
    assert.equal(problems.length, 1, jwksUrl);
    assert.equal(problems[0]?.path, 'auth.jwt.jwksUrl');
    assert.match(problems[0]?.message ?? '', /over https/);
  }
});

test('a jwksUrl that is not http(s), or not a URL, is refused', () => {
  for (const jwksUrl of ['ftp://idp.example.com/jwks', 'file:///etc/jwks.json', 'idp.example.com/jwks']) {
    const { settings, problems } = compile({ ...BASE, jwksUrl });
    assert.equal(settings, null, jwksUrl);
    assert.equal(problems[0]?.path, 'auth.jwt.jwksUrl', jwksUrl);
  }
});

test('plain http is allowed to a loopback host', () => {
  for (const jwksUrl of ['http://127.0.0.1:8080/jwks', 'http://localhost/jwks', 'http://[::1]:9000/jwks']) {
    const { settings, problems } = compile({ ...BASE, jwksUrl });
    assert.deepEqual(problems, [], jwksUrl);
    assert.equal(settings?.jwksUrl, jwksUrl);
  }
});

test('a malformed clockTolerance is a problem at its path', () => {
  const { settings, problems } = compile({ ...BASE, jwksFile: 'jwks.json', clockTolerance: '30 seconds' });
  assert.equal(settings, null);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.path, 'auth.jwt.clockTolerance');
  assert.match(problems[0]?.message ?? '', /write it like/);
});

test('problems found elsewhere in the config do not void valid JWT settings', () => {
  const problems = [{ path: 'routes[0].sink', message: 'no connector named "x"' }];
  const settings = compileJwtSettings({ ...BASE, jwksFile: 'jwks.json' }, BASE_DIR, problems);
  assert.notEqual(settings, null);
  assert.equal(problems.length, 1);
});
