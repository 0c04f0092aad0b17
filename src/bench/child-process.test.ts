import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { awaitOutput, startServerProcess } from './child-process.js';

const dir = mkdtempSync(join(tmpdir(), 'conveyor-child-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A Node script in the temp folder. */
function script(name: string, source: string): string {
  const path = join(dir, name);
  writeFileSync(path, source);
  return path;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** PIDs of this process's children running `path`. */
function childrenRunning(path: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) !== process.pid || state === 'Z') continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(path)) pids.push(Number(entry));
    } catch {
      // It exited while we looked.
    }
  }
  return pids;
}

/** Polls until `check` holds, for at most `ms`. */
async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

test('a child that exits at once is rejected quickly, with its stderr in the message', async () => {
  const failing = script(
    'exits.mjs',
    "process.stderr.write('cannot read conveyor.yaml: no such file\\n'); process.exit(2);",
  );
  const started = Date.now();
  await assert.rejects(startServerProcess(failing, [], {}, 60_000), (error: Error) => {
    assert.match(error.message, /exited \(code 2\) before it was ready/);
    assert.match(error.message, /cannot read conveyor\.yaml: no such file/);
    return true;
  });
  assert.ok(Date.now() - started < 10_000, `rejected after ${Date.now() - started} ms, not at the bound`);
});

test('a child that never becomes ready is rejected at the bound and killed by its PID', async () => {
  const hanging = script(
    'hangs.mjs',
    "process.stderr.write('waiting for a database that never comes\\n'); setInterval(() => undefined, 1000);",
  );
  const child = spawn(process.execPath, [hanging], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit');
  const started = Date.now();
  await assert.rejects(
    awaitOutput(child, { name: 'hangs', stream: 'stdout', match: /ready/, timeoutMs: 500 }),
    /hangs was not ready within 500 ms/,
  );
  const waited = Date.now() - started;
  assert.ok(waited >= 450 && waited < 10_000, `rejected after ${waited} ms`);
  const [, signal] = await exited;
  assert.equal(signal, 'SIGKILL');
  assert.equal(alive(child.pid as number), false);
});

test('the same with startServerProcess: killed at the bound, its stderr in the message', async () => {
  const hanging = script(
    'quiet.mjs',
    "process.stderr.write('still loading\\n'); setInterval(() => undefined, 1000);",
  );
  // Long enough for Node to start and write, on a busy machine too.
  await assert.rejects(
    startServerProcess(hanging, [], {}, 3_000),
    /was not ready within 3000 ms; its output:\nstill loading/,
  );
  // Left running, it would keep this test file alive until the runner's timeout.
  assert.ok(
    await eventually(() => childrenRunning(hanging).length === 0, 5_000),
    `still running: ${childrenRunning(hanging).join(', ')}`,
  );
});

test('a program that cannot be spawned is rejected with the reason', async () => {
  const child = spawn(join(dir, 'no-such-program'), [], { stdio: ['ignore', 'pipe', 'pipe'] });
  await assert.rejects(
    awaitOutput(child, { name: 'no-such-program', stream: 'stderr', match: /ready/, timeoutMs: 10_000 }),
    /no-such-program could not be started: spawn .*ENOENT/,
  );
});

test('readiness resolves with the match and the child keeps running', async () => {
  const server = script(
    'server.mjs',
    "process.stdout.write('Conveyor listening on http://127.0.0.1:1234\\n'); setInterval(() => undefined, 1000);",
  );
  const hub = await startServerProcess(server, [], {}, 10_000);
  try {
    assert.equal(hub.url, 'http://127.0.0.1:1234');
    assert.equal(alive(hub.child.pid as number), true);
  } finally {
    const exit = await hub.stop('SIGTERM', 5_000);
    assert.equal(exit.signal, 'SIGTERM');
  }
});

test('a demo banner with text after its first URL is ready at that URL', async () => {
  const server = script(
    'demo.mjs',
    "process.stdout.write('Conveyor demo running on http://127.0.0.1:1 and http://127.0.0.1:2  (2 plants, 1 orders/s)\\nAdmin API key: k\\n'); setInterval(() => undefined, 1000);",
  );
  const demo = await startServerProcess(server, [], {}, 10_000);
  try {
    assert.equal(demo.url, 'http://127.0.0.1:1');
  } finally {
    await demo.stop('SIGTERM', 5_000);
  }
});
