import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { COMPATIBILITY_MODES, checkCompatibility, type JsonSchema } from '../registry/compatibility.js';
import { validateSchemaDocument } from '../registry/schema-document.js';
import { callHub, hubTarget } from './api-client.js';

interface SchemaFile {
  type: string;
  schema: object;
  compatibility?: string;
  owner?: string;
}

interface TypeDescription {
  type: string;
  owner: string;
  compatibility: string;
  versions: Array<{ version: number; status: string; schema: object }>;
}

/** A proposal file: JSON or YAML `{ type, schema, compatibility?, owner? }`. */
function readSchemaFile(file: string): SchemaFile {
  let parsed: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    parsed = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  const body = parsed as Partial<SchemaFile> | null;
  if (!body || typeof body.type !== 'string' || typeof body.schema !== 'object' || body.schema === null) {
    throw new Error(
      `${file} must hold { "type": "<event type>", "schema": { ...JSON Schema... }, "compatibility"?: "BACKWARD" }`,
    );
  }
  return body as SchemaFile;
}

const withTarget = (cmd: Command) =>
  cmd
    .option('--url <url>', 'hub URL (default CONVEYOR_URL)')
    .option('--key <key>', 'API key (default CONVEYOR_KEY)');

/** `conveyor schema list|check|propose|approve`: the schema registry of a running hub, from the shell. */
export function registerSchemaCommands(program: Command): void {
  const schema = program
    .command('schema')
    .description('The schema registry: list types, check, propose and approve versions.');

  withTarget(
    schema
      .command('list')
      .description('List event types with owner, compatibility and versions.')
      .option('--json', 'print JSON'),
  ).action(async (opts: { json?: boolean; url?: string; key?: string }) => {
    const { body } = await callHub<{
      items: Array<{
        type: string;
        owner: string;
        compatibility: string;
        versions: Array<{ version: number; status: string }>;
      }>;
    }>(hubTarget(opts), 'GET', '/v1/catalog/schemas');
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(body.items, null, 2)}\n`);
      return;
    }
    for (const t of body.items) {
      const versions = t.versions.map((v) => `v${v.version}:${v.status}`).join(' ');
      process.stdout.write(
        `${t.type.padEnd(36)} ${t.owner.padEnd(26)} ${t.compatibility.padEnd(20)} ${versions}\n`,
      );
    }
  });

  withTarget(
    schema
      .command('check')
      .description(
        "Check a proposal file against the hub's versions under every compatibility mode; exit 1 if it breaks the type's mode.",
      )
      .argument('<file>'),
  ).action(async (file: string, opts: { url?: string; key?: string }) => {
    const proposal = readSchemaFile(file);
    const problems = validateSchemaDocument(proposal.schema);
    if (problems.length > 0) {
      for (const p of problems) process.stdout.write(`invalid schema ${p.path || '/'}: ${p.message}\n`);
      process.exitCode = 1;
      return;
    }
    const { body } = await callHub<TypeDescription>(
      hubTarget(opts),
      'GET',
      `/v1/catalog/schemas/${encodeURIComponent(proposal.type)}`,
    );
    const previous = body.versions.filter((v) => v.status === 'approved' || v.status === 'deprecated');
    const required = proposal.compatibility ?? body.compatibility;
    for (const mode of COMPATIBILITY_MODES) {
      const verdict = checkCompatibility(
        proposal.schema as JsonSchema,
        previous.map((v) => v.schema as JsonSchema),
        mode,
      );
      process.stdout.write(
        `${mode.padEnd(20)} ${verdict.compatible ? 'compatible' : 'INCOMPATIBLE'}${mode === required ? '   <- required for this type' : ''}\n`,
      );
      for (const p of verdict.problems) {
        process.stdout.write(
          `    ${p.path || '/'}  [${p.rule}, ${p.direction}, against v${previous[p.against]?.version}]  ${p.message}\n`,
        );
      }
    }
    const verdict = checkCompatibility(
      proposal.schema as JsonSchema,
      previous.map((v) => v.schema as JsonSchema),
      required as (typeof COMPATIBILITY_MODES)[number],
    );
    if (!verdict.compatible) process.exitCode = 1;
  });

  withTarget(
    schema
      .command('propose')
      .description('Propose a new version from a file { type, schema, compatibility?, owner? }.')
      .argument('<file>'),
  ).action(async (file: string, opts: { url?: string; key?: string }) => {
    const proposal = readSchemaFile(file);
    const { body } = await callHub<{ type: string; version: number; status: string }>(
      hubTarget(opts),
      'POST',
      `/v1/catalog/schemas/${encodeURIComponent(proposal.type)}/versions`,
      {
        schema: proposal.schema,
        ...(proposal.compatibility ? { compatibility: proposal.compatibility } : {}),
        ...(proposal.owner ? { owner: proposal.owner } : {}),
      },
    );
    process.stdout.write(`${body.type} version ${body.version} is ${body.status}\n`);
  });

  withTarget(
    schema
      .command('approve')
      .description('Approve a proposed version (needs catalog:approve).')
      .argument('<type>')
      .argument('<version>'),
  ).action(async (type: string, version: string, opts: { url?: string; key?: string }) => {
    const { body } = await callHub<{ type: string; version: number; status: string }>(
      hubTarget(opts),
      'POST',
      `/v1/catalog/schemas/${encodeURIComponent(type)}/versions/${encodeURIComponent(version)}/approve`,
    );
    process.stdout.write(`${body.type} version ${body.version} is ${body.status}\n`);
  });
}
