import type { FastifyInstance } from 'fastify';
import type { HubMetrics } from '../observability/metrics.js';
import { requireScope } from './auth-plugin.js';

export interface OpsPluginOptions {
  readonly metrics: HubMetrics;
  /** Whether the hub accepts traffic (false while starting and stopping). */
  readonly isReady: () => boolean;
}

/** Probes and metrics. `/healthz` and `/readyz` answer without credentials; `/metrics` needs `ops`. */
export async function opsPlugin(app: FastifyInstance, options: OpsPluginOptions): Promise<void> {
  app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { public: true } }, async (_request, reply) => {
    if (options.isReady()) return { status: 'ready' };
    return reply.code(503).header('retry-after', '1').send({ status: 'not-ready' });
  });
  app.get('/metrics', async (request, reply) => {
    requireScope(request, 'ops');
    return reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });
}
