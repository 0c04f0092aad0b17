import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServerProcess } from './child-process.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a server that does not start in time is killed, so nothing is left to keep the benchmark alive', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-child-'));
  try {
    const script = join(dir, 'silent.mjs');
    const pidFile = join(dir, 'pid');
    writeFileSync(
      script,
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(pidFile)}, String(process.pid));\nsetInterval(() => {}, 1000);\n`,
    );
    await assert.rejects(startServerProcess(script, [], {}, 1_000), /did not start in 1000 ms/);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const deadline = Date.now() + 5_000;
    while (alive(pid)) {
      assert.ok(Date.now() < deadline, `process ${pid} is still running`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
