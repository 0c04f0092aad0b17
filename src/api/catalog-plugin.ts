import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config/index.js';
import { ProblemError } from '../errors/problem.js';
import { buildDependencies } from '../registry/dependencies.js';
import type { SchemaRegistry } from '../registry/registry.js';
import type { SchemaStatus, StateStore } from '../store/port.js';
import { requestAudit } from './audit.js';
import { requirePrincipal, requireScope } from './auth-plugin.js';

export interface CatalogPluginOptions {
  readonly registry: SchemaRegistry;
  readonly store: StateStore;
  readonly config: Config;
}

/** The catalog: schemas with their versions and life cycle, and who publishes and consumes each type. */
export async function catalogPlugin(app: FastifyInstance, options: CatalogPluginOptions): Promise<void> {
  const { registry, store, config } = options;
  const audit = requestAudit(store.audit);

  app.get('/v1/catalog/schemas', async (request) => {
    requirePrincipal(request);
    const items = registry.types().map((t) => ({
      type: t.type,
      domain: t.domain,
      owner: t.owner,
      compatibility: t.compatibility,
      latestApproved: registry.latestApproved(t.type) ?? null,
      versions: t.versions.map((v) => ({ version: v.version, status: v.status })),
    }));
    return { items, next: null };
  });

  app.get('/v1/catalog/schemas/:type', async (request) => {
    requirePrincipal(request);
    const { type } = request.params as { type: string };
    const description = registry.describe(type);
    if (!description) throw new ProblemError('not-found', `no event type "${type}" in the catalog`);
    return description;
  });

  app.post('/v1/catalog/schemas/:type/versions', async (request, reply) => {
    const principal = requireScope(request, 'catalog:write');
    const { type } = request.params as { type: string };
    const body = request.body as { schema?: unknown; compatibility?: unknown; owner?: unknown } | undefined;
    if (!body || typeof body !== 'object' || body.schema === undefined) {
      throw new ProblemError(
        'validation-failed',
        'the body must be {"schema": {...}, "compatibility"?: "BACKWARD", "owner"?: "team"}',
        {
          errors: [{ path: '/schema', message: 'is required' }],
        },
      );
    }
    try {
      const result = await registry.propose(
        type,
        body.schema,
        {
          ...(typeof body.compatibility === 'string' ? { compatibility: body.compatibility } : {}),
          ...(typeof body.owner === 'string' ? { owner: body.owner } : {}),
        },
        principal.client,
      );
      await audit(request, 'schema.propose', `${type}:${result.version}`, 'done');
      return reply.code(201).send(result);
    } catch (error) {
      await audit(request, 'schema.propose', type, 'refused', { reason: (error as Error).message });
      throw error;
    }
  });

  const transition = (status: SchemaStatus, action: string) => async (request: FastifyRequest) => {
    const { type, version } = request.params as { type: string; version: string };
    // A refusal is audited by the hub's denied-request hook.
    const principal = requireScope(request, 'catalog:approve');
    if (!/^\d+$/.test(version)) {
      throw new ProblemError('bad-request', 'the version must be an integer', {
        errors: [{ path: 'version', message: 'must be 1, 2, ...' }],
      });
    }
    const updated = await registry.setStatus(type, Number(version), status, principal.client);
    await audit(request, `schema.${action}`, `${type}:${version}`, 'done');
    return { type, version: updated.version, status: updated.status };
  };
  app.post('/v1/catalog/schemas/:type/versions/:version/approve', transition('approved', 'approve'));
  app.post('/v1/catalog/schemas/:type/versions/:version/deprecate', transition('deprecated', 'deprecate'));
  app.post('/v1/catalog/schemas/:type/versions/:version/retire', transition('retired', 'retire'));

  app.get('/v1/catalog/dependencies', async (request) => {
    requirePrincipal(request);
    const items = buildDependencies(config, registry.types(), await store.clients.list());
    return { items, next: null };
  });
}
