import assert from 'node:assert/strict';
import { test } from 'node:test';
import { instanceIdFromEnv } from './run-commands.js';

test('CONVEYOR_INSTANCE_ID: unset or empty is none; a name is kept; anything else is refused naming the fix', () => {
  assert.equal(instanceIdFromEnv(undefined), undefined);
  assert.equal(instanceIdFromEnv(''), undefined);
  assert.equal(instanceIdFromEnv('hub-1'), 'hub-1');
  assert.equal(instanceIdFromEnv('plant-p1.hub:2'), 'plant-p1.hub:2');
  for (const bad of ['hub 1', 'x'.repeat(129), 'hüb'])
    assert.throws(
      () => instanceIdFromEnv(bad),
      /CONVEYOR_INSTANCE_ID must be 1 to 128 printable ASCII characters/,
    );
});
