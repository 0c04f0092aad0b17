/**
 * The demo on a cluster: two hub instances on a JetStream log and a PostgreSQL store, the
 * simulated systems spreading their requests over both. Both instances serve, the work is split
 * between them, and the whole landscape flows: commands, MES deliveries, and the plant connectors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { startHubProcess } from '../helpers/hub-process.js';
import { type SharedNatsCluster, sharedNatsCluster } from '../helpers/nats-cluster.js';
import { sharedPostgres } from '../helpers/postgres.js';

const KEY = 'cvy_demo-cluster-admin-key-abcdefghijklmnopq';

let nats: SharedNatsCluster;
before(async () => {
  nats = await sharedNatsCluster();
});
after(() => nats.stop());

async function get<T>(url: string): Promise<T> {
  const res = await request(url, {
    headers: { authorization: `Bearer ${KEY}` },
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  assert.equal(res.statusCode, 200, url);
  return (await res.body.json()) as T;
}

test('the demo runs on two hub instances sharing a JetStream log and a PostgreSQL store', {
  timeout: 180_000,
}, async () => {
  const postgres = await (await sharedPostgres()).createDatabase('conveyor_demo_cluster');
  const demo = await startHubProcess(
    [
      'demo',
      '--port',
      '0',
      '--data',
      mkdtempSync(join(tmpdir(), 'conveyor-demo-cluster-')),
      '--rate',
      '10',
      '--plants',
      '2',
      '--instances',
      '2',
      '--nats',
      nats.urls.join(','),
      '--replicas',
      String(nats.replicas),
      '--postgres',
      postgres,
    ],
    { CONVEYOR_ADMIN_KEY: KEY },
  );
  try {
    const deadline = Date.now() + 90_000;
    const waitFor = async (what: string, check: () => Promise<boolean>) => {
      while (!(await check())) {
        assert.ok(Date.now() < deadline, `${what} within 90 s: ${demo.stderr()}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    type Cluster = { instances: Array<{ id: string }>; work: Array<{ name: string; instance: string }> };
    let cluster: Cluster = { instances: [], work: [] };
    await waitFor('two instances sharing the work', async () => {
      cluster = await get<Cluster>(`${demo.url}/v1/cluster`);
      return cluster.instances.length === 2 && new Set(cluster.work.map((w) => w.instance)).size === 2;
    });
    const names = cluster.work.map((w) => w.name);
    for (const work of ['route:mes-p1-orders', 'source:line-1', 'source:plc-1', 'source:asn-inbox'])
      assert.ok(names.includes(work), `${work} runs somewhere: ${names.join(', ')}`);

    const first = async (query: string) =>
      (
        await get<{ items: Array<{ subject: string; plant: string; source: string }> }>(
          `${demo.url}/v1/events?${query}&limit=1`,
        )
      ).items[0];
    for (const [what, query] of [
      ['a completion from P1', 'type=production.operation.completed&plant=P1'],
      ['a completion from P2', 'type=production.operation.completed&plant=P2'],
      ['a reservation answered by the WMS', 'type=inventory.reservation.created'],
      ['a machine state from the OPC UA press', 'type=telemetry.machine.state&plant=P1'],
      ['an ASN', 'type=supplier.asn.received'],
    ] as const) {
      await waitFor(what, async () => (await first(query)) !== undefined);
    }
  } finally {
    const exit = await demo.stop('SIGINT', 30_000);
    assert.equal(exit.code, 0, `the demo did not stop cleanly: ${demo.stderr()}`);
  }
});
