import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { buildAsyncApi, type CatalogSchema, type CatalogTypeInfo } from '../catalog/asyncapi.js';
import { buildOpenApi } from '../catalog/openapi.js';
import { loadConfig } from '../config/index.js';
import { PRODUCT_VERSION } from '../hub.js';
import { CANONICAL_TYPES, laneOfType } from '../model/catalog.js';
import { SchemaRegistry } from '../registry/registry.js';
import { openStateStore } from '../store/factory.js';

/** `conveyor catalog export`: the catalog as AsyncAPI 3.0 or the API as OpenAPI 3.1, from the config and the registry. */
export function registerCatalogCommand(program: Command): void {
  const catalog = program.command('catalog').description('The event and API catalog.');
  catalog
    .command('export')
    .description('Write the catalog as AsyncAPI 3.0 or the HTTP API as OpenAPI 3.1 (JSON).')
    .requiredOption('--format <format>', 'asyncapi or openapi')
    .option('--out <file>', 'write to this file instead of standard output')
    .option('-c, --config <file>', 'conveyor.yaml (routes and connectors appear in the AsyncAPI document)')
    .option('-d, --data <dir>', 'data directory holding the schema registry')
    .action(async (opts: { format: string; out?: string; config?: string; data?: string }) => {
      if (opts.format !== 'asyncapi' && opts.format !== 'openapi')
        throw new Error('--format must be asyncapi or openapi');
      const config = loadConfig(opts.config, { dataDir: opts.data });
      const store = await openStateStore(config);
      try {
        const registry = await SchemaRegistry.open(store.schemas);
        const schemas = new Map<string, CatalogSchema>();
        const types = new Map<string, CatalogTypeInfo>();
        for (const t of registry.types()) {
          const version = registry.latestApproved(t.type);
          const record = t.versions.find((v) => v.version === version);
          if (record)
            schemas.set(t.type, { version: record.version, schema: record.schema, status: record.status });
          types.set(
            t.type,
            CANONICAL_TYPES.get(t.type) ?? {
              domain: t.domain,
              owner: t.owner,
              lane: laneOfType(t.type),
              plantScoped: false,
            },
          );
        }
        const document =
          opts.format === 'asyncapi'
            ? buildAsyncApi({ config, schemas, types, version: PRODUCT_VERSION })
            : buildOpenApi({
                schemas: new Map([...schemas].map(([type, s]) => [type, s.schema])),
                version: PRODUCT_VERSION,
              });
        const text = `${JSON.stringify(document, null, 2)}\n`;
        if (opts.out) {
          writeFileSync(opts.out, text);
          process.stderr.write(`wrote ${opts.format} document to ${opts.out}\n`);
        } else process.stdout.write(text);
      } finally {
        await store.close();
      }
    });
}
