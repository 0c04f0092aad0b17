/**
 * The JetStream event log with its id index in PostgreSQL (a hub whose state store is PostgreSQL):
 * the event log contract, then idempotency past JetStream's duplicate window, across a restart and
 * between two instances appending the same ids at once, on a real 3-node nats-server cluster.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { connect } from 'nats';
import {
  JetStreamEventLog,
  type JetStreamEventLogOptions,
} from '../../src/log/jetstream/jetstream-event-log.js';
import { PgIdClaims } from '../../src/log/jetstream/pg-id-claims.js';
import type { CloudEvent } from '../../src/model/envelope.js';
import { makeEvent } from '../helpers/events.js';
import { untilWindowForgets, withNats } from '../helpers/jetstream-probes.js';
import { sharedNatsCluster } from '../helpers/nats-cluster.js';
import { sharedPostgres } from '../helpers/postgres.js';
import { type EventLogHarness, eventLogContract } from './event-log-contract.js';

const cluster = await sharedNatsCluster();
const postgres = await sharedPostgres();
const database = await postgres.createDatabase(`js_ids_${process.pid}`);
const childDataDir = mkdtempSync(join(tmpdir(), 'conveyor-js-pg-child-'));
const streams: string[] = [];
let counter = 0;

function freshStream(): string {
  const name = `P${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  streams.push(name);
  return name;
}

function options(stream: string, extra: Partial<JetStreamEventLogOptions> = {}): JetStreamEventLogOptions {
  return {
    servers: cluster.urls,
    replicas: cluster.replicas,
    stream,
    openIdClaims: (log) => PgIdClaims.open(database, log),
    ...extra,
  };
}

after(async () => {
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
      config: {
        log: { kind: 'jetstream', servers: [...cluster.urls], replicas: cluster.replicas, stream },
        store: { kind: 'postgres', url: database },
      },
      dataDir: childDataDir,
    }),
  };
}

eventLogContract('jetstream with the id index in PostgreSQL', harness());

async function storedMessages(stream: string): Promise<number> {
  return withNats(
    cluster.urls,
    async (nc) => (await (await nc.jetstreamManager()).streams.info(stream)).state.messages,
  );
}

test('jetstream + PostgreSQL ids: the index lives where the first open put it, and a hub without PostgreSQL is refused', async () => {
  const stream = freshStream();
  const first = await JetStreamEventLog.open(options(stream));
  await first.append([makeEvent()]);
  await first.close();
  await assert.rejects(
    JetStreamEventLog.open({ servers: cluster.urls, replicas: cluster.replicas, stream }),
    /id index of stream .* is in the PostgreSQL state store/,
  );
});

test('jetstream + PostgreSQL ids: a re-send past the duplicate window, also after a restart, is stored once', async () => {
  const stream = freshStream();
  const windowMs = 1_000;
  const event = makeEvent();
  const first = await JetStreamEventLog.open(options(stream, { duplicateWindowMs: windowMs }));
  const [stored] = await first.append([event]);
  const original = stored?.sequence as number;
  // Past the window, to the same instance: JetStream stores a copy, the index finds the original.
  await withNats(cluster.urls, (nc) => untilWindowForgets(nc, stream, event));
  assert.deepEqual(await first.append([{ ...event, data: { changed: true } }]), [
    { sequence: original, duplicate: true },
  ]);
  await first.close();

  // After a restart (nothing remembered in memory) and past the window again.
  const second = await JetStreamEventLog.open(options(stream, { duplicateWindowMs: windowMs }));
  try {
    await withNats(cluster.urls, (nc) => untilWindowForgets(nc, stream, event));
    assert.deepEqual(await second.append([{ ...event, data: { again: true } }]), [
      { sequence: original, duplicate: true },
    ]);
    assert.equal(await storedMessages(stream), 1, 'both late copies were removed');
    const all = await second.read({ limit: 10 });
    assert.deepEqual(
      all.map((e) => [e.sequence, e.data]),
      [[original, event.data]],
    );
  } finally {
    await second.close();
  }
});

for (const index of ['PostgreSQL', 'KV'] as const) {
  test(`jetstream + ${index} ids: two instances appending the same ids at once, past the window, store each once`, async () => {
    const stream = freshStream();
    const windowMs = 1_000;
    const extra: Partial<JetStreamEventLogOptions> = { duplicateWindowMs: windowMs };
    const open = () =>
      index === 'PostgreSQL'
        ? JetStreamEventLog.open(options(stream, extra))
        : JetStreamEventLog.open({ servers: cluster.urls, replicas: cluster.replicas, stream, ...extra });
    const a = await open();
    const b = await open();
    try {
      const events = Array.from({ length: 20 }, () => makeEvent());
      // Inside the window JetStream itself answers the second copy.
      const [fromA, fromB] = await Promise.all([a.append(events), b.append(events)]);
      assert.deepEqual(
        fromA.map((o) => o.sequence),
        fromB.map((o) => o.sequence),
        'both instances answer the same sequence for each id',
      );
      assert.equal(await storedMessages(stream), events.length);

      // Past the window both instances store a copy of each at once; one claim per id wins.
      await withNats(cluster.urls, (nc) => untilWindowForgets(nc, stream, events[0] as CloudEvent));
      const again = events.map((e) => ({ ...e, data: { resent: true } }));
      const [lateA, lateB] = await Promise.all([a.append(again), b.append(again)]);
      assert.deepEqual(
        lateA,
        fromA.map((o) => ({ sequence: o.sequence, duplicate: true })),
      );
      assert.deepEqual(
        lateB,
        fromA.map((o) => ({ sequence: o.sequence, duplicate: true })),
      );
      const read = await a.read({ limit: 100 });
      assert.deepEqual(
        read.map((e) => e.id),
        events.map((e) => e.id),
        'each id is handed out once, the first version',
      );
      assert.ok(read.every((e) => (e.data as { resent?: boolean }).resent === undefined));
      // The late copies are removed once claimed against (at once by their appender).
      const deadline = Date.now() + 10_000;
      while ((await storedMessages(stream)) !== events.length && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await storedMessages(stream), events.length);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
}
