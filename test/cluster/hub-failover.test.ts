/**
 * Two hub instances share a JetStream log and a PostgreSQL store. One is killed with SIGKILL
 * while it delivers: the other takes the route over within 10 s and finishes it, each key's events
 * still arrive in log order, and the repeats a takeover causes are counted and bounded.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  getJson,
  ingestUntilStopped,
  ownerOf,
  pidOf,
  startClusterHub,
  writeClusterConfig,
} from '../helpers/cluster-hubs.js';
import type { HubProcess } from '../helpers/hub-process.js';
import { type SharedNatsCluster, sharedNatsCluster } from '../helpers/nats-cluster.js';
import { sharedPostgres } from '../helpers/postgres.js';
import { TestReceiver } from '../helpers/receiver.js';

const KEYS = 20;
/** Positions are committed every 100 ms; a takeover repeats at most what was in flight then. */
const MAX_REPEATS = 1_000;

let nats: SharedNatsCluster;
const receiver = new TestReceiver();

before(async () => {
  nats = await sharedNatsCluster();
  await receiver.listen();
});
after(async () => {
  await receiver.close();
  await nats.stop();
});

test('kill -9 of the instance delivering a route: the other takes over within 10 s, in order per key, nothing lost', {
  timeout: 180_000,
}, async (t) => {
  // A slow-ish endpoint keeps deliveries in flight when the kill comes.
  receiver.behaviour = () => ({ status: 204, delayMs: 2 });
  const config = writeClusterConfig({
    natsServers: nats.urls,
    replicas: nats.replicas,
    postgresUrl: await (await sharedPostgres()).createDatabase('conveyor_failover'),
    receiverUrl: receiver.url,
  });
  const hubs: HubProcess[] = [await startClusterHub(config), await startClusterHub(config)];
  try {
    let owner: string | null = null;
    for (let i = 0; i < 200 && owner === null; i++) {
      owner = await ownerOf(hubs[0]!.url, 'route:to-receiver');
      if (owner === null) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(owner, 'one instance runs the route');
    const victim = hubs.find((h) => h.child.pid === pidOf(owner as string)) as HubProcess;
    const survivor = hubs.find((h) => h !== victim) as HubProcess;

    const load = ingestUntilStopped(() => [survivor.url], KEYS, { ratePerSecond: 600 });
    await receiver.waitFor(() => receiver.received.length >= 1_500, 60_000, '1,500 deliveries');
    const killedAt = Date.now();
    await victim.stop('SIGKILL');
    let newOwner: string | null = owner;
    while (newOwner === owner || newOwner === null) {
      assert.ok(Date.now() - killedAt < 10_000, `no takeover ${Date.now() - killedAt} ms after the kill`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      newOwner = await ownerOf(survivor.url, 'route:to-receiver');
    }
    const takeoverMs = Date.now() - killedAt;
    assert.equal(pidOf(newOwner), survivor.child.pid);
    // Keep publishing a little after the takeover, then let the survivor finish.
    const target = receiver.received.length + 1_000;
    await receiver.waitFor(() => receiver.received.length >= target, 60_000, 'deliveries after the takeover');
    await load.stop();
    const acked = new Set(load.acked.map((a) => a.id));
    // Checked on every delivery: incremental, so the receiver in this process is never starved.
    const delivered = new Set<string>();
    let counted = 0;
    const deliveredIds = () => {
      for (; counted < receiver.received.length; counted++) delivered.add(receiver.received[counted]!.id);
      return delivered;
    };
    const outstanding = new Set(acked);
    const allDelivered = () => {
      const ids = deliveredIds();
      for (const id of outstanding) if (ids.has(id)) outstanding.delete(id);
      return outstanding.size === 0;
    };
    try {
      await receiver.waitFor(allDelivered, 60_000, 'every acknowledged event delivered');
    } catch (error) {
      const routes = await getJson(`${survivor.url}/v1/subscriptions`);
      const cluster = await getJson(`${survivor.url}/v1/cluster`);
      const missing = outstanding.size;
      throw new Error(
        `${(error as Error).message}; ${missing} of ${acked.size} missing; routes ${JSON.stringify(routes.body)}; cluster ${JSON.stringify(cluster.body)}; stderr ${survivor.stderr()}`,
      );
    }

    // In log order per key, once repeats are set aside.
    const firstSeen = new Map<string, number[]>();
    const seen = new Set<string>();
    let repeats = 0;
    for (const r of receiver.received) {
      if (seen.has(r.id)) {
        repeats++;
        continue;
      }
      seen.add(r.id);
      firstSeen.set(r.key, [...(firstSeen.get(r.key) ?? []), r.sequence]);
    }
    for (const [key, sequences] of firstSeen) {
      for (let i = 1; i < sequences.length; i++)
        assert.ok(sequences[i]! > sequences[i - 1]!, `${key}: ${sequences[i - 1]} then ${sequences[i]}`);
    }
    t.diagnostic(
      `takeover after ${takeoverMs} ms; ${acked.size} events acknowledged, ${seen.size} delivered, ${repeats} repeated`,
    );
    assert.ok(repeats <= MAX_REPEATS, `${repeats} repeats`);
    const { body } = await getJson<{ instances: unknown[] }>(`${survivor.url}/v1/cluster`);
    assert.equal(body.instances.length, 1, 'the dead instance left the cluster');
  } finally {
    for (const hub of hubs) await hub.stop('SIGTERM').catch(() => undefined);
  }
});
