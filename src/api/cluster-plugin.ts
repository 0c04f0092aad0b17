import type { FastifyInstance } from 'fastify';
import type { WorkCoordinator } from '../cluster/work-coordinator.js';
import { INSTANCE_LEASE_PREFIX, type StateStore } from '../store/port.js';
import { requireScope } from './auth-plugin.js';

export interface ClusterPluginOptions {
  readonly store: StateStore;
  readonly coordinator: WorkCoordinator;
}

/**
 * `GET /v1/cluster`: the hub instances sharing this store and which one runs each piece of work
 * (routes, sources, retention), read from the leases; any instance answers the same.
 */
export async function clusterPlugin(app: FastifyInstance, options: ClusterPluginOptions): Promise<void> {
  const { store, coordinator } = options;
  app.get('/v1/cluster', async (request) => {
    requireScope(request, 'ops');
    const leases = await store.leases.live('');
    const instances = leases.filter((l) => l.name.startsWith(INSTANCE_LEASE_PREFIX));
    return {
      answeredBy: coordinator.instanceId,
      instances: instances.map((l) => ({
        id: l.holder,
        leaseExpiresAt: new Date(l.expiresAt).toISOString(),
      })),
      work: leases
        .filter((l) => !l.name.startsWith(INSTANCE_LEASE_PREFIX))
        .map((l) => ({
          name: l.name,
          instance: l.holder,
          leaseExpiresAt: new Date(l.expiresAt).toISOString(),
        })),
    };
  });
}
