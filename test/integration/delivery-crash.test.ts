import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { makeEvent } from '../helpers/events.js';
import { ADMIN_KEY } from '../helpers/hub.js';
import { startHubProcess } from '../helpers/hub-process.js';
import { TestReceiver } from '../helpers/receiver.js';

const KEYS = 50;
const PER_KEY = 400;

test('kill -9 with 20,000 events in flight to a slow receiver: all delivered after restart, per-key order kept, duplicates bounded', {
  timeout: 180_000,
}, async (t) => {
  const rx = new TestReceiver();
  await rx.listen();
  rx.behaviour = () => ({ status: 204, delayMs: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-dcrash-'));
  const configFile = join(dir, 'conveyor.yaml');
  writeFileSync(
    configFile,
    [
      'server: { port: 0 }',
      'connectors:',
      `  rx: { kind: http, url: "${rx.url}", connections: 16 }`,
      'routes:',
      '  - { name: slow, types: ["production.*"], sink: rx, retry: { initialDelay: 10ms, maxDelay: 100ms } }',
      'lanes: { critical: { concurrency: 16 } }',
    ].join('\n'),
  );
  const env = { CONVEYOR_ADMIN_KEY: ADMIN_KEY };
  const args = ['start', '--config', configFile, '--data', join(dir, 'data')];
  let hub = await startHubProcess(args, env);
  try {
    const events = Array.from({ length: PER_KEY }, (_, n) =>
      Array.from({ length: KEYS }, (_, k) => makeEvent({ subject: `key-${k}`, id: `key-${k}#${n}` })),
    ).flat();
    for (let i = 0; i < events.length; i += 1000) {
      const res = await request(`${hub.url}/v1/events`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${ADMIN_KEY}`,
          'content-type': 'application/cloudevents-batch+json',
        },
        body: JSON.stringify(events.slice(i, i + 1000)),
      });
      assert.equal(res.statusCode, 202);
      await res.body.dump();
    }
    await rx.waitFor(() => rx.received.length >= 3_000, 60_000, 'deliveries to be under way');
    const beforeKill = rx.received.length;
    assert.ok(beforeKill < events.length, 'still in flight when killed');
    await hub.stop('SIGKILL');
    const atKill = rx.received.length;

    hub = await startHubProcess(args, env);
    await rx.waitFor(
      () => new Set(rx.received.map((r) => r.id)).size >= events.length,
      120_000,
      'every event',
    );
    const unique = new Set(rx.received.map((r) => r.id));
    assert.equal(unique.size, events.length, 'every event delivered at least once');
    const order = rx.orderByKey();
    for (let k = 0; k < KEYS; k++) {
      assert.deepEqual(
        order.get(`key-${k}`),
        Array.from({ length: PER_KEY }, (_, n) => `key-${k}#${n}`),
        `first deliveries of key-${k} are in order`,
      );
    }
    // After the restart each key restarts from the durable position and proceeds in order again.
    const afterRestart = rx.received.slice(atKill);
    for (let k = 0; k < KEYS; k++) {
      const seq = afterRestart.filter((r) => r.key === `key-${k}`).map((r) => Number(r.id.split('#')[1]));
      for (let i = 1; i < seq.length; i++)
        assert.ok(seq[i]! > seq[i - 1]!, `key-${k} after restart: ${seq[i - 1]} then ${seq[i]}`);
    }
    const duplicates = rx.received.length - unique.size;
    t.diagnostic(
      `received ${atKill} before kill -9, ${rx.received.length} in all; ${duplicates} duplicates (window 10,000)`,
    );
    assert.ok(duplicates <= 10_000, `duplicates ${duplicates} exceed the in-flight window`);
  } finally {
    await hub.stop('SIGTERM');
    await rx.close();
  }
});
