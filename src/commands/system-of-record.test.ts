import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ScriptedServer } from '../../test/helpers/scripted-server.js';
import { compileHttpConnector } from '../connectors/http/http-connector.js';
import { ManualClock } from '../delivery/clock.js';
import { ProblemError } from '../errors/problem.js';
import { expandPath, SystemOfRecord } from './system-of-record.js';

let wms: ScriptedServer;

before(async () => {
  wms = new ScriptedServer();
  await wms.listen();
});
after(() => wms.close());

function system(clock: ManualClock, extra: Record<string, unknown> = {}): SystemOfRecord {
  const problems: Array<{ path: string; message: string }> = [];
  const settings = compileHttpConnector(
    'wms',
    {
      kind: 'http',
      baseUrl: `${wms.url}/api`,
      timeout: '2s',
      circuitBreaker: { failureThreshold: 2, resetAfter: '30s' },
      ...extra,
    },
    problems,
  );
  assert.deepEqual(problems, []);
  return new SystemOfRecord(settings, clock);
}

async function problemOf(call: Promise<unknown>): Promise<ProblemError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ProblemError) return error;
    throw error;
  }
  assert.fail('expected a problem');
}

test('expandPath fills and percent-encodes placeholders, and refuses unknown ones', () => {
  assert.equal(
    expandPath('/shipments/{shipmentId}/confirm', { shipmentId: 'SH 1/2' }),
    '/shipments/SH%201%2F2/confirm',
  );
  assert.throws(() => expandPath('/x/{other}', {}), /\{other\}/);
});

test('2xx answers come back with their JSON; a 4xx is the system refusing, which keeps the circuit closed', async () => {
  const sor = system(new ManualClock());
  try {
    wms.reply = () => ({ status: 201, body: { reservationId: 'R-1' } });
    const answer = await sor.post('/reservations', { material: 'RM-1' }, { traceparent: 'x' });
    assert.deepEqual(answer, { status: 201, body: { reservationId: 'R-1' } });
    const request = wms.requests.at(-1);
    assert.equal(request?.path, '/api/reservations');
    assert.deepEqual(request?.json, { material: 'RM-1' });
    wms.reply = () => ({ status: 409, body: { error: 'insufficient-stock' } });
    for (let i = 0; i < 3; i++) {
      const refused = await problemOf(sor.post('/reservations', {}));
      assert.equal(refused.code, 'refused-by-system-of-record');
      assert.deepEqual(refused.extensions.upstream, { status: 409, body: { error: 'insufficient-stock' } });
    }
    assert.equal(sor.breaker.state, 'closed');
  } finally {
    await sor.close();
  }
});

test('5xx and connection failures are 503 with Retry-After; after the threshold the circuit answers at once, then a probe closes it', async () => {
  const clock = new ManualClock();
  const sor = system(clock);
  try {
    wms.reply = () => ({ status: 503, body: {}, headers: { 'retry-after': '7' } });
    const first = await problemOf(sor.post('/reservations', {}));
    assert.equal(first.code, 'system-of-record-unavailable');
    assert.equal(first.retryAfterSeconds, 7, 'the system’s own Retry-After is passed on');
    await problemOf(sor.post('/reservations', {}));
    assert.equal(sor.breaker.state, 'open');
    const asked = wms.requests.length;
    const open = await problemOf(sor.post('/reservations', {}));
    assert.equal(open.code, 'system-of-record-unavailable');
    assert.match(open.message, /circuit is open/);
    assert.equal(open.retryAfterSeconds, 30);
    assert.equal(wms.requests.length, asked, 'an open circuit does not call the system');
    await clock.advance(30_000);
    wms.reply = () => ({ status: 200, body: { ok: true } });
    assert.equal((await sor.post('/reservations', {})).status, 200);
    assert.equal(sor.breaker.state, 'closed');
  } finally {
    await sor.close();
  }
  const unreachable = new SystemOfRecord(
    compileHttpConnector('down', { kind: 'http', baseUrl: 'http://127.0.0.1:1' }, []),
    new ManualClock(),
  );
  try {
    const refused = await problemOf(unreachable.post('/x', {}));
    assert.equal(refused.code, 'system-of-record-unavailable');
    assert.match(refused.message, /cannot be reached \(ECONNREFUSED\)/);
  } finally {
    await unreachable.close();
  }
});

test('a system slower than the connector timeout is 503 once the (injected) clock passes the timeout', async () => {
  const clock = new ManualClock();
  const sor = system(clock);
  try {
    wms.reply = () => new Promise(() => undefined); // never answers
    const asked = wms.requests.length;
    const call = problemOf(sor.post('/reservations', {}));
    await wms.received(asked + 1);
    await clock.advance(2_000);
    const problem = await call;
    assert.equal(problem.code, 'system-of-record-unavailable');
    assert.match(problem.message, /did not answer within 2000 ms/);
  } finally {
    await sor.close();
  }
});

test('an answer that is not JSON is kept as text, and one over 1 MiB is a failure', async () => {
  const sor = system(new ManualClock());
  try {
    wms.reply = () => ({ status: 200, body: '<ok/>' });
    assert.deepEqual((await sor.post('/reservations', {})).body, { text: '<ok/>' });
    wms.reply = () => ({ status: 200, body: 'x'.repeat(2 * 1024 * 1024) });
    const big = await problemOf(sor.post('/reservations', {}));
    assert.equal(big.code, 'system-of-record-unavailable');
  } finally {
    await sor.close();
  }
});
