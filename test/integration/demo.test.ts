import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { startHubProcess } from '../helpers/hub-process.js';

test('the demo releases orders, delivers them to each MES and records completions, then stops cleanly', {
  timeout: 60_000,
}, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'conveyor-demo-'));
  const key = 'cvy_demo-test-admin-key-abcdefghijklmnopqrstu';
  const demo = await startHubProcess(
    ['demo', '--port', '0', '--data', dataDir, '--rate', '20', '--plants', '2'],
    {
      CONVEYOR_ADMIN_KEY: key,
    },
  );
  try {
    const get = async (type: string) => {
      const res = await request(`${demo.url}/v1/events?type=${type}&limit=1000`, {
        headers: { authorization: `Bearer ${key}` },
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      assert.equal(res.statusCode, 200);
      return ((await res.body.json()) as { items: Array<{ subject: string; plant: string }> }).items;
    };
    // Bounded polling on observable state: completions appear once MES has processed deliveries.
    let completed: Array<{ subject: string; plant: string }> = [];
    for (let i = 0; i < 100 && new Set(completed.map((e) => e.plant)).size < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      completed = await get('production.operation.completed');
    }
    const released = await get('production.order.released');
    assert.ok(released.length > 0, 'orders were released');
    assert.deepEqual(
      new Set(completed.map((e) => e.plant)),
      new Set(['P1', 'P2']),
      'both plants report completions',
    );
    const releasedIds = new Set(released.map((e) => e.subject));
    assert.ok(
      completed.every((e) => releasedIds.has(e.subject)),
      'every completion belongs to a released order',
    );
  } finally {
    const exit = await demo.stop('SIGINT', 20_000);
    assert.equal(exit.code, 0);
  }
});
