import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { Agent, request } from 'undici';
import { clientCommonName, loadTlsOptions, TlsConfigError } from './tls.js';

const OPENSSL = '/usr/bin/openssl';
const dir = mkdtempSync(join(tmpdir(), 'conveyor-tls-'));
const file = (name: string) => join(dir, name);

/** Runs openssl in the temp dir; `command` is split on spaces, so names there must have none. */
function openssl(command: string): void {
  execFileSync(OPENSSL, command.split(' '), { cwd: dir, stdio: 'pipe' });
}

const EC_KEY = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';

/** A self-signed CA with the extensions TLS verification insists on. */
function makeCa(name: string): void {
  openssl(
    `req -x509 ${EC_KEY} -keyout ${name}.key -out ${name}.pem -days 2 -subj /CN=${name} ` +
      '-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign',
  );
}

/** A certificate for `cn` issued by `ca`, with `extensions` (an openssl extfile). */
function makeLeaf(name: string, ca: string, cn: string, extensions: string): void {
  openssl(`req ${EC_KEY} -keyout ${name}.key -out ${name}.csr -subj /CN=${cn}`);
  writeFileSync(file(`${name}.ext`), extensions);
  openssl(
    `x509 -req -in ${name}.csr -CA ${ca}.pem -CAkey ${ca}.key -CAcreateserial -CAserial ${ca}.srl ` +
      `-out ${name}.pem -days 2 -extfile ${name}.ext`,
  );
}

before(() => {
  makeCa('ca');
  makeCa('other-ca');
  makeLeaf('server', 'ca', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  makeLeaf('client', 'ca', 'line-7-gateway', 'extendedKeyUsage=clientAuth\n');
  makeLeaf('intruder', 'other-ca', 'intruder', 'extendedKeyUsage=clientAuth\n');
  writeFileSync(file('not-pem.txt'), 'this is not a certificate\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

const read = (name: string) => readFileSync(file(name));

/** Serves GET /whoami over HTTPS on 127.0.0.1:0; answers the verified client CN. */
async function startServer(ca: string | null) {
  const https = loadTlsOptions({ cert: file('server.pem'), key: file('server.key'), ca });
  const app = Fastify({ https });
  app.get('/whoami', async (req) => ({ cn: clientCommonName(req.raw.socket) }));
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url: `${address}/whoami` };
}

/** One request through a fresh agent (no pooled connection leaks between cases); the agent is closed after. */
async function get(url: string, connect: { cert?: Buffer; key?: Buffer }) {
  const agent = new Agent({ connect: { ca: read('ca.pem'), ...connect } });
  try {
    const response = await request(url, { dispatcher: agent });
    return { status: response.statusCode, body: (await response.body.json()) as { cn: string | null } };
  } finally {
    await agent.close();
  }
}

describe('loadTlsOptions over a real HTTPS listener', () => {
  test('without ca: server TLS only, no client certificate asked for', async () => {
    const { app, url } = await startServer(null);
    try {
      const options = loadTlsOptions({ cert: file('server.pem'), key: file('server.key'), ca: null });
      assert.equal(options.requestCert, false);
      assert.equal(options.ca, undefined);
      assert.equal(options.minVersion, 'TLSv1.2');
      assert.deepEqual(await get(url, {}), { status: 200, body: { cn: null } });
      // A client certificate offered unasked is not "verified", so the helper still says null.
      const offered = await get(url, { cert: read('client.pem'), key: read('client.key') });
      assert.deepEqual(offered, { status: 200, body: { cn: null } });
    } finally {
      await app.close();
    }
  });

  test('with ca: only clients holding a certificate from that CA get through', async () => {
    const { app, url } = await startServer(file('ca.pem'));
    try {
      const options = loadTlsOptions({
        cert: file('server.pem'),
        key: file('server.key'),
        ca: file('ca.pem'),
      });
      assert.equal(options.requestCert, true);
      assert.equal(options.rejectUnauthorized, true);
      assert.deepEqual(options.ca, read('ca.pem'));

      // The same server answers the right client below, so these failures are the TLS layer's refusals.
      await assert.rejects(get(url, {}), 'no client certificate');
      await assert.rejects(
        get(url, { cert: read('intruder.pem'), key: read('intruder.key') }),
        'a certificate from another CA',
      );
      const ok = await get(url, { cert: read('client.pem'), key: read('client.key') });
      assert.deepEqual(ok, { status: 200, body: { cn: 'line-7-gateway' } });
    } finally {
      await app.close();
    }
  });
});

describe('loadTlsOptions refuses bad files with the setting and the fix', () => {
  const expectError = (tls: { cert: string; key: string; ca: string | null }, message: string | RegExp) =>
    assert.throws(
      () => loadTlsOptions(tls),
      (error: unknown) => {
        assert.ok(error instanceof TlsConfigError);
        if (typeof message === 'string') assert.equal(error.message, message);
        else assert.match(error.message, message);
        return true;
      },
    );

  test('a missing certificate file', () => {
    const missing = file('missing.pem');
    expectError(
      { cert: missing, key: file('server.key'), ca: null },
      `server.tls.cert: cannot read ${missing} (ENOENT); point it at a PEM certificate file`,
    );
  });

  test('a missing key file and a missing CA file', () => {
    expectError(
      { cert: file('server.pem'), key: file('missing.key'), ca: null },
      /^server\.tls\.key: cannot read .*missing\.key \(ENOENT\); point it at/,
    );
    expectError(
      { cert: file('server.pem'), key: file('server.key'), ca: file('missing-ca.pem') },
      /^server\.tls\.ca: cannot read .*missing-ca\.pem \(ENOENT\); point it at/,
    );
  });

  test('files that are not PEM', () => {
    expectError(
      { cert: file('not-pem.txt'), key: file('server.key'), ca: null },
      `server.tls.cert: ${file('not-pem.txt')} is not a PEM certificate`,
    );
    expectError(
      { cert: file('server.pem'), key: file('not-pem.txt'), ca: null },
      `server.tls.key: ${file('not-pem.txt')} is not a PEM private key`,
    );
    // The usual mix-up: the key where the certificate belongs, and the other way round.
    expectError(
      { cert: file('server.key'), key: file('server.pem'), ca: null },
      `server.tls.cert: ${file('server.key')} is not a PEM certificate`,
    );
    expectError(
      { cert: file('server.pem'), key: file('server.key'), ca: file('not-pem.txt') },
      `server.tls.ca: ${file('not-pem.txt')} is not a PEM CA certificate`,
    );
  });

  test('a key that does not belong to the certificate', () => {
    expectError(
      { cert: file('server.pem'), key: file('client.key'), ca: null },
      'server.tls.key: the key does not match the certificate in server.tls.cert',
    );
  });

  test('an encrypted key', () => {
    openssl('pkey -in server.key -aes256 -passout pass:secret -out enc.key');
    expectError(
      { cert: file('server.pem'), key: file('enc.key'), ca: null },
      /^server\.tls\.key: .* is encrypted;/,
    );
  });
});

test('clientCommonName is null for anything but a verified TLS socket', () => {
  assert.equal(clientCommonName(undefined), null);
  assert.equal(clientCommonName({ authorized: true }), null);
});
