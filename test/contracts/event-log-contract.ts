import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import type { EventLog } from '../../src/log/port.js';
import { makeEvent } from '../helpers/events.js';

export interface EventLogHarness {
  /** A fresh, empty log. */
  open(): Promise<EventLog>;
  /** Re-opens the storage of the last `open()` (after it was closed or its process died). */
  reopen(): Promise<EventLog>;
  /** Config (as an object for loadConfigFromObject) and data dir for a child process to open the same storage. */
  childConfig(): { config: Record<string, unknown>; dataDir: string };
}

const CHILD = new URL('../helpers/log-append-child.js', import.meta.url).pathname;
const APPEND_CHILD_MS = 60_000;

/**
 * The behaviour every EventLog backend must have. Run it once per backend:
 * `eventLogContract('sqlite', harness)`.
 */
export function eventLogContract(name: string, harness: EventLogHarness): void {
  const withLog = async (fn: (log: EventLog) => Promise<void>) => {
    const log = await harness.open();
    try {
      await fn(log);
    } finally {
      await log.close();
    }
  };

  test(`${name}: appends get increasing sequences and read back in order with the sequence set`, () =>
    withLog(async (log) => {
      const events = Array.from({ length: 25 }, () => makeEvent());
      const outcomes = await log.append(events);
      assert.equal(outcomes.length, 25);
      for (let i = 1; i < outcomes.length; i++) assert.ok(outcomes[i]!.sequence > outcomes[i - 1]!.sequence);
      assert.equal(log.head(), outcomes[24]!.sequence);
      const read = await log.read({ after: 0, limit: 100 });
      assert.deepEqual(
        read.map((e) => e.id),
        events.map((e) => e.id),
      );
      assert.deepEqual(read[3]?.data, events[3]?.data);
      assert.equal(read[3]?.sequence, outcomes[3]?.sequence);
    }));

  test(`${name}: a re-sent (source, id) is acknowledged as a duplicate and stored once`, () =>
    withLog(async (log) => {
      const event = makeEvent();
      const [first] = await log.append([event]);
      const [again] = await log.append([{ ...event, data: { changed: true } }]);
      assert.equal(first?.duplicate, false);
      assert.deepEqual(again, { sequence: first?.sequence, duplicate: true });
      // Same id from another source is a different event.
      const [other] = await log.append([{ ...event, source: '/plants/P2/mes' }]);
      assert.equal(other?.duplicate, false);
      // Duplicates inside one batch.
      const twin = makeEvent();
      const outcomes = await log.append([twin, twin]);
      assert.equal(outcomes[1]?.duplicate, true);
      assert.equal(outcomes[1]?.sequence, outcomes[0]?.sequence);
      const all = await log.read({ limit: 100 });
      assert.equal(all.length, 3);
      assert.deepEqual(all[0]?.data, event.data, 'the first version is kept');
    }));

  test(`${name}: reads filter by exact type, domain wildcard, subject, plant, position and limit`, () =>
    withLog(async (log) => {
      await log.append([
        makeEvent({ type: 'production.order.released', subject: 'A', plant: 'P1' }),
        makeEvent({ type: 'quality.hold.placed', subject: 'H1', plant: 'P2', data: { plant: 'P2' } }),
        makeEvent({ type: 'telemetry.machine.state', subject: 'M1', plant: 'P1' }),
        makeEvent({
          type: 'production.operation.completed',
          subject: 'A',
          plant: 'P2',
          data: { plant: 'P2' },
        }),
        makeEvent({ type: 'quality.hold.released', subject: 'H1', plant: 'P2', data: { plant: 'P2' } }),
      ]);
      const types = async (options: Parameters<EventLog['read']>[0]) =>
        (await log.read(options)).map((e) => e.type);
      assert.deepEqual(await types({ types: ['quality.hold.placed'] }), ['quality.hold.placed']);
      assert.deepEqual(await types({ types: ['quality.*'] }), [
        'quality.hold.placed',
        'quality.hold.released',
      ]);
      assert.deepEqual(await types({ types: ['production.*', 'telemetry.machine.state'] }), [
        'production.order.released',
        'telemetry.machine.state',
        'production.operation.completed',
      ]);
      assert.deepEqual(await types({ subject: 'A' }), [
        'production.order.released',
        'production.operation.completed',
      ]);
      assert.deepEqual(await types({ plant: 'P1' }), [
        'production.order.released',
        'telemetry.machine.state',
      ]);
      assert.deepEqual(await types({ plants: ['P2'], types: ['production.*'] }), [
        'production.operation.completed',
      ]);
      const page1 = await log.read({ limit: 2 });
      const page2 = await log.read({ limit: 2, after: page1[1]?.sequence });
      assert.deepEqual(
        [...page1, ...page2].map((e) => e.type),
        [
          'production.order.released',
          'quality.hold.placed',
          'telemetry.machine.state',
          'production.operation.completed',
        ],
      );
      assert.deepEqual(await types({ types: ['unknown.type'] }), []);
    }));

  /**
   * Sparse matches behind long runs of rows a filter leaves out: 12,000 completions, one release,
   * 600 holds, 3,000 completions, a second release. A filter that mixes a domain wildcard with an
   * exact type of another domain must find every match, however the backend pages.
   */
  const appendSparse = async (log: EventLog) => {
    const batch = (n: number, type: string, plant = 'P2') =>
      Array.from({ length: n }, () => makeEvent({ type, plant, data: { plant } }));
    for (let i = 0; i < 12; i++) await log.append(batch(1000, 'production.operation.completed'));
    const [release1] = await log.append([makeEvent({ type: 'production.order.released', plant: 'P1' })]);
    await log.append(batch(600, 'quality.hold.placed'));
    for (let i = 0; i < 3; i++) await log.append(batch(1000, 'production.operation.completed'));
    const [release2] = await log.append([makeEvent({ type: 'production.order.released', plant: 'P1' })]);
    return { release1: release1!.sequence, release2: release2!.sequence };
  };
  const sparseFilter = { types: ['quality.*', 'production.order.released'] };

  test(`${name}: reads find sparse matches past long runs of filtered-out rows (mixed wildcard and exact types)`, () =>
    withLog(async (log) => {
      const { release1, release2 } = await appendSparse(log);
      const first = await log.read({ ...sparseFilter, after: 0, limit: 100 });
      assert.equal(first.length, 100, 'a read is short only when nothing more matches');
      assert.equal(first[0]?.sequence, release1, 'the release behind 12,000 completions is found');
      assert.equal(first[1]?.type, 'quality.hold.placed');
      const all = await log.read({ ...sparseFilter, after: 0, limit: 1000 });
      assert.equal(all.length, 602);
      assert.equal(all[601]?.sequence, release2);
      for (let i = 1; i < all.length; i++) assert.ok(all[i]!.sequence > all[i - 1]!.sequence);
      const releases = await log.read({ types: ['production.order.released'], plants: ['P1'], limit: 10 });
      assert.deepEqual(
        releases.map((e) => e.sequence),
        [release1, release2],
      );
      const p1 = await log.read({ plant: 'P1', limit: 10 });
      assert.deepEqual(
        p1.map((e) => e.sequence),
        [release1, release2],
      );
    }));

  test(`${name}: paged reads never move past a row they did not examine`, () =>
    withLog(async (log) => {
      const { release1, release2 } = await appendSparse(log);
      const seen: number[] = [];
      let after = 0;
      for (let pages = 0; after < log.head(); pages++) {
        assert.ok(pages < 10_000, 'paging reaches the head in bounded steps');
        const page = await log.readPage({ ...sparseFilter, after, limit: 50 });
        assert.ok(page.through >= after, 'through never goes back');
        assert.ok(page.through <= log.head(), 'through never passes the head');
        for (const e of page.events) {
          assert.ok(e.sequence > after && e.sequence <= page.through, 'events lie within (after, through]');
          seen.push(e.sequence);
        }
        assert.ok(page.events.length > 0 || page.through > after, 'every page makes progress');
        after = page.through;
      }
      assert.equal(seen.length, 602);
      assert.equal(seen[0], release1);
      assert.equal(seen[601], release2);
    }));

  test(`${name}: a consumer (and a replay from 0) fetches sparse matches in order without skipping`, () =>
    withLog(async (log) => {
      const consumer = await log.consume('sparse-route', sparseFilter, { startAt: 0 });
      const { release1, release2 } = await appendSparse(log);
      const fetchAll = async () => {
        const got: number[] = [];
        for (let rounds = 0; got.length < 602 && rounds < 1000; rounds++) {
          for (const e of await consumer.fetch(100, 200)) got.push(e.sequence);
        }
        return got;
      };
      const got = await fetchAll();
      assert.equal(got.length, 602);
      assert.equal(got[0], release1);
      assert.equal(got[601], release2);
      await consumer.seek(0);
      const replayed = await fetchAll();
      assert.deepEqual(replayed, got, 'a replay from 0 re-delivers every match, the release first');
      consumer.close();
    }));

  test(`${name}: a consumer starts at the head, fetches new matching events and resumes from its durable commit`, async () => {
    let log = await harness.open();
    await log.append([makeEvent(), makeEvent()]);
    const consumer = await log.consume('route-a', { types: ['production.*'] });
    assert.equal(consumer.committed(), log.head());
    const fetching = consumer.fetch(10, 5_000);
    const fresh = [makeEvent(), makeEvent({ type: 'telemetry.machine.state' }), makeEvent()];
    await log.append(fresh);
    const first = await fetching;
    const got = [...first];
    if (got.length < 2) got.push(...(await consumer.fetch(10, 5_000)));
    assert.deepEqual(
      got.map((e) => e.id),
      [fresh[0]?.id, fresh[2]?.id],
    );
    await consumer.commit(got[0]!.sequence);
    await log.close();

    log = await harness.reopen();
    const resumed = await log.consume('route-a', { types: ['production.*'] });
    assert.equal(resumed.committed(), got[0]!.sequence);
    const again = await resumed.fetch(10, 1_000);
    assert.deepEqual(
      again.map((e) => e.id),
      [fresh[2]?.id],
      'what was fetched but not committed is fetched again',
    );
    const listed = await log.consumers();
    assert.ok(listed.some((c) => c.name === 'route-a' && c.position === got[0]!.sequence));
    await resumed.seek(0);
    const replayed = await resumed.fetch(100, 1_000);
    assert.equal(replayed.length, 4, 'seek(0) replays every matching event');
    await log.close();
  });

  test(`${name}: fetch returns nothing after its wait when no event arrives, and stops on abort`, () =>
    withLog(async (log) => {
      const consumer = await log.consume('idle', {});
      const started = Date.now();
      assert.deepEqual(await consumer.fetch(10, 50), []);
      assert.ok(Date.now() - started >= 40);
      const abort = new AbortController();
      const pending = consumer.fetch(10, 60_000, abort.signal);
      abort.abort();
      assert.deepEqual(await pending, []);
    }));

  test(`${name}: sequenceAt finds the first event appended at or after a time`, () =>
    withLog(async (log) => {
      const [a] = await log.append([makeEvent()]);
      const before = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 20)); // the log's clock is the wall clock; make the instants differ
      const [b] = await log.append([makeEvent({ type: 'quality.hold.placed' })]);
      assert.equal(await log.sequenceAt(0), a?.sequence);
      const at = await log.sequenceAt(before + 10);
      assert.equal(at, b?.sequence);
      assert.equal(await log.sequenceAt(Date.now() + 60_000), log.head() + 1);
    }));

  test(`${name}: concurrent producers keep per-partition-key order`, () =>
    withLog(async (log) => {
      const keys = Array.from({ length: 10 }, (_, i) => `order-${i}`);
      await Promise.all(
        keys.map(async (key) => {
          for (let n = 0; n < 30; n++) await log.append([makeEvent({ subject: key, id: `${key}#${n}` })]);
        }),
      );
      const all = await log.read({ limit: 1000 });
      assert.equal(all.length, 300);
      for (const key of keys) {
        const ids = all.filter((e) => e.subject === key).map((e) => Number(e.id.split('#')[1]));
        assert.deepEqual(
          ids,
          Array.from({ length: 30 }, (_, n) => n),
        );
      }
    }));

  test(`${name}: after kill -9 of a process appending, every acknowledged event is there`, async () => {
    const first = await harness.open();
    await first.close();
    const { config, dataDir } = harness.childConfig();
    const acked = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, [CHILD, JSON.stringify(config), dataDir], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const lines = createInterface({ input: child.stdout });
      const target = 500 + round * 700;
      let seen = 0;
      await new Promise<void>((resolve, reject) => {
        // A child that stops acknowledging fails the test in a minute, killed, not at the runner's timeout.
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`append child acknowledged ${seen} of ${target} events in ${APPEND_CHILD_MS} ms`));
        }, APPEND_CHILD_MS);
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`append child exited early with ${code}`));
        });
        lines.on('line', (line) => {
          if (!line.startsWith('ACK ')) return;
          acked.add(line.slice(4));
          if (++seen === target) {
            clearTimeout(timer);
            child.kill('SIGKILL');
            resolve();
          }
        });
      });
      child.removeAllListeners('exit');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    }
    const log = await harness.reopen();
    try {
      const stored = new Set<string>();
      for (let after = 0; ; ) {
        const page = await log.read({ after, limit: 1000 });
        if (page.length === 0) break;
        for (const e of page) stored.add(e.id);
        after = page[page.length - 1]!.sequence;
      }
      const missing = [...acked].filter((id) => !stored.has(id));
      assert.equal(
        missing.length,
        0,
        `acknowledged events missing after kill -9: ${missing.slice(0, 5).join(', ')}`,
      );
      assert.ok(acked.size >= 500 + 1200 + 1900, `only ${acked.size} distinct acknowledged events`);
      // The log still works after recovery.
      const [next] = await log.append([makeEvent()]);
      assert.equal(next?.sequence, log.head());
    } finally {
      await log.close();
    }
  });
}
