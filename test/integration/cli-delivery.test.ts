import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { CONVEYOR_CLI } from '../../src/bench/child-process.js';
import { startHubProcess } from '../helpers/hub-process.js';

const run = promisify(execFile);
const KEY = 'cvy_cli-test-admin-key-abcdefghijklmnopqrstuvw';

test('the dlq and replay commands work against a running demo, with progress', {
  timeout: 90_000,
}, async () => {
  const demo = await startHubProcess(
    ['demo', '--port', '0', '--data', mkdtempSync(join(tmpdir(), 'conveyor-cli-')), '--rate', '30'],
    {
      CONVEYOR_ADMIN_KEY: KEY,
    },
  );
  const env = { ...process.env, CONVEYOR_URL: demo.url, CONVEYOR_KEY: KEY };
  const cli = (...args: string[]) => run(process.execPath, [CONVEYOR_CLI, ...args], { env });
  try {
    // The demo's MES refuses every 25th order (unknown material): wait for two dead letters.
    let entries: Array<{ id: string; route: string; reason: string; event: { data: { material: string } } }> =
      [];
    for (let i = 0; i < 150 && entries.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      entries = JSON.parse((await cli('dlq', 'list', '--json')).stdout);
    }
    assert.ok(entries.length >= 2, 'the demo produced dead letters');
    assert.ok(entries.every((e) => e.reason === 'rejected' && e.event.data.material === 'FG-9999'));

    const table = await cli('dlq', 'list', '--route', entries[0]!.route);
    assert.match(table.stdout, new RegExp(entries[0]!.id));

    const discarded = await cli('dlq', 'discard', entries[0]!.id);
    assert.match(discarded.stdout, /discarded/);
    const afterDiscard = JSON.parse(
      (await cli('dlq', 'list', '--json', '--status', 'discarded')).stdout,
    ) as Array<{ id: string }>;
    assert.ok(afterDiscard.some((e) => e.id === entries[0]!.id));

    // The MES still refuses the material, so a replay fails again and the command says so (exit 1).
    const replay = await cli('dlq', 'replay', entries[1]!.id).catch(
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    assert.equal((replay as { code?: number }).code, 1);
    assert.match(replay.stdout, /0 of 1 delivered/);
    assert.match(replay.stderr, /replaying \[/, 'a progress bar is shown');

    const sub = await cli('replay', '--subscription', 'mes-p1-orders', '--from', '1');
    assert.match(sub.stdout, /replayed mes-p1-orders from sequence 1/);

    const bad = await cli('replay', '--subscription', 'mes-p1-orders', '--from', 'last week').catch(
      (e: { stderr: string; code: number }) => e,
    );
    assert.equal((bad as { code?: number }).code, 1);
    assert.match(bad.stderr, /from must be a sequence number or an RFC 3339 time/);
  } finally {
    const exit = await demo.stop('SIGTERM');
    assert.equal(exit.code, 0);
  }
});
