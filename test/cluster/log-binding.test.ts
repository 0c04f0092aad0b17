/**
 * The log identity with the cluster backends: a JetStream log and a PostgreSQL store are bound at
 * the first start; another stream, or the same stream deleted and made again, is refused; hubs
 * binding at the same moment agree on one identity.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { connect } from 'nats';
import { bindLogToStore, LogBindingError } from '../../src/integrity/log-binding.js';
import { JetStreamEventLog } from '../../src/log/jetstream/jetstream-event-log.js';
import { PostgresStateStore } from '../../src/store/postgres/pg-state-store.js';
import { makeEvent } from '../helpers/events.js';
import { sharedNatsCluster } from '../helpers/nats-cluster.js';
import { sharedPostgres } from '../helpers/postgres.js';

const cluster = await sharedNatsCluster();
const streams: string[] = [];
let counter = 0;

function freshStream(): string {
  const name = `B${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  streams.push(name);
  return name;
}

const openLog = (stream: string) =>
  JetStreamEventLog.open({ servers: cluster.urls, replicas: cluster.replicas, stream });

async function deleteStream(stream: string): Promise<void> {
  const nc = await connect({ servers: [...cluster.urls] });
  try {
    await (await nc.jetstreamManager()).streams.delete(stream).catch(() => false);
  } finally {
    await nc.close();
  }
}

after(async () => {
  const nc = await connect({ servers: [...cluster.urls] });
  try {
    const jsm = await nc.jetstreamManager();
    for (const stream of streams)
      for (const name of [stream, `KV_${stream}_IDS`, `KV_${stream}_STATE`])
        await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
});

const places = (stream: string) => ({ log: `JetStream stream ${stream}`, store: 'PostgreSQL test database' });

test('jetstream + postgres: bound at the first start, kept on the next, another stream refused', async () => {
  const url = await (await sharedPostgres()).createDatabase('conveyor_binding');
  const stream = freshStream();
  const store = await PostgresStateStore.open({ url });
  try {
    const log = await openLog(stream);
    let identity: string;
    try {
      await log.append([makeEvent(), makeEvent()]);
      identity = await bindLogToStore(log, store, places(stream));
      assert.equal(await log.identity(), identity);
      assert.equal(await store.logBinding.identity(), identity);
    } finally {
      await log.close();
    }
    const again = await openLog(stream);
    try {
      assert.equal(await bindLogToStore(again, store, places(stream)), identity);
    } finally {
      await again.close();
    }
    const other = freshStream();
    const stranger = await openLog(other);
    try {
      await assert.rejects(bindLogToStore(stranger, store, places(other)), (error: Error) => {
        assert.ok(error instanceof LogBindingError);
        assert.match(error.message, new RegExp(`JetStream stream ${other} is a new, empty log`));
        return true;
      });
    } finally {
      await stranger.close();
    }
  } finally {
    await store.close();
  }
});

test('jetstream: a stream deleted and made again under the same name is another log', async () => {
  const url = await (await sharedPostgres()).createDatabase('conveyor_binding');
  const stream = freshStream();
  const store = await PostgresStateStore.open({ url });
  try {
    const log = await openLog(stream);
    try {
      await log.append([makeEvent()]);
      await bindLogToStore(log, store, places(stream));
    } finally {
      await log.close();
    }
    // Only the stream goes; its state bucket (with the identity entry) stays behind.
    await deleteStream(stream);
    const remade = await openLog(stream);
    try {
      assert.equal(await remade.identity(), null);
      await assert.rejects(bindLogToStore(remade, store, places(stream)), LogBindingError);
    } finally {
      await remade.close();
    }
  } finally {
    await store.close();
  }
});

test('jetstream + postgres: hubs binding a fresh pair at the same moment agree on one identity', async () => {
  const url = await (await sharedPostgres()).createDatabase('conveyor_binding');
  const stream = freshStream();
  // Opened one after another (creating a replicated stream is not the race here); bound at once.
  const pairs: Array<{ log: JetStreamEventLog; store: PostgresStateStore }> = [];
  try {
    for (let i = 0; i < 3; i++)
      pairs.push({ log: await openLog(stream), store: await PostgresStateStore.open({ url }) });
    const identities = await Promise.all(pairs.map((p) => bindLogToStore(p.log, p.store, places(stream))));
    assert.equal(new Set(identities).size, 1, `one identity: ${identities.join(', ')}`);
  } finally {
    for (const p of pairs) {
      await p.log.close();
      await p.store.close();
    }
  }
});
