/**
 * One of three NATS nodes is killed with SIGKILL — the stream's leader — while a hub ingests and
 * delivers on a stream with three replicas: no event that got a 202 is lost, ingest resumes once a
 * new leader is elected, and delivery goes on to the end.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { connect } from 'nats';
import { request } from 'undici';
import { ingestUntilStopped, startClusterHub, writeClusterConfig } from '../helpers/cluster-hubs.js';
import { ADMIN_KEY } from '../helpers/hub.js';
import { NatsCluster } from '../helpers/nats-cluster.js';
import { sharedPostgres } from '../helpers/postgres.js';
import { TestReceiver } from '../helpers/receiver.js';

let cluster: NatsCluster;
const receiver = new TestReceiver();

before(async () => {
  cluster = await NatsCluster.start({ nodes: 3 });
  await receiver.listen();
});
after(async () => {
  await receiver.close();
  await cluster.stop();
});

/** The node (index) that leads the stream's replicas. */
async function leaderOf(stream: string): Promise<number> {
  const nc = await connect({ servers: [...cluster.urls], timeout: 5_000 });
  try {
    const info = await (await nc.jetstreamManager()).streams.info(stream);
    const leader = info.cluster?.leader;
    assert.ok(leader, `stream ${stream} has a leader`);
    return Number(leader.replace(/^n/, '')) - 1;
  } finally {
    await nc.close();
  }
}

async function storedIds(url: string): Promise<Set<string>> {
  const stored = new Set<string>();
  for (let after: string | null = '0', attempt = 0; after !== null; ) {
    const res: Awaited<ReturnType<typeof request>> = await request(
      `${url}/v1/events?limit=1000&after=${after}`,
      { headers: { authorization: `Bearer ${ADMIN_KEY}` } },
    );
    const page = (await res.body.json()) as { items: Array<{ id: string }>; next: string | null };
    // A read may meet the tail of the election: the API says so with a 503 and Retry-After.
    if (res.statusCode === 503 && attempt++ < 10) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      continue;
    }
    assert.equal(res.statusCode, 200, JSON.stringify(page));
    attempt = 0;
    for (const e of page.items) stored.add(e.id);
    after = page.next;
  }
  return stored;
}

test('kill -9 of the stream leader among three NATS nodes: nothing acknowledged is lost, delivery goes on', {
  timeout: 240_000,
}, async (t) => {
  const configPath = writeClusterConfig({
    natsServers: cluster.urls,
    replicas: 3,
    postgresUrl: await (await sharedPostgres()).createDatabase('conveyor_nats_kill'),
    receiverUrl: receiver.url,
  });
  const stream = (JSON.parse(readFileSync(configPath, 'utf8')) as { log: { stream: string } }).log.stream;
  const hub = await startClusterHub(configPath);
  try {
    const load = ingestUntilStopped(() => [hub.url], 20, { ratePerSecond: 1_500 });
    await receiver.waitFor(
      () => load.acked.length >= 3_000 && receiver.received.length >= 1_000,
      60_000,
      'ingest and delivery under way',
    );
    const leader = await leaderOf(stream);
    const ackedAtKill = load.acked.length;
    await cluster.kill(leader);
    // Ingest goes on once the remaining two nodes have elected a new leader.
    const deadline = Date.now() + 60_000;
    while (load.acked.length < ackedAtKill + 3_000) {
      assert.ok(
        Date.now() < deadline,
        `ingest did not resume: ${load.acked.length - ackedAtKill} acknowledged since the kill`,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await load.stop();

    const acked = new Set(load.acked.map((a) => a.id));
    const outstanding = new Set(acked);
    let counted = 0;
    await receiver.waitFor(
      () => {
        for (; counted < receiver.received.length; counted++)
          outstanding.delete(receiver.received[counted]!.id);
        return outstanding.size === 0;
      },
      120_000,
      'every acknowledged event delivered',
    );
    const stored = await storedIds(hub.url);
    const lost = [...acked].filter((id) => !stored.has(id));
    t.diagnostic(
      `node n${leader + 1} killed after ${ackedAtKill} acknowledgements; ${acked.size} acknowledged in all, ${load.refused()} requests refused or failed during the election, ${lost.length} lost`,
    );
    assert.equal(lost.length, 0, `acknowledged but not in the log: ${lost.slice(0, 5).join(', ')}`);
  } finally {
    await hub.stop('SIGTERM').catch(() => undefined);
  }
});
