import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/index.js';
import type { ConnectorManager } from '../connectors/framework/manager.js';
import { connectorKind } from '../connectors/framework/registry.js';
import { ProblemError } from '../errors/problem.js';
import type { StateStore } from '../store/port.js';
import { requireScope } from './auth-plugin.js';
import { parseListQuery } from './list-query.js';

export interface ConnectorsPluginOptions {
  readonly config: Config;
  readonly connectors: ConnectorManager;
  readonly store: StateStore;
}

/** Connectors and their health, and what source connectors could not map (their DLQ). Needs `ops`. */
export async function connectorsPlugin(
  app: FastifyInstance,
  options: ConnectorsPluginOptions,
): Promise<void> {
  const { config, connectors, store } = options;

  app.get('/v1/connectors', async (request) => {
    requireScope(request, 'ops');
    const sources = new Map(connectors.statuses().map((s) => [s.name, s]));
    const items = Object.entries(config.connectors).map(([name, raw]) => {
      const status = sources.get(name);
      if (status) return status;
      return {
        name,
        kind: raw.kind,
        role: 'sink',
        stability: connectorKind(raw.kind)?.stability ?? null,
        usedBy: {
          routes: config.routes.filter((r) => r.sink === name).map((r) => r.name),
          commands: Object.entries(config.commands)
            .filter(([, c]) => c.connector === name)
            .map(([command]) => command),
        },
      };
    });
    return { items, next: null };
  });

  app.get('/v1/connectors/:name/dead-letters', async (request) => {
    const principal = requireScope(request, 'ops');
    const { name } = request.params as { name: string };
    if (!connectors.statuses().some((s) => s.name === name))
      throw new ProblemError('not-found', `no source connector "${name}"; GET /v1/connectors lists them`);
    const { after, limit } = parseListQuery(request.query as Record<string, string | undefined>);
    const items = await store.sourceDeadLetters.list(
      { connector: name, ...(principal.plants !== null ? { plants: [...principal.plants] } : {}) },
      after,
      limit,
    );
    const last = items.at(-1);
    return {
      items: items.map((e) => ({
        position: e.position,
        connector: e.connector,
        messageId: e.messageId,
        origin: e.origin,
        plant: e.plant,
        error: e.error,
        raw: Buffer.from(e.raw).toString('base64'),
        at: new Date(e.at).toISOString(),
      })),
      next: items.length === limit && last ? String(last.position) : null,
    };
  });
}
