import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { ScenarioResult } from '../../src/torture/scenario.js';

/**
 * Prints a torture run's table and asserts the promise: nothing acknowledged lost (from the log or
 * from any route), nothing reordered per key, nothing unexpected, duplicates within the documented
 * bound and each explained by a fault; and that the run was not vacuous (every route had traffic).
 */
export function assertKept(t: TestContext, result: ScenarioResult): void {
  for (const line of result.table.split('\n')) t.diagnostic(line);
  for (const r of result.reports) assert.ok(r.acked > 0, `route ${r.route} was given no acknowledged events`);
  assert.ok(result.producers.acked > 0, 'nothing was acknowledged');
  assert.deepEqual(
    result.violations,
    [],
    `the promise was broken (seed ${result.seed}):\n${result.violations.join('\n')}`,
  );
}
