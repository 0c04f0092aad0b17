/**
 * The torture checker with the hub's data folder on a small tmpfs that runs full twice: the hub
 * must not acknowledge what it could not store, and everything it acknowledged must be in the log
 * and delivered once space is back (after a kill -9 while full, and after a SIGTERM). Needs root
 * for the mount; otherwise it fails with the command to run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runDiskFullScenario } from '../../src/torture/scenarios.js';
import { assertKept } from './report.js';

const seed = Number(process.env.CONVEYOR_TORTURE_SEED ?? Date.now() % 1_000_000);

test('disk full on the data folder: never a 2xx for what is not stored, nothing acknowledged lost', {
  timeout: 180_000,
}, async (t) => {
  const result = await runDiskFullScenario({ eventsBetweenFaults: 400, seed });
  assertKept(t, result);
  assert.equal(result.faults.join('\n').match(/requests refused/g)?.length, 2, result.faults.join('\n'));
});
