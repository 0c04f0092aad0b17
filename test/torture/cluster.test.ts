/**
 * The torture checker against two hubs sharing a JetStream stream (three NATS nodes, three
 * replicas) and a PostgreSQL store: the hub delivering the broad route is killed with SIGKILL,
 * then the NATS node leading the stream.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect } from 'nats';
import { runClusterScenario } from '../../src/torture/cluster-scenario.js';
import { NatsCluster } from '../helpers/nats-cluster.js';
import { sharedPostgres } from '../helpers/postgres.js';
import { assertKept } from './report.js';

const seed = Number(process.env.CONVEYOR_TORTURE_SEED ?? Date.now() % 1_000_000);
let cluster: NatsCluster;

before(async () => {
  // Its own cluster: this test kills one of its nodes.
  cluster = await NatsCluster.start({ nodes: 3 });
});
after(async () => {
  await cluster?.stop();
});

test('two hubs on JetStream + PostgreSQL, a hub and a NATS node killed: nothing acknowledged lost, order per key kept', {
  timeout: 240_000,
}, async (t) => {
  const result = await runClusterScenario({
    nats: {
      urls: cluster.urls,
      replicas: 3,
      async leaderOf(stream) {
        const nc = await connect({ servers: [...cluster.urls], timeout: 5_000 });
        try {
          const leader = (await (await nc.jetstreamManager()).streams.info(stream)).cluster?.leader;
          assert.ok(leader, `stream ${stream} has a leader`);
          return Number(leader.replace(/^n/, '')) - 1;
        } finally {
          await nc.close();
        }
      },
      kill: (node) => cluster.kill(node),
      restart: (node) => cluster.restart(node),
    },
    postgresUrl: await (await sharedPostgres()).createDatabase('conveyor_torture'),
    eventsBetweenFaults: 400,
    seed,
  });
  assertKept(t, result);
  assert.match(result.faults.join('\n'), /kill -9 of NATS node/);
});
