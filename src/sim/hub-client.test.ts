import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { HubClient, HubClientClosedError, problemCode, retryAfterMs } from './hub-client.js';
import { accepted, problem, TestHub } from './test-hub.js';

describe('HubClient', () => {
  const hub = new TestHub();
  const waits: number[] = [];
  let client: HubClient;

  before(async () => {
    await hub.listen();
  });
  beforeEach(() => {
    hub.reset();
    waits.length = 0;
    client = new HubClient(hub.url, 'key-1', {
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
  });
  after(async () => {
    await client.close();
    await hub.close();
  });

  it('sends a command as JSON with the key and an Idempotency-Key, and parses the answer', async () => {
    const response = await client.command(
      'POST',
      '/v1/quality/holds',
      { plant: 'P1' },
      { idempotencyKey: 'k1' },
    );
    assert.equal(response.status, 202);
    assert.deepEqual(response.body, { events: [{ id: 'e1', type: 'x', sequence: 1, subject: 's' }] });
    assert.equal(response.attempts, 1);
    const [request] = hub.requests;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.headers.authorization, 'Bearer key-1');
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.equal(request?.headers['idempotency-key'], 'k1');
    assert.deepEqual(request?.json, { plant: 'P1' });
  });

  it('sends text bodies as they are, with the given content type', async () => {
    await client.command('POST', '/v1/suppliers/S1/asns', 'ISA*...~', { contentType: 'application/edi-x12' });
    assert.equal(hub.requests[0]?.body, 'ISA*...~');
    assert.equal(hub.requests[0]?.headers['content-type'], 'application/edi-x12');
    assert.ok(String(hub.requests[0]?.headers['idempotency-key']).length > 0, 'a key is generated');
  });

  it('retries a 503 after its Retry-After with the same Idempotency-Key', async () => {
    hub.script = (request, nth) =>
      nth === 1 ? { ...problem(503, 'unavailable'), headers: { 'retry-after': '2' } } : accepted(request);
    const response = await client.command('POST', '/v1/material-consumptions', { orderId: 'O1' });
    assert.equal(response.status, 202);
    assert.equal(response.attempts, 2);
    assert.deepEqual(waits, [2000]);
    assert.equal(client.retries, 1);
    const keys = hub.requests.map((r) => r.headers['idempotency-key']);
    assert.equal(keys.length, 2);
    assert.equal(keys[0], keys[1]);
    assert.deepEqual(hub.requests[1]?.json, { orderId: 'O1' });
  });

  it('backs off exponentially without Retry-After and gives up after maxAttempts with the last answer', async () => {
    hub.script = () => ({ status: 429 });
    const response = await client.command('POST', '/v1/x', {}, { maxAttempts: 3 });
    assert.equal(response.status, 429);
    assert.equal(response.attempts, 3);
    assert.deepEqual(waits, [500, 1000]);
    assert.equal(hub.requests.length, 3);
  });

  it('does not retry earlier than a Retry-After beyond its longest wait', async () => {
    const patient = new HubClient(hub.url, 'k', {
      maxRetryDelayMs: 5_000,
      sleep: async (ms) => void waits.push(ms),
    });
    hub.script = () => ({ ...problem(503, 'unavailable'), headers: { 'retry-after': '60' } });
    const response = await patient.command('POST', '/v1/x', {});
    await patient.close();
    assert.equal(response.status, 503);
    assert.equal(response.attempts, 1);
    assert.deepEqual(waits, []);
  });

  it('does not retry answers other than 503 and 429', async () => {
    hub.script = () =>
      problem(409, 'shipment-blocked-by-quality-hold', { holds: [{ holdId: 'H1', lots: ['L1'] }] });
    const response = await client.command('POST', '/v1/shipments/S1/confirmation', {});
    assert.equal(response.status, 409);
    assert.equal(problemCode(response.body), 'shipment-blocked-by-quality-hold');
    assert.equal(hub.requests.length, 1);
  });

  it('retries a refused connection and rejects once the attempts are used up', async () => {
    const unreachable = new HubClient('http://127.0.0.1:1', 'k', {
      maxAttempts: 2,
      sleep: async (ms) => void waits.push(ms),
    });
    await assert.rejects(unreachable.command('POST', '/v1/x', {}));
    await unreachable.close();
    assert.deepEqual(waits, [500]);
  });

  it('reads its URL and key late, once the hub is up', async () => {
    let url = '';
    const late = new HubClient(
      () => url,
      () => 'late-key',
    );
    url = hub.url;
    assert.equal(await late.publish([{ id: '1' }]), 202);
    await late.close();
    assert.equal(hub.requests[0]?.path, '/v1/events');
    assert.equal(hub.requests[0]?.headers.authorization, 'Bearer late-key');
  });

  it('ends a command waiting to retry when closed', async () => {
    const real = new HubClient(hub.url, 'k');
    hub.script = () => ({ ...problem(503, 'unavailable'), headers: { 'retry-after': '20' } });
    const pending = assert.rejects(real.command('POST', '/v1/x', {}), HubClientClosedError);
    await hub.received(1);
    await real.close();
    await pending;
    await assert.rejects(real.command('POST', '/v1/x', {}), HubClientClosedError);
  });
});

describe('retryAfterMs', () => {
  it('reads delay-seconds and HTTP dates', () => {
    assert.equal(retryAfterMs('3'), 3000);
    assert.equal(retryAfterMs(['0']), 0);
    const now = Date.parse('2024-01-01T00:00:00Z');
    assert.equal(retryAfterMs('Mon, 01 Jan 2024 00:00:05 GMT', now), 5000);
    assert.equal(retryAfterMs('soon'), undefined);
    assert.equal(retryAfterMs(undefined), undefined);
  });
});
