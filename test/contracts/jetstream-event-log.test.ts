/**
 * The JetStream event log against a real 3-node nats-server cluster (replicas 3): the event log
 * contract, then what only this backend has: idempotency past JetStream's duplicate window (late
 * duplicates answered with the original, removed, never handed out), recovery of what a dead
 * writer left unsettled, subject tokens for any attribute value, consumers shared between
 * instances, and a node crash while appending.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import {
  JetStreamEventLog,
  type JetStreamEventLogOptions,
} from '../../src/log/jetstream/jetstream-event-log.js';
import { eventSubject, idempotencyKey } from '../../src/log/jetstream/subjects.js';
import type { EventLog } from '../../src/log/port.js';
import type { CloudEvent } from '../../src/model/envelope.js';
import { makeEvent } from '../helpers/events.js';
import { untilWindowForgets, withNats } from '../helpers/jetstream-probes.js';
import { NatsCluster, sharedNatsCluster } from '../helpers/nats-cluster.js';
import { type EventLogHarness, eventLogContract } from './event-log-contract.js';

const cluster = await sharedNatsCluster();
/** The crash test's append child needs a data folder, though the log keeps nothing in it. */
const childDataDir = mkdtempSync(join(tmpdir(), 'conveyor-js-child-'));
const streams: string[] = [];
let counter = 0;

