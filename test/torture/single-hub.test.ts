/**
 * The torture checker against one hub on SQLite: producers keep sending while the hub is killed
 * with SIGKILL during ingest and during delivery (two rounds), stopped with SIGTERM under load,
 * restarted with a route removed and another added, while a subscription replay and dead-letter
 * replays race live traffic and one endpoint fails, resets, stalls and answers late.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSingleHubScenario } from '../../src/torture/scenarios.js';
import { assertKept } from './report.js';

const seed = Number(process.env.CONVEYOR_TORTURE_SEED ?? Date.now() % 1_000_000);

test('one hub, killed and restarted under load: nothing acknowledged lost, order per key kept, duplicates bounded', {
  timeout: 240_000,
}, async (t) => {
  const result = await runSingleHubScenario({
    rounds: 2,
    eventsBetweenFaults: 400,
    ratePerSecond: 400,
    seed,
  });
  assertKept(t, result);
  const faults = result.faults.join('\n');
  assert.equal(faults.match(/kill -9 during ingest/g)?.length, 2, faults);
  assert.equal(faults.match(/kill -9 during delivery/g)?.length, 2, faults);
  assert.match(faults, /SIGTERM under load/);
  assert.match(faults, /SIGTERM, restart with the new config/);
  assert.match(faults, /subscription replay of p1-production/);
  const poison = result.reports.find((r) => r.route === 'maintenance-poison');
  assert.ok(poison && poison.dlq > 0, 'some events were dead-lettered and replayed');
  assert.ok(result.reports.some((r) => r.route === 'added-later' && r.delivered > 0));
});
