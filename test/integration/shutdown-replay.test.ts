/**
 * A hub process stopped with SIGTERM while a subscription replay is under way and its endpoint is
 * slow: it exits within 10 s, abandoning the deliveries in flight, and redelivers them after a
 * restart. Also right after a kill -9, while the route's lease still belongs to the killed process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeEvent } from '../helpers/events.js';
import { ADMIN_KEY } from '../helpers/hub.js';
import { type HubProcess, startHubProcess } from '../helpers/hub-process.js';
import { TestReceiver } from '../helpers/receiver.js';

const EVENTS = 3_000;
/** What a supervisor allows a stop (the hub's own deadline is below it). */
const STOP_LIMIT_MS = 10_000;

async function call(hub: HubProcess, method: string, path: string, body?: unknown): Promise<number> {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Waits until `work`'s lease is held by the process answering at `hub` (at most 30 s). */
async function takenUp(hub: HubProcess, work: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${hub.url}/v1/cluster`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const body = (await res.json()) as {
      answeredBy: string;
      work: Array<{ name: string; instance: string }>;
    };
    if (body.work.some((w) => w.name === work && w.instance === body.answeredBy)) return;
    assert.ok(Date.now() < deadline, `${work} was not taken up within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** SIGTERM; resolves with how long the process took to exit (rejects past the limit). */
async function stopTimed(hub: HubProcess): Promise<{ ms: number; code: number | null }> {
  const started = performance.now();
  const { code } = await hub.stop('SIGTERM', STOP_LIMIT_MS);
  return { ms: performance.now() - started, code };
}

test('SIGTERM mid-replay with a slow endpoint: the hub exits within 10 s and redelivers after a restart, losing nothing', {
  timeout: 180_000,
}, async () => {
  const receiver = new TestReceiver();
  // Slow: every answer takes 1.5 s, so the replay is far from done when the hub is stopped.
  let delayMs = 1_500;
  receiver.behaviour = () => ({ status: 204, delayMs });
  await receiver.listen();
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-shutdown-replay-'));
  const config = join(dir, 'conveyor.json');
  writeFileSync(
    config,
    JSON.stringify({
      connectors: { slow: { kind: 'http', url: receiver.url, connections: 32 } },
      routes: [{ name: 'to-slow', types: ['production.*'], sink: 'slow', timeout: '30s' }],
    }),
  );
  const start = () =>
    startHubProcess(['start', '--config', config, '--data', join(dir, 'data'), '--port', '0'], {
      CONVEYOR_ADMIN_KEY: ADMIN_KEY,
    });
  const ids: string[] = [];
  let hub: HubProcess | null = await start();
  try {
    for (let n = 0; n < EVENTS / 500; n++) {
      const events = Array.from({ length: 500 }, (_, i) =>
        makeEvent({ subject: `PO-${(n * 500 + i) % 300}` }),
      );
      const res = await fetch(`${hub.url}/v1/events`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${ADMIN_KEY}`,
          'content-type': 'application/cloudevents-batch+json',
        },
        body: JSON.stringify(events),
      });
      assert.equal(res.status, 202);
      await res.arrayBuffer();
      ids.push(...events.map((e) => e.id));
    }
    await receiver.waitFor(() => receiver.received.length > 0, 20_000, 'a first delivery');

    // kill -9: the route's lease stays with the dead process for a while; a replay asked of the new
    // process meanwhile (the route is on standby there) must not leave a stop hanging.
    await hub.stop('SIGKILL', STOP_LIMIT_MS);
    hub = await start();
    assert.equal(await call(hub, 'POST', '/v1/subscriptions/to-slow/replay', { from: 1 }), 202);
    // Then the lease lapses and this process takes the route up: the stop comes after that.
    await takenUp(hub, 'route:to-slow');
    const first = await stopTimed(hub);
    assert.equal(first.code, 0, `exit code; stderr: ${hub.stderr()}`);
    assert.ok(first.ms < STOP_LIMIT_MS, `stop took ${Math.round(first.ms)} ms`);

    // Now with the route delivering here: a replay under way, deliveries in flight to the slow endpoint.
    hub = await start();
    const before = receiver.attempts.length;
    await receiver.waitFor(() => receiver.attempts.length > before, 30_000, 'deliveries after the restart');
    assert.equal(await call(hub, 'POST', '/v1/subscriptions/to-slow/replay', { from: 1 }), 202);
    const second = await stopTimed(hub);
    assert.equal(second.code, 0, `exit code; stderr: ${hub.stderr()}`);
    assert.ok(second.ms < STOP_LIMIT_MS, `stop took ${Math.round(second.ms)} ms`);

    // The endpoint recovers: everything is delivered from the committed position.
    delayMs = 0;
    hub = await start();
    const want = new Set(ids);
    await receiver.waitFor(
      () => {
        for (const r of receiver.received) want.delete(r.id);
        return want.size === 0;
      },
      90_000,
      'every event delivered',
    );
    const last = await stopTimed(hub);
    hub = null;
    assert.equal(last.code, 0);
  } finally {
    await hub?.stop('SIGKILL', STOP_LIMIT_MS).catch(() => undefined);
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