/** A stream name no other test (or test process on a shared cluster) uses. */
function freshStream(): string {
  const name = `T${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  streams.push(name);
  return name;
}

function options(stream: string, extra: Partial<JetStreamEventLogOptions> = {}): JetStreamEventLogOptions {
  return { servers: cluster.urls, replicas: cluster.replicas, stream, ...extra };
}

after(async () => {
  // On a shared cluster the streams would outlive this run; a cluster of our own goes as a whole.
  const nc = await connect({ servers: [...cluster.urls] });
  try {
    const jsm = await nc.jetstreamManager();
    for (const stream of streams) {
      for (const name of [stream, `KV_${stream}_IDS`, `KV_${stream}_STATE`]) {
        await jsm.streams.delete(name).catch(() => false);
      }
    }
  } finally {
    await nc.close();
    await cluster.stop();
    rmSync(childDataDir, { recursive: true, force: true });
  }
});

function harness(): EventLogHarness {
  let stream = '';
  return {
    async open() {
      stream = freshStream();
      return JetStreamEventLog.open(options(stream));
    },
    reopen: () => JetStreamEventLog.open(options(stream)),
    childConfig: () => ({
      config: { log: { kind: 'jetstream', servers: [...cluster.urls], replicas: cluster.replicas, stream } },
      dataDir: childDataDir,
    }),
  };
}

eventLogContract('jetstream', harness());

test('jetstream: past the duplicate window, a re-sent event is still a duplicate, also one a dead writer never indexed', async () => {
  const stream = freshStream();
  const windowMs = 1_000;
  const first = await JetStreamEventLog.open(options(stream, { duplicateWindowMs: windowMs }));
  const indexed = makeEvent();
  const [stored] = await first.append([indexed]);
  await first.close();

  // A writer that died between its publish and its index write: the event is in the stream only.
  const orphan = makeEvent({ type: 'quality.hold.placed' });
  const orphanSeq = await withNats(cluster.urls, async (nc) => {
    const ack = await nc.jetstream().publish(eventSubject(stream, orphan), JSON.stringify(orphan), {
      msgID: idempotencyKey(orphan.source, orphan.id),
    });
    const ids = await nc.jetstream().views.kv(`${stream}_IDS`);
    assert.equal(await ids.get(idempotencyKey(orphan.source, orphan.id)), null, 'not indexed yet');
    return ack.seq;
  });

  // Opening a log indexes what lies past the mark.
  const second = await JetStreamEventLog.open(options(stream, { duplicateWindowMs: windowMs }));
  try {
    await withNats(cluster.urls, async (nc) => {
      const ids = await nc.jetstream().views.kv(`${stream}_IDS`);
      assert.equal((await ids.get(idempotencyKey(orphan.source, orphan.id)))?.string(), String(orphanSeq));
      await untilWindowForgets(nc, stream, indexed);
      await untilWindowForgets(nc, stream, orphan);
    });
    const outcomes = await second.append([
      { ...indexed, data: { changed: true } },
      { ...orphan, data: { changed: true } },
    ]);
    assert.deepEqual(outcomes, [
      { sequence: stored?.sequence, duplicate: true },
      { sequence: orphanSeq, duplicate: true },
    ]);
    const all = await second.read({ limit: 10 });
    assert.deepEqual(
      all.map((e) => e.id),
      [indexed.id, orphan.id],
    );
    assert.deepEqual(all[0]?.data, indexed.data, 'the first version is kept');
  } finally {
    await second.close();
  }
});

test('jetstream: a re-send past the duplicate window from another instance gets the original sequence; its copy is removed and never handed out', async () => {
  const stream = freshStream();
  const windowMs = 1_000;
  const writer = await JetStreamEventLog.open(options(stream, { duplicateWindowMs: windowMs }));
  let resender: JetStreamEventLog | null = null;
  try {
    const event = makeEvent();
    const [stored] = await writer.append([event]);
    const original = stored?.sequence as number;
    const consumer = await writer.consume('route', {}, { startAt: 0 });
    assert.deepEqual(
      (await consumer.fetch(10, 2_000)).map((e) => e.sequence),
      [original],
    );
    await consumer.commit(original);
    await withNats(cluster.urls, (nc) => untilWindowForgets(nc, stream, event));

    // A fresh instance knows nothing of the event: its publish is stored, then found a duplicate.
    resender = await JetStreamEventLog.open(options(stream, { duplicateWindowMs: windowMs }));
    const waiting = consumer.fetch(10, 3_000);
    const outcomes = await resender.append([{ ...event, data: { changed: true } }]);
    assert.deepEqual(outcomes, [{ sequence: original, duplicate: true }]);
    assert.deepEqual(await waiting, [], 'the waiting consumer never gets the copy');
    const info = await withNats(cluster.urls, async (nc) =>
      (await nc.jetstreamManager()).streams.info(stream),
    );
    assert.equal(info.state.last_seq, original + 1, 'the copy was stored...');
    assert.equal(info.state.messages, 1, '...and removed again: the event is stored once');
    const fresh = await resender.consume('fresh', {}, { startAt: 0 });
    assert.deepEqual(
      (await fresh.fetch(10, 1_000)).map((e) => [e.sequence, e.data]),
      [[original, event.data]],
    );
  } finally {
    await writer.close();
    await resender?.close();
  }
});

test('jetstream: what a dead writer left unsettled: its late duplicate is never handed out and is removed, its new event is claimed', async () => {
  const stream = freshStream();
  const windowMs = 1_000;
  const first = await JetStreamEventLog.open(options(stream, { duplicateWindowMs: windowMs }));
  let second: JetStreamEventLog | null = null;
  try {
    const event = makeEvent();
    const orphan = makeEvent({ type: 'quality.hold.placed' });
    const [stored] = await first.append([event]);
    const consumer = await first.consume('route', {}, { startAt: 0 });
    assert.deepEqual(
      (await consumer.fetch(10, 2_000)).map((e) => e.id),
      [event.id],
    );
    await withNats(cluster.urls, (nc) => untilWindowForgets(nc, stream, event));

    // A writer that died after publishing: a late duplicate it never removed, a new event it never claimed.
    const waiting = consumer.fetch(10, 5_000);
    const [copySeq, orphanSeq] = await withNats(cluster.urls, async (nc) => {
      const js = nc.jetstream();
      const publish = (e: CloudEvent) =>
        js.publish(eventSubject(stream, e), JSON.stringify(e), { msgID: idempotencyKey(e.source, e.id) });
      const copy = await publish({ ...event, data: { changed: true } });
      assert.equal(copy.duplicate, false, 'past the window, JetStream stores the copy');
      return [copy.seq, (await publish(orphan)).seq];
    });
    const got = [...(await waiting), ...(await consumer.fetch(10, 500))];
    assert.deepEqual(
      got.map((e) => e.sequence),
      [orphanSeq],
      'the new event is handed out, the late duplicate never',
    );

    // Opening a log settles what lies past the mark (unless the first log's own pass did already).
    second = await JetStreamEventLog.open(options(stream, { duplicateWindowMs: windowMs }));
    await withNats(cluster.urls, async (nc) => {
      const jsm = await nc.jetstreamManager();
      await assert.rejects(jsm.streams.getMessage(stream, { seq: copySeq }), 'the copy is removed');
      const ids = await nc.jetstream().views.kv(`${stream}_IDS`);
      assert.equal((await ids.get(idempotencyKey(orphan.source, orphan.id)))?.string(), String(orphanSeq));
    });
    assert.equal((await second.stats()).events, 2);
    assert.deepEqual(
      (await second.read({ limit: 10 })).map((e) => e.sequence),
      [stored?.sequence, orphanSeq],
    );
    assert.deepEqual(await second.append([{ ...event, data: { again: true } }, orphan]), [
      { sequence: stored?.sequence, duplicate: true },
      { sequence: orphanSeq, duplicate: true },
    ]);
  } finally {
    await first.close();
    await second?.close();
  }
});

test('jetstream: any plant, subject or type becomes valid subject tokens, and filters on them stay exact', async () => {
  const stream = freshStream();
  const log = await JetStreamEventLog.open(options(stream));
  try {
    const odd = makeEvent({ plant: 'P 1.*>', subject: 'order 42.a*b>c_d', type: 'quality.hold.placed' });
    const long = makeEvent({
      plant: 'P1',
      subject: `ORD-${'x'.repeat(300)}`,
      type: 'production.order.released',
    });
    const unicode = makeEvent({ plant: 'Zürich', subject: '注文-1', type: 'production.order.released' });
    const plain = makeEvent({ plant: 'P1', subject: 'order 42', type: 'quality.hold.placed' });
    const noPlant = makeEvent({ subject: 'order 42' });
    delete noPlant.plant;
    const outcomes = await log.append([odd, long, unicode, plain, noPlant]);
    const subjects = await withNats(cluster.urls, async (nc) => {
      const jsm = await nc.jetstreamManager();
      return Promise.all(
        outcomes.map(async (o) => (await jsm.streams.getMessage(stream, { seq: o.sequence })).subject),
      );
    });
    for (const subject of subjects) {
      assert.match(subject, /^[A-Za-z0-9_.-]+$/, `${subject} has only token characters`);
      assert.ok(subject.length < 200, `${subject} stays short`);
    }
    assert.equal(
      subjects[0]?.split('.').length,
      1 + 3 + 2,
      'stream, plant, subject, then the three type parts',
    );
    const ids = async (filter: Parameters<EventLog['read']>[0]) => (await log.read(filter)).map((e) => e.id);
    assert.deepEqual(await ids({ plant: 'P 1.*>' }), [odd.id]);
    assert.deepEqual(await ids({ subject: 'order 42.a*b>c_d' }), [odd.id]);
    assert.deepEqual(await ids({ subject: 'order 42' }), [plain.id, noPlant.id]);
    assert.deepEqual(await ids({ subject: long.subject }), [long.id]);
    assert.deepEqual(await ids({ plant: 'Zürich', types: ['production.*'] }), [unicode.id]);
    assert.deepEqual(await ids({ plants: ['P1', 'P 1.*>'], types: ['quality.hold.placed'] }), [
      odd.id,
      plain.id,
    ]);
    assert.deepEqual(
      await ids({ plant: 'P1', plants: ['P2'] }),
      [],
      'a plant outside the plants matches nothing',
    );
    const stats = await log.stats();
    assert.equal(stats.events, 5);
    assert.deepEqual(stats.domains, ['production', 'quality']);
  } finally {
    await log.close();
  }
});

test('jetstream: a consumer over several domains hands out in order, moves past other events, and resumes after reopening', async () => {
  const stream = freshStream();
  let log = await JetStreamEventLog.open(options(stream));
  const filter = { types: ['quality.*', 'production.order.released'] };
  const consumer = await log.consume('multi', filter, { startAt: 0 });
  const events = [
    makeEvent({ type: 'telemetry.machine.state' }),
    makeEvent({ type: 'production.order.released' }),
    makeEvent({ type: 'quality.hold.placed' }),
    makeEvent({ type: 'telemetry.machine.state' }),
    makeEvent({ type: 'quality.hold.released' }),
    makeEvent({ type: 'production.order.released' }),
    makeEvent({ type: 'telemetry.machine.state' }),
  ];
  const outcomes = await log.append(events);
  const wanted = [1, 2, 4, 5].map((i) => events[i]?.id);
  const got = await consumer.fetch(3, 2_000);
  assert.deepEqual(
    got.map((e) => e.id),
    wanted.slice(0, 3),
  );
  assert.equal(consumer.readPosition(), got[2]?.sequence, 'a full fetch stops at its last event');
  await consumer.commit(got[1]!.sequence);
  const rest = await consumer.fetch(10, 2_000);
  assert.deepEqual(
    rest.map((e) => e.id),
    wanted.slice(3),
  );
  assert.equal(consumer.readPosition(), outcomes[6]?.sequence, 'the telemetry at the end is passed over');
  await log.close();

  log = await JetStreamEventLog.open(options(stream));
  try {
    const resumed = await log.consume('multi', filter);
    assert.equal(resumed.committed(), outcomes[2]?.sequence);
    const again = await resumed.fetch(10, 2_000);
    assert.deepEqual(
      again.map((e) => e.id),
      wanted.slice(2),
      'fetched but not committed is fetched again',
    );
    assert.deepEqual(await log.consumers(), [{ name: 'multi', position: outcomes[2]?.sequence }]);
    resumed.close();
  } finally {
    await log.close();
  }
});

test('jetstream: a consumer hands out what its pull brought without asking the stream leader first, so steady appends cannot hold a fetch back', async () => {
  const stream = freshStream();
  const log = await JetStreamEventLog.open(options(stream));
  // Every leader look-up (STREAM.MSG.GET) of this stream, seen from a connection of our own.
  const watcher = await connect({ servers: [...cluster.urls] });
  let lookups = 0;
  watcher.subscribe(`$JS.API.STREAM.MSG.GET.${stream}`, { callback: () => lookups++ });
  await watcher.flush();
  /** A read of a type nobody appends asks the leader once; waits until that request is seen. */
  const sentinel = async () => {
    const seen = lookups;
    await log.read({ types: ['maintenance.order.created'] });
    await until('the sentinel look-up seen', () => lookups > seen);
  };
  try {
    const appended = await log.append(Array.from({ length: 5 }, () => makeEvent()));
    const consumer = await log.consume('steady', { types: ['production.*'] }, { startAt: 0 });
    await sentinel(); // also makes sure the watcher's interest has reached every node
    const before = lookups;
    const got = await consumer.fetch(100, 2_000);
    assert.deepEqual(
      got.map((e) => e.sequence),
      appended.map((a) => a.sequence),
    );
    await sentinel();
    assert.equal(lookups - before, 1, 'only the sentinel asked the leader: the fetch answered from its pull');
    // Once the pull runs dry, the leader is asked, and the position moves past what it vouches for.
    const [other] = await log.append([makeEvent({ type: 'quality.hold.placed' })]);
    assert.deepEqual(await consumer.fetch(100, 50), []);
    assert.equal(consumer.readPosition(), other?.sequence);
    consumer.close();
  } finally {
    await watcher.close();
    await log.close();
  }
});

test('jetstream: two instances share the log: reads and waiting consumers see the other one’s appends', async () => {
  const stream = freshStream();
  const writer = await JetStreamEventLog.open(options(stream));
  const reader = await JetStreamEventLog.open(options(stream));
  try {
    const consumer = await reader.consume('follower', { types: ['production.*'] });
    const waiting = consumer.fetch(10, 10_000);
    const started = Date.now();
    const [appended] = await writer.append([makeEvent()]);
    const got = await waiting;
    assert.deepEqual(
      got.map((e) => e.sequence),
      [appended?.sequence],
    );
    assert.ok(Date.now() - started < 5_000, 'the waiting fetch wakes on the append, not at its timeout');
    const [second] = await writer.append([makeEvent({ type: 'quality.hold.placed' })]);
    assert.deepEqual(
      (await reader.read({ after: appended?.sequence })).map((e) => e.sequence),
      [second?.sequence],
    );
    assert.equal(reader.head(), second?.sequence, 'reads move the head this instance knows');
  } finally {
    await Promise.all([writer.close(), reader.close()]);
  }
});

/** Polls `condition` every 20 ms until it holds; fails after 30 s. */
async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('jetstream: with the stream leader’s node killed mid-append, every acknowledged event is kept and appends go on', async () => {
  // Killing a node needs a cluster of our own, even when the suite shares one.
  const own = await NatsCluster.start({ nodes: 3 });
  const log = await JetStreamEventLog.open({ servers: own.urls, replicas: 3, stream: 'FAULTS' });
  const acked: string[] = [];
  let stop = false;
  let failures = 0;
  const producing = (async () => {
    while (!stop) {
      const batch = Array.from({ length: 5 }, () => makeEvent());
      // As a producer does: an append that failed is sent again, same ids, until it is acknowledged.
      for (;;) {
        try {
          await log.append(batch);
          break;
        } catch (error) {
          if (++failures > 3) throw error;
        }
      }
      acked.push(...batch.map((e) => e.id));
    }
  })();
  producing.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
  try {
    await until('100 events acknowledged', () => acked.length >= 100);
    const leader = await withOwn(
      own,
      async (nc) => (await (await nc.jetstreamManager()).streams.info('FAULTS')).cluster?.leader,
    );
    const victim = Number(String(leader).slice(1)) - 1;
    await own.kill(victim);
    const atKill = acked.length;
    await until('appends going on after the leader died', () => acked.length >= atKill + 100);
    stop = true;
    await producing;
    await own.restart(victim);
    const stored = new Set<string>();
    for (let after = 0; ; ) {
      const page = await log.read({ after, limit: 1000 });
      if (page.length === 0) break;
      for (const e of page) stored.add(e.id);
      after = page[page.length - 1]!.sequence;
    }
    assert.deepEqual(
      acked.filter((id) => !stored.has(id)),
      [],
    );
  } finally {
    stop = true;
    await producing.catch(() => undefined);
    await log.close();
    await own.stop();
  }
});

async function withOwn<T>(own: NatsCluster, fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: [...own.urls] });
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
}
