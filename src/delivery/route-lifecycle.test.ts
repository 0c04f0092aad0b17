import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEvent } from '../../test/helpers/events.js';
import { createTestHub } from '../../test/helpers/hub.js';
import { TestReceiver } from '../../test/helpers/receiver.js';
import type { Consumer, EventLog } from '../log/port.js';

/** Polls `predicate` until it holds or `ms` pass (then fails naming `what`). */
async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    assert.ok(Date.now() < deadline, `${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function position(log: EventLog, route: string): Promise<number | undefined> {
  return (await log.consumers()).find((c) => c.name === `route:${route}`)?.position;
}

/**
 * Counts the fetches under way at once on the consumers of `name` (on the log's consumer class, as
 * the hub hands its log out behind a proxy). A fetch on a closed consumer waits a little instead of
 * answering at once, so a loop left behind on one cannot hold the thread. Undo with `restore`.
 */
async function countFetches(log: EventLog, name: string): Promise<{ most: number; restore: () => void }> {
  const probe = await log.consume('probe', {});
  probe.close();
  const proto = Object.getPrototypeOf(probe) as Consumer;
  const fetch = proto.fetch;
  const close = proto.close;
  const closed = new WeakSet<Consumer>();
  const seen = { most: 0, restore: () => Object.assign(proto, { fetch, close }) };
  let active = 0;
  proto.close = function (this: Consumer) {
    closed.add(this);
    close.call(this);
  };
  proto.fetch = async function (this: Consumer, max, waitMs, signal) {
    if (this.name !== name) return fetch.call(this, max, waitMs, signal);
    if (closed.has(this)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return [];
    }
    active++;
    seen.most = Math.max(seen.most, active);
    try {
      return await fetch.call(this, max, waitMs, signal);
    } finally {
      active--;
    }
  };
  return seen;
}

test('a replay of a route this instance does not deliver moves its position back and leaves it on standby', async () => {
  const receiver = new TestReceiver();
  await receiver.listen();
  const hub = await createTestHub({
    connectors: { sink: { kind: 'http', url: receiver.url } },
    routes: [{ name: 'r', types: ['production.*'], sink: 'sink' }],
  });
  try {
    await hub.listen();
    await hub.log.append(Array.from({ length: 20 }, () => makeEvent()));
    await waitFor('the first delivery', async () => (await position(hub.log, 'r')) === 20);
    const worker = hub.delivery.worker('r');
    assert.ok(worker);
    // Another instance holds the route (or none yet, as right after a restart): this one must not start it.
    await worker.standBy();
    await worker.replayFrom(1);
    assert.equal(worker.status().state, 'standby');
    assert.equal(await position(hub.log, 'r'), 0);
    assert.equal(receiver.received.length, 20);
    // Whoever starts the route next re-delivers from there.
    await worker.start();
    await waitFor('the re-delivery', () => receiver.received.length === 40);
  } finally {
    await hub.close();
    await receiver.close();
  }
});

test('a route runs one fetch loop however often it is started, replayed and stopped at once', async () => {
  const receiver = new TestReceiver();
  // The endpoint holds every request, so deliveries are in flight when the route is stopped.
  receiver.behaviour = () => ({ status: 204, delayMs: 30_000 });
  await receiver.listen();
  const hub = await createTestHub({
    connectors: { slow: { kind: 'http', url: receiver.url } },
    routes: [{ name: 'r', types: ['production.*'], sink: 'slow', timeout: '60s' }],
  });
  const fetches = await countFetches(hub.log, 'route:r');
  try {
    await hub.listen();
    await hub.log.append(Array.from({ length: 50 }, () => makeEvent()));
    await waitFor('deliveries in flight', () => hub.delivery.subscriptions()[0]?.inFlight === 50);
    const worker = hub.delivery.worker('r');
    assert.ok(worker);
    await Promise.all([worker.start(), worker.replayFrom(1), worker.start()]);
    assert.equal(worker.status().state, 'running');
    // A replay racing a stop (SIGTERM while a replay request is under way): the stop has the last word.
    await Promise.all([worker.replayFrom(1), worker.close()]);
    assert.equal(worker.delivering, false);
    assert.equal(fetches.most, 1, 'fetch loops at once');
  } finally {
    fetches.restore();
    await hub.close();
    await receiver.close();
  }
});
