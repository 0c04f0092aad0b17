import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfigFromObject } from '../config/index.js';
import { ProblemError } from '../errors/problem.js';
import { LaneAdmission } from './lane-admission.js';

const config = loadConfigFromObject({ lanes: { bulk: { ingressPerSecond: 100, maxQueued: 1000 } } });

function refusal(fn: () => void): ProblemError | null {
  try {
    fn();
    return null;
  } catch (error) {
    assert.ok(error instanceof ProblemError);
    return error;
  }
}

test('the bulk lane admits its rate, then answers rate-limited with the seconds to wait', () => {
  let now = 0;
  const admission = new LaneAdmission(
    config,
    () => 0,
    () => now,
  );
  const telemetry = Array.from({ length: 100 }, () => 'telemetry.machine.counter');
  assert.equal(
    refusal(() => admission.admit(telemetry)),
    null,
  );
  const refused = refusal(() => admission.admit(['telemetry.machine.state']));
  assert.equal(refused?.code, 'rate-limited');
  assert.ok((refused?.retryAfterSeconds ?? 0) > 0);
  assert.equal(
    refusal(() => admission.admit(['production.order.released'])),
    null,
    'the critical lane is not limited',
  );
  now = 500;
  assert.equal(
    refusal(() => admission.admit(Array.from({ length: 50 }, () => 'telemetry.machine.counter'))),
    null,
  );
});

test('a lane whose backlog reaches maxQueued refuses more of its events', () => {
  let backlog = 999;
  const admission = new LaneAdmission(
    config,
    (lane) => (lane === 'bulk' ? backlog : 0),
    () => 0,
  );
  assert.equal(
    refusal(() => admission.admit(['telemetry.machine.state'])),
    null,
  );
  backlog = 1000;
  const refused = refusal(() => admission.admit(['telemetry.machine.state']));
  assert.equal(refused?.code, 'rate-limited');
  assert.match(refused?.message ?? '', /maxQueued/);
  assert.equal(
    refusal(() => admission.admit(['quality.hold.placed'])),
    null,
  );
});

test('an exhausted bulk lane refuses telemetry before parsing, but never a request without a telemetry type', () => {
  const admission = new LaneAdmission(
    config,
    () => 0,
    () => 0,
  );
  admission.admit(Array.from({ length: 100 }, () => 'telemetry.machine.counter'));
  const flood = Buffer.from('[{"specversion":"1.0","type":"telemetry.machine.counter","id":"1"}]');
  assert.equal(refusal(() => admission.preCheck(flood))?.code, 'rate-limited');
  assert.equal(
    refusal(() => admission.preCheck('telemetry.machine.state'))?.code,
    'rate-limited',
    'binary mode ce-type',
  );
  const critical = Buffer.from(
    '[{"type":"production.order.released","data":{"note":"telemetry.machine.counter"}}]',
  );
  assert.equal(
    refusal(() => admission.preCheck(critical)),
    null,
  );
});
