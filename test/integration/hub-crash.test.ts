import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { makeEvent } from '../helpers/events.js';
import { ADMIN_KEY } from '../helpers/hub.js';
import { startHubProcess } from '../helpers/hub-process.js';

const ROUNDS = 6;

/** Posts events from `workers` loops until stopped; returns the ids that got a 202. */
function ingestUntilStopped(url: string, workers: number, acked: Set<string>) {
  const dispatcher = new Agent({ connections: workers, keepAliveTimeout: 5_000 });
  let running = true;
  let errors = 0;
  const loop = async (w: number) => {
    for (let n = 0; running; n++) {
      const batch = n % 3 === 0;
      const events = Array.from({ length: batch ? 10 : 1 }, () =>
        makeEvent({ id: randomUUID(), subject: `order-${w}` }),
      );
      try {
        const res = await request(`${url}/v1/events`, {
          method: 'POST',
          dispatcher,
          headers: {
            authorization: `Bearer ${ADMIN_KEY}`,
            'content-type': batch ? 'application/cloudevents-batch+json' : 'application/cloudevents+json',
          },
          body: JSON.stringify(batch ? events : events[0]),
        });
        await res.body.dump();
        if (res.statusCode === 202) for (const e of events) acked.add(e.id);
      } catch {
        errors++;
        return; // the hub was killed
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, w) => loop(w)));
  return {
    async stop() {
      running = false;
      await done;
      await dispatcher.destroy();
      return errors;
    },
  };
}

test('kill -9 of the hub during sustained ingest loses no event that got a 202', {
  timeout: 180_000,
}, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'conveyor-crash-'));
  const acked = new Set<string>();
  for (let round = 0; round < ROUNDS; round++) {
    const hub = await startHubProcess(['start', '--data', dataDir, '--port', '0'], {
      CONVEYOR_ADMIN_KEY: ADMIN_KEY,
    });
    const load = ingestUntilStopped(hub.url, 16, acked);
    const target = acked.size + 1_000 + round * 500;
    // Kill once this round has had a varying number of acknowledgements.
    for (let i = 0; i < 4_000 && acked.size < target; i++)
      await new Promise((resolve) => setImmediate(resolve));
    while (acked.size < target) await new Promise((resolve) => setTimeout(resolve, 5));
    const exit = await hub.stop('SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');
    await load.stop();
  }

  const hub = await startHubProcess(['start', '--data', dataDir, '--port', '0'], {
    CONVEYOR_ADMIN_KEY: ADMIN_KEY,
  });
  try {
    const stored = new Map<string, number>();
    for (let after: string | null = '0'; after !== null; ) {
      const res = await request(`${hub.url}/v1/events?limit=1000&after=${after}`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      const page = (await res.body.json()) as { items: Array<{ id: string }>; next: string | null };
      for (const e of page.items) stored.set(e.id, (stored.get(e.id) ?? 0) + 1);
      after = page.next;
    }
    const missing = [...acked].filter((id) => !stored.has(id));
    t.diagnostic(
      `${ROUNDS} kills; ${acked.size} events acknowledged with 202; ${stored.size} stored; ${missing.length} missing`,
    );
    assert.equal(missing.length, 0, `acknowledged but lost: ${missing.slice(0, 5).join(', ')}`);
    assert.ok(
      [...stored.values()].every((n) => n === 1),
      'no event stored twice',
    );
    assert.ok(acked.size >= ROUNDS * 1_000);
  } finally {
    const exit = await hub.stop('SIGTERM');
    assert.equal(exit.code, 0, `SIGTERM stops the hub cleanly with exit code 0: ${hub.stderr()}`);
  }
});
