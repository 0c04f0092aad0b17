import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { stringify as toYaml } from 'yaml';
import {
  type AsyncApiDocument,
  buildAsyncApi,
  type CatalogSchema,
  type CatalogTypeInfo,
} from '../catalog/asyncapi.js';
import { buildOpenApi, type OpenApiDocument } from '../catalog/openapi.js';
import type { Config } from '../config/index.js';
import { CANONICAL_TYPES, laneOfType } from '../model/catalog.js';
import type { SchemaRegistry } from '../registry/registry.js';
import { requirePrincipal } from './auth-plugin.js';

export interface DocsPluginOptions {
  readonly registry: SchemaRegistry;
  readonly config: Config;
  readonly version: string;
}

/** The latest approved schema of every type, as the exports describe them. */
function currentSchemas(registry: SchemaRegistry): Map<string, CatalogSchema> {
  const schemas = new Map<string, CatalogSchema>();
  for (const type of registry.types()) {
    const version = registry.latestApproved(type.type);
    const record = type.versions.find((v) => v.version === version);
    if (record)
      schemas.set(type.type, { version: record.version, schema: record.schema, status: record.status });
  }
  return schemas;
}

/** The catalog as AsyncAPI 3.0, the HTTP API as OpenAPI 3.1, and a browsable API reference at /docs. */
export async function docsPlugin(app: FastifyInstance, options: DocsPluginOptions): Promise<void> {
  const { registry, config, version } = options;
  const asyncApi = (): AsyncApiDocument => {
    const types = new Map<string, CatalogTypeInfo>();
    for (const t of registry.types()) {
      const known = CANONICAL_TYPES.get(t.type);
      types.set(
        t.type,
        known ?? { domain: t.domain, owner: t.owner, lane: laneOfType(t.type), plantScoped: false },
      );
    }
    return buildAsyncApi({ config, schemas: currentSchemas(registry), types, version });
  };
  const openApi = (): OpenApiDocument =>
    buildOpenApi({
      schemas: new Map([...currentSchemas(registry)].map(([type, s]) => [type, s.schema])),
      version,
    });

  app.get('/v1/catalog/asyncapi.json', async (request) => {
    requirePrincipal(request);
    return asyncApi();
  });
  app.get('/v1/openapi.json', async (request) => {
    requirePrincipal(request);
    return openApi();
  });

  // The reference page renders the same document. swagger-ui reads it through the `swagger()`
  // decorator that its usual companion plugin provides; here it comes from our own builder.
  await app.register(
    fp(
      async (instance: FastifyInstance) => {
        instance.decorate('swagger', (opts?: { yaml?: boolean }) =>
          opts?.yaml ? toYaml(openApi()) : openApi(),
        );
      },
      { name: '@fastify/swagger' },
    ),
  );
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true, validatorUrl: null },
  });
}
