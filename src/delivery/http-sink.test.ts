import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { makeEvent } from '../../test/helpers/events.js';
import type { HttpConnectorSettings } from '../connectors/http/http-connector.js';
import type { StoredEvent } from '../model/envelope.js';
import { ManualClock } from './clock.js';
import { HttpSink } from './http-sink.js';

type Answer = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let answer: Answer = (_req, res) => res.writeHead(204).end();
const received: Array<{ contentType: string; body: string }> = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    received.push({ contentType: String(req.headers['content-type']), body });
    answer(req, res, body);
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/in`;

const clock = new ManualClock(Date.parse('2026-03-01T08:00:00Z'));
const settings: HttpConnectorSettings = {
  name: 'rx',
  url,
  baseUrl: null,
  timeoutMs: null,
  headers: { 'x-api-key': 'k' },
  circuitBreaker: { failureThreshold: 5, resetAfterMs: 30_000 },
  connections: 2,
  connectionsSet: true,
  pipelining: 1,
};
const sink = new HttpSink(settings, clock);
after(async () => {
  await sink.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const event = (): StoredEvent => ({ ...makeEvent(), sequence: 7 });

test('a 2xx is delivered, and the endpoint got the event in structured mode with the connector headers', async () => {
  answer = (req, res) => res.writeHead(req.headers['x-api-key'] === 'k' ? 200 : 401).end('ignored body');
  const sent = event();
  const outcome = await sink.send(sent, null, 1_000);
  assert.equal(outcome.kind, 'delivered');
  assert.equal(outcome.status, 200);
  const last = received.at(-1);
  assert.equal(last?.contentType, 'application/cloudevents+json');
  assert.deepEqual(JSON.parse(last?.body ?? ''), { ...sent });
});

test("a 503 is retried after its Retry-After, with the answer's text in the error", async () => {
  answer = (_req, res) => res.writeHead(503, { 'retry-after': '120' }).end('maintenance window');
  const outcome = await sink.send(event(), null, 1_000);
  assert.equal(outcome.kind, 'retry');
  assert.equal(outcome.status, 503);
  assert.equal(outcome.error, 'HTTP 503: maintenance window');
  assert.equal(outcome.kind === 'retry' ? outcome.retryAfterMs : null, 120_000);
});

test('a refusal keeps the first 300 characters of a long answer, multi-byte ones whole', async () => {
  const text = 'é'.repeat(5_000);
  answer = (_req, res) => {
    // Written in pieces, so a character may fall across two chunks.
    res.writeHead(422, { 'content-type': 'text/plain; charset=utf-8' });
    const bytes = Buffer.from(text, 'utf8');
    for (let i = 0; i < bytes.length; i += 333) res.write(bytes.subarray(i, i + 333));
    res.end();
  };
  const outcome = await sink.send(event(), null, 1_000);
  assert.equal(outcome.kind, 'rejected');
  assert.equal(outcome.error, `HTTP 422: ${'é'.repeat(300)}`);
});

test('an endpoint that does not answer in time is a retry naming the timeout; one that stops is "stopped"', async () => {
  const hanging: ServerResponse[] = [];
  answer = (_req, res) => hanging.push(res);
  const late = await sink.send(event(), null, 50);
  assert.equal(late.kind, 'retry');
  assert.equal(late.error, 'timeout after 50 ms');

  const stop = new AbortController();
  const sending = sink.send(event(), null, 10_000, stop.signal);
  while (hanging.length < 2) await new Promise((resolve) => setImmediate(resolve));
  stop.abort();
  const stopped = await sending;
  assert.equal(stopped.kind, 'retry');
  assert.equal(stopped.error, 'stopped');
  for (const res of hanging) res.destroy();
});
