import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import type { Hub } from '../../src/hub.js';
import type { CloudEvent, StoredEvent } from '../../src/model/envelope.js';
import { ADMIN_KEY } from '../helpers/hub.js';

export { type Exchange, type Reply, ScriptedServer } from '../helpers/scripted-server.js';

/** What `hub.app.inject` answers. */
export type Response = LightMyRequestResponse;

export interface CallOptions {
  /** API key or JWT; `null` sends no Authorization header. @default ADMIN_KEY */
  readonly key?: string | null;
  /** A string or Buffer is sent as is; anything else as JSON. */
  readonly body?: unknown;
  /** @default application/json when there is a body */
  readonly contentType?: string;
  readonly headers?: Record<string, string>;
}

/** One request through `inject`, as a client of the API would send it. */
export function call(hub: Hub, method: string, url: string, options: CallOptions = {}): Promise<Response> {
  const key = options.key === undefined ? ADMIN_KEY : options.key;
  const headers: Record<string, string> = { ...(key === null ? {} : { authorization: `Bearer ${key}` }) };
  let payload: string | Buffer | undefined;
  if (options.body !== undefined) {
    payload =
      typeof options.body === 'string' || Buffer.isBuffer(options.body)
        ? options.body
        : JSON.stringify(options.body);
    headers['content-type'] = options.contentType ?? 'application/json';
  } else if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  Object.assign(headers, options.headers);
  return hub.app.inject({
    method: method as 'GET',
    url,
    headers,
    ...(payload === undefined ? {} : { payload }),
  });
}

/** Creates a client through the admin API and returns its key (shown only in this answer). */
export async function createClient(
  hub: Hub,
  name: string,
  scopes: readonly string[],
  plants?: readonly string[],
  rateLimit?: { perSecond: number; burst?: number },
): Promise<string> {
  const res = await call(hub, 'POST', '/v1/clients', {
    body: { name, scopes, ...(plants ? { plants } : {}), ...(rateLimit ? { rateLimit } : {}) },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().key as string;
}

/** Publishes events as the admin (structured mode one by one) and returns them as stored. */
export async function publishAsAdmin(hub: Hub, events: readonly CloudEvent[]): Promise<StoredEvent[]> {
  const stored: StoredEvent[] = [];
  for (const event of events) {
    const res = await call(hub, 'POST', '/v1/events', {
      body: event,
      contentType: 'application/cloudevents+json',
    });
    assert.equal(res.statusCode, 202, res.body);
    stored.push({ ...event, sequence: res.json().events[0].sequence as number } as StoredEvent);
  }
  return stored;
}

/** Asserts an RFC 9457 problem with this status and registry code. */
export function assertProblem(res: Response, status: number, code: string, message?: string): void {
  const context = message ? `${message}: ` : '';
  assert.equal(res.statusCode, status, `${context}${res.statusCode} ${res.body}`);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/, `${context}content type`);
  const problem = res.json();
  assert.equal(problem.code, code, `${context}${res.body}`);
  assert.equal(problem.status, status);
  assert.equal(problem.type, `urn:conveyor:problem:${code}`);
  assert.equal(typeof problem.detail, 'string');
}

/** What an error body must never show: stack frames, file paths, framework error codes. */
export function assertNoInternals(text: string, what: string): void {
  for (const pattern of [
    /\/work\//,
    /node_modules/,
    /\.[cm]?js:\d+/,
    /\n\s+at\s/,
    /"stack"/,
    /FST_[A-Z_]+/,
    /fastify/i,
    /Maximum call stack/,
    /TypeError|RangeError|ReferenceError/,
  ]) {
    assert.doesNotMatch(text, pattern, `${what} shows internals (${pattern}): ${text.slice(0, 300)}`);
  }
}

/** SHA-256 hex of a key: what the store keeps instead of it. */
export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A promise with its resolver outside: lets a test decide when a held answer goes out. */
export function gate<T>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

const EC_KEY = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';

/**
 * Makes, in `dir`, a CA (`ca.pem`/`ca.key`), a server certificate for 127.0.0.1
 * (`server.pem`/`server.key`) and a client certificate from the same CA (`client.pem`/`client.key`).
 */
export function makeCertificates(dir: string): void {
  const openssl = (command: string) =>
    execFileSync('/usr/bin/openssl', command.split(' '), { cwd: dir, stdio: 'pipe' });
  openssl(
    `req -x509 ${EC_KEY} -keyout ca.key -out ca.pem -days 2 -subj /CN=conveyor-test-ca ` +
      '-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign',
  );
  const leaf = (name: string, cn: string, extensions: string) => {
    openssl(`req ${EC_KEY} -keyout ${name}.key -out ${name}.csr -subj /CN=${cn}`);
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(
      `x509 -req -in ${name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -CAserial ca.srl ` +
        `-out ${name}.pem -days 2 -extfile ${name}.ext`,
    );
  };
  leaf('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'line-7-gateway', 'extendedKeyUsage=clientAuth\n');
}

/** `/v1/dlq/:id/replay` → `/v1/dlq/{id}/replay`, the form route tables use. */
export const routeKey = (method: string, url: string) => `${method} ${url.replace(/:([A-Za-z]+)/g, '{$1}')}`;
