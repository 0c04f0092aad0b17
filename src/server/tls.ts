import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TLSSocket } from 'node:tls';

/** `server.tls` as the compiled config holds it: absolute paths to PEM files. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string | null;
}

/** What fastify's `https` option takes (it is handed to `https.createServer`). */
export interface TlsServerOptions {
  key: Buffer;
  cert: Buffer;
  ca?: Buffer;
  requestCert: boolean;
  rejectUnauthorized: boolean;
  minVersion: 'TLSv1.2';
}

/** A `server.tls` setting the hub cannot serve with; the message names the key and the fix. */
export class TlsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function readPem(configKey: string, path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new TlsConfigError(`${configKey}: cannot read ${path} (${code}); point it at ${what}`);
  }
}

/** Every certificate in a PEM file (a CA file may be a bundle); none is an error. */
function parseCertificates(configKey: string, path: string, pem: Buffer, what: string): X509Certificate[] {
  const blocks = pem.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  // X509Certificate also takes DER; requiring the PEM armour keeps the error about the file's form honest.
  if (blocks.length === 0) throw new TlsConfigError(`${configKey}: ${path} is not ${what}`);
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new TlsConfigError(
        `${configKey}: ${path} holds a certificate that cannot be parsed (${(error as Error).message})`,
      );
    }
  });
}

function parsePrivateKey(path: string, pem: Buffer): KeyObject {
  const text = pem.toString('latin1');
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text))
    throw new TlsConfigError(`server.tls.key: ${path} is not a PEM private key`);
  if (text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || text.includes('Proc-Type: 4,ENCRYPTED'))
    // The hub starts unattended, so there is nowhere to ask for a passphrase.
    throw new TlsConfigError(
      `server.tls.key: ${path} is encrypted; store it unencrypted with restricted file permissions ` +
        `(openssl pkey -in ${path} -out <new file>)`,
    );
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new TlsConfigError(
      `server.tls.key: ${path} is not a PEM private key (${(error as Error).message})`,
    );
  }
}

/**
 * Reads and checks `server.tls` into fastify's `https` option. Everything is checked up front so a
 * bad file fails the start with a message naming the setting, not the first handshake with an
 * OpenSSL code. With `ca` set the listener requires client certificates issued by that CA (mTLS).
 */
export function loadTlsOptions(tls: TlsFiles): TlsServerOptions {
  const cert = readPem('server.tls.cert', tls.cert, 'a PEM certificate file');
  // The first certificate is the server's own; any further ones are its chain.
  const [leaf] = parseCertificates('server.tls.cert', tls.cert, cert, 'a PEM certificate');
  const key = readPem('server.tls.key', tls.key, 'the PEM private key of server.tls.cert');
  const privateKey = parsePrivateKey(tls.key, key);
  if (!leaf!.checkPrivateKey(privateKey))
    throw new TlsConfigError('server.tls.key: the key does not match the certificate in server.tls.cert');

  const options: TlsServerOptions = {
    key,
    cert,
    requestCert: false,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  };
  if (tls.ca !== null) {
    const ca = readPem(
      'server.tls.ca',
      tls.ca,
      'the PEM certificate(s) of the CA that issues client certificates',
    );
    parseCertificates('server.tls.ca', tls.ca, ca, 'a PEM CA certificate');
    // `ca` replaces the system roots for client certificates: only this CA's clients get in.
    options.ca = ca;
    options.requestCert = true;
    options.rejectUnauthorized = true;
  }
  return options;
}

/**
 * The subject CN of the client certificate the TLS layer verified on this socket (pass
 * `request.raw.socket`), or null: plain HTTP, no certificate, an unverified one, or a subject
 * with no single CN (several CNs make the identity ambiguous).
 */
export function clientCommonName(socket: unknown): string | null {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return null;
  const cn: unknown = socket.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : null;
}
