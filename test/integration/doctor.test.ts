/** `conveyor doctor` as an operator runs it: the real command, its output and its exit code. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CONVEYOR_CLI } from '../../src/bench/child-process.js';
import { overwriteMiddlePages, usedDataDir } from '../helpers/used-data-dir.js';

function doctor(dataDir: string, ...extra: string[]) {
  const run = spawnSync(process.execPath, [CONVEYOR_CLI, 'doctor', '--data', dataDir, ...extra], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, CONVEYOR_LOG_LEVEL: 'error' },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

test('a healthy data dir: exit 0, both files checked, the pair belongs together, progress shown', async () => {
  const dataDir = await usedDataDir();
  const run = doctor(dataDir);
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(
    run.stdout,
    new RegExp(`ok +the event log ${join(dataDir, 'events.db')}: integrity check passed`),
  );
  assert.match(
    run.stdout,
    new RegExp(`ok +the state store ${join(dataDir, 'conveyor.db')}: integrity check passed`),
  );
  assert.match(run.stdout, /belong together .*within the log's head 3000/);
  assert.match(run.stderr, /checking the event log/, 'progress on stderr');
});

test('an emptied log: exit 1, a finding naming the file, the fault and the fix', async () => {
  const dataDir = await usedDataDir();
  writeFileSync(join(dataDir, 'events.db'), '');
  const run = doctor(dataDir);
  assert.equal(run.status, 1, run.stdout);
  assert.match(run.stdout, /FAULT the event log \S+events\.db is a new, empty log, but the state store/);
  assert.match(run.stdout, /FAULT the state store \S+conveyor\.db refers to event 2995 .*past the head 0/);
  assert.match(run.stdout, /to fix: restore \S+events\.db from a backup/);
});

test('a deleted log: exit 1 (not "nothing to check")', async () => {
  const dataDir = await usedDataDir();
  rmSync(join(dataDir, 'events.db'));
  const run = doctor(dataDir);
  assert.equal(run.status, 1, run.stdout);
  assert.match(run.stdout, /FAULT the event log \S+events\.db is missing/);
});

test('overwritten pages: exit 1 with the integrity findings; --json gives the same as data', async () => {
  const dataDir = await usedDataDir();
  const path = join(dataDir, 'events.db');
  overwriteMiddlePages(path);
  const run = doctor(dataDir, '--json');
  assert.equal(run.status, 1, run.stdout);
  const report = JSON.parse(run.stdout) as {
    healthy: boolean;
    lines: Array<{ ok: boolean; what: string; fix?: string }>;
  };
  assert.equal(report.healthy, false);
  const faults = report.lines.filter((l) => !l.ok);
  assert.ok(faults.length > 0);
  for (const fault of faults) {
    assert.ok(fault.what.startsWith(`the event log ${path}: `), fault.what);
    assert.match(fault.fix ?? '', /restore/);
  }
});
