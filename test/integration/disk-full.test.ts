/**
 * The log's disk runs full, for real (a small tmpfs), through the real HTTP API: the documented
 * problem, never a 2xx for what was not stored, /readyz not ready, one log line and a metric;
 * then space is freed and the next event is accepted without a restart. And a read-only data
 * directory is refused at start with the reason.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfigFromObject } from '../../src/config/index.js';
import { createHub, type Hub } from '../../src/hub.js';
import { createLogger } from '../../src/observability/logger.js';
import { makeEvent } from '../helpers/events.js';
import { ADMIN_KEY, auth, LogCapture } from '../helpers/hub.js';
import { Tmpfs } from '../helpers/tmpfs.js';

async function startHubOn(dataDir: string, logs: LogCapture): Promise<Hub> {
  const config = loadConfigFromObject({ server: { port: 0 } }, { dataDir });
  const hub = await createHub(config, {
    logger: createLogger('info', logs),
    adminKey: ADMIN_KEY,
    processMetrics: false,
  });
  await hub.listen();
  return hub;
}

/** Writes a file until the file system has no room left; returns its path. */
function fillUp(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (let i = 0; i < 100_000; i++) {
      try {
        writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return path;
        throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
  throw new Error('the tmpfs never ran full');
}

async function post(hub: Hub, body: unknown) {
  const res = await fetch(`${hub.url}/v1/events`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

const bigEvent = () => makeEvent({ note: 'x'.repeat(20_000) });

async function metric(hub: Hub, name: string): Promise<string | undefined> {
  const res = await fetch(`${hub.url}/metrics`, { headers: auth() });
  return new RegExp(`^${name} (\\S+)$`, 'm').exec(await res.text())?.[1];
}

test('a full disk answers the documented 503, /readyz is not ready, and ingest resumes when space returns', async () => {
  const fs = Tmpfs.mount(8 * 1024 * 1024);
  const logs = new LogCapture();
  let hub: Hub | undefined;
  try {
    hub = await startHubOn(fs.dir, logs);
    const accepted: string[] = [];
    const filler = fillUp(fs.dir);
    // SQLite still has room in pages it holds; post until the disk is truly out of space.
    let refused: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < 500 && refused === undefined; i++) {
      const event = bigEvent();
      const res = await post(hub, event);
      if (res.status === 202) accepted.push(event.id);
      else refused = res;
    }
    assert.ok(refused, 'the disk never ran full');
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(refused.body.type, 'urn:conveyor:problem:log-disk-full');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After is set');
    // More refusals: each a 503, never a 2xx, and one log line for the whole episode.
    for (let i = 0; i < 5; i++) assert.equal((await post(hub, bigEvent())).status, 503);
    assert.equal((await fetch(`${hub.url}/readyz`)).status, 503);
    assert.equal(await metric(hub, 'conveyor_log_disk_full'), '1');
    const fullLines = logs.lines.filter((line) => line.includes('event log disk is full'));
    assert.equal(fullLines.length, 1, `one log line, not one per request: ${fullLines.length}`);

    rmSync(filler);
    const next = bigEvent();
    const resumed = await post(hub, next);
    assert.equal(resumed.status, 202, `the next event after space is freed: ${JSON.stringify(resumed.body)}`);
    accepted.push(next.id);
    assert.equal((await fetch(`${hub.url}/readyz`)).status, 200);
    assert.equal(await metric(hub, 'conveyor_log_disk_full'), '0');
    assert.equal(logs.lines.filter((line) => line.includes('event log has room again')).length, 1);

    // Every 2xx is in the log; nothing refused is.
    const stored = new Set((await hub.log.read({ limit: 10_000 })).map((e) => e.id));
    for (const id of accepted) assert.ok(stored.has(id), `accepted event ${id} is stored`);
    assert.equal(stored.size, accepted.length, 'no refused event was stored');
  } finally {
    await hub?.close().catch(() => undefined);
    fs.unmount();
  }
});

test('a read-only data directory is refused at start, naming the directory and the reason', async () => {
  const fs = Tmpfs.mount(8 * 1024 * 1024);
  try {
    const hub = await startHubOn(fs.dir, new LogCapture());
    await hub.close();
    fs.remount('ro');
    await assert.rejects(startHubOn(fs.dir, new LogCapture()), (error: Error) => {
      assert.match(error.message, /read-only file system/);
      assert.ok(error.message.includes(fs.dir), error.message);
      assert.match(error.message, /make .* writable|choose another --data/i);
      return true;
    });
  } finally {
    fs.unmount();
  }
});
