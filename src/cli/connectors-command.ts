import type { Command } from 'commander';
import { connectorKind, connectorKinds } from '../connectors/framework/registry.js';
import { registerBuiltInConnectors } from '../connectors/index.js';

interface SchemaNode {
  type?: string | string[];
  description?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: SchemaNode[];
  items?: SchemaNode;
  pattern?: string;
}

/** One line per field of a connector's config schema, nested fields indented. */
function describeFields(schema: SchemaNode, indent = '  '): string[] {
  const lines: string[] = [];
  const required = new Set(schema.required ?? []);
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const choices = field.anyOf
      ?.map((a) =>
        a.properties ? `{${Object.keys(a.properties).join(', ')}}` : JSON.stringify(a.const ?? a.type),
      )
      .join(' | ');
    const type =
      field.const !== undefined ? JSON.stringify(field.const) : (choices ?? [field.type].flat().join('|'));
    lines.push(
      `${indent}${name}${required.has(name) ? '' : '?'}: ${type || 'value'}${field.description ? `  ${field.description}` : ''}`,
    );
    if (field.properties) lines.push(...describeFields(field, `${indent}  `));
  }
  return lines;
}

/** `conveyor connectors list|describe KIND`: the connector kinds of this build, from their specs. */
export function registerConnectorsCommand(program: Command): void {
  const connectors = program
    .command('connectors')
    .description('Connector kinds of this build and their config.');
  connectors
    .command('list')
    .description('List connector kinds: roles, stability and summary.')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      registerBuiltInConnectors();
      const kinds = connectorKinds().map((k) => ({
        kind: k.kind,
        roles: k.roles,
        stability: k.stability,
        summary: k.summary,
      }));
      if (opts.json) process.stdout.write(`${JSON.stringify(kinds, null, 2)}\n`);
      else
        for (const k of kinds)
          process.stdout.write(`${k.kind}\t${k.roles.join('+')}\t${k.stability}\t${k.summary}\n`);
    });
  connectors
    .command('describe')
    .description("Show a connector kind's config keys (its JSON Schema with --json).")
    .argument('<kind>')
    .option('--json', 'print the JSON Schema')
    .action((kind: string, opts: { json?: boolean }) => {
      registerBuiltInConnectors();
      const found = connectorKind(kind);
      if (!found) {
        throw new Error(
          `no connector kind "${kind}"; known: ${connectorKinds()
            .map((k) => k.kind)
            .join(', ')}`,
        );
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(found.schema, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${found.kind} (${found.roles.join(' + ')}, ${found.stability})\n${found.summary}\n\nconfig:\n${describeFields(found.schema as SchemaNode).join('\n')}\n`,
      );
    });
}
