/**
 * A log file that was emptied, truncated, overwritten or swapped must stop the hub at start with a
 * message naming the file, what is wrong and what to do; never an empty log that silently
 * forgets every acknowledged event, never a hub that is "ready" and answers every read with 500.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CONVEYOR_CLI } from '../../src/bench/child-process.js';
import { ADMIN_KEY } from '../helpers/hub.js';
import { EVENTS, overwriteMiddlePages, startHub, usedDataDir } from '../helpers/used-data-dir.js';

/** Starting must fail; the message must name the log file and say what to do. */
async function assertRefused(dataDir: string, wrong: RegExp): Promise<string> {
  const logPath = join(dataDir, 'events.db');
  let message = '';
  try {
    const hub = await startHub(dataDir);
    const head = hub.log.head();
    await hub.close();
    assert.fail(`the hub started on the damaged log (head ${head})`);
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    message = (error as Error).message;
  }
  assert.equal(typeof message, 'string', 'the error has a message');
  assert.ok(message.includes(logPath), `the message names ${logPath}: ${message}`);
  assert.match(message, wrong);
  assert.match(message, /restore|conveyor doctor|delete|move/i, `the message says what to do: ${message}`);
  return message;
}

test('a log file emptied to zero bytes is refused: the store belongs to a log that had events', async () => {
  const dataDir = await usedDataDir();
  writeFileSync(join(dataDir, 'events.db'), '');
  await assertRefused(dataDir, /does not belong|not the log|new, empty log/i);
});

test('a log from another data dir is refused: its identity differs from the one the store recorded', async () => {
  const [first, second] = [await usedDataDir(), await usedDataDir()];
  copyFileSync(join(second, 'events.db'), join(first, 'events.db'));
  await assertRefused(first, /does not belong|identity/i);
});

test('a truncated log file is refused with the path and the cause, not "undefined"', async () => {
  const dataDir = await usedDataDir();
  const path = join(dataDir, 'events.db');
  truncateSync(path, Math.floor(statSync(path).size / 2));
  const message = await assertRefused(dataDir, /truncated|damaged|malformed|corrupt/i);
  assert.doesNotMatch(message, /undefined/);
});

test('overwritten pages are found at start, not by every later read', async () => {
  const dataDir = await usedDataDir();
  const path = join(dataDir, 'events.db');
  // Garbage over data pages in the middle of the file, as a failing disk or a stray write leaves.
  overwriteMiddlePages(path);
  await assertRefused(dataDir, /damaged|integrity|corrupt|malformed/i);
});

test('conveyor start on a truncated log exits 1 naming the file and the cause', async () => {
  const dataDir = await usedDataDir();
  const path = join(dataDir, 'events.db');
  truncateSync(path, Math.floor(statSync(path).size / 2));
  const run = spawnSync(process.execPath, [CONVEYOR_CLI, 'start', '--data', dataDir, '--port', '0'], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, CONVEYOR_ADMIN_KEY: ADMIN_KEY, CONVEYOR_LOG_LEVEL: 'error' },
  });
  assert.equal(run.status, 1, `exit status; stderr: ${run.stderr}`);
  assert.ok(run.stderr.includes(path), `stderr names ${path}: ${run.stderr}`);
  assert.doesNotMatch(run.stderr, /conveyor: undefined/);
});

test('a healthy data dir starts again with every event and position kept', async () => {
  const dataDir = await usedDataDir();
  const hub = await startHub(dataDir);
  try {
    assert.equal(hub.log.head(), EVENTS);
    const positions = await hub.log.consumers();
    assert.ok(positions.some((c) => c.name === 'route.mes' && c.position === EVENTS - 10));
  } finally {
    await hub.close();
  }
});
