/**
 * The servers a whole test run shares: one PostgreSQL and one 3-node NATS JetStream cluster,
 * started once before the test files and stopped after them. Test files find them through
 * CONVEYOR_TEST_PG and CONVEYOR_TEST_NATS and isolate themselves (a database, a stream per test).
 * Fault tests that kill servers start their own.
 */
import { NatsCluster, SHARED_NATS_ENV } from './nats-cluster.js';
import { PostgresServer } from './postgres.js';

export interface SharedServers {
  /** Variables for the test processes. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startSharedServers(): Promise<SharedServers> {
  const [postgres, nats] = await Promise.allSettled([
    PostgresServer.start(),
    NatsCluster.start({ nodes: 3 }),
  ]);
  if (postgres.status === 'rejected' || nats.status === 'rejected') {
    if (postgres.status === 'fulfilled') await postgres.value.close();
    if (nats.status === 'fulfilled') await nats.value.stop();
    throw postgres.status === 'rejected' ? postgres.reason : (nats as PromiseRejectedResult).reason;
  }
  return {
    env: { CONVEYOR_TEST_PG: postgres.value.url, [SHARED_NATS_ENV]: nats.value.urls.join(',') },
    async stop() {
      await Promise.all([postgres.value.close(), nats.value.stop()]);
    },
  };
}
