import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BenchFailure, groupGuard } from './bench-util.js';

test('a failing benchmark group is recorded and the next group still runs', async () => {
  const failures: BenchFailure[] = [];
  const lines: string[] = [];
  const guarded = groupGuard(failures, (line) => lines.push(line));
  const ran: string[] = [];
  await guarded('ingest', async () => {
    ran.push('ingest');
  });
  await guarded('replay', async () => {
    throw new Error('the hub did not exit within 10000 ms of SIGTERM');
  });
  await guarded('commands', async () => {
    ran.push('commands');
  });
  assert.deepEqual(ran, ['ingest', 'commands']);
  assert.deepEqual(failures, [{ group: 'replay', error: 'the hub did not exit within 10000 ms of SIGTERM' }]);
  assert.deepEqual(lines, ['replay: FAILED: the hub did not exit within 10000 ms of SIGTERM']);
});
