import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { ConfigError, type ConfigProblem, pointerToKeyPath } from './config-error.js';
import { ConfigSchema, type RawConfig } from './schema.js';

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true, useDefaults: false });
const validate = ajv.compile<RawConfig>(ConfigSchema);

/** Replaces `${NAME}` in every string with the environment variable's value; a missing one is a problem. */
export function resolveEnvReferences(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: ConfigProblem[],
  path = '',
): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_whole, name: string) => {
      const found = env[name];
      if (found === undefined) {
        problems.push({
          path,
          message: `environment variable ${name} is not set; export it or write the value`,
        });
        // Keep the reference text so the schema check adds no noise about an empty value.
        return `\${${name}}`;
      }
      return found;
    });
  }
  if (Array.isArray(value))
    return value.map((item, i) => resolveEnvReferences(item, env, problems, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = resolveEnvReferences(item, env, problems, path === '' ? key : `${path}.${key}`);
    }
    return out;
  }
  return value;
}

export function describeAjvError(error: ErrorObject): ConfigProblem {
  const path = pointerToKeyPath(error.instancePath);
  const hint = (error.parentSchema as { 'x-hint'?: string } | undefined)?.['x-hint'];
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
      return {
        path: path === '' ? key : `${path}.${key}`,
        message: `unknown key; expected one of: ${known.join(', ')}`,
      };
    }
    case 'required':
      return {
        path:
          path === ''
            ? (error.params as { missingProperty: string }).missingProperty
            : `${path}.${(error.params as { missingProperty: string }).missingProperty}`,
        message: 'is required',
      };
    case 'pattern':
    case 'type':
    case 'const':
    case 'anyOf':
    case 'enum':
      return { path, message: hint ? `must be ${hint}` : (error.message ?? 'is invalid') };
    default:
      return { path, message: error.message ?? 'is invalid' };
  }
}

/**
 * Ajv reports every branch of a union. When the value names its `kind`, only the branch of that
 * kind speaks; otherwise the union's hint does. Then one line per path and message.
 */
function condense(errors: ErrorObject[]): ConfigProblem[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf');
  const dropped = new Set<ErrorObject>();
  for (const union of unions) {
    const prefix = `${union.schemaPath.slice(0, -'/anyOf'.length)}/anyOf/`;
    const branches = new Map<string, ErrorObject[]>();
    for (const e of errors) {
      if (e === union || !e.schemaPath.startsWith(prefix)) continue;
      const branch = e.schemaPath.slice(prefix.length).split('/')[0] as string;
      branches.set(branch, [...(branches.get(branch) ?? []), e]);
    }
    const matching = [...branches.values()].filter(
      (list) => !list.some((e) => e.keyword === 'const' && e.instancePath === `${union.instancePath}/kind`),
    );
    const data = union.data as { kind?: unknown } | null;
    const kindNamed = data !== null && typeof data === 'object' && typeof data.kind === 'string';
    if (kindNamed && matching.length === 1) {
      dropped.add(union);
      for (const list of branches.values()) if (list !== matching[0]) for (const e of list) dropped.add(e);
    } else {
      for (const list of branches.values()) for (const e of list) dropped.add(e);
    }
  }
  const byKey = new Map<string, ConfigProblem>();
  for (const error of errors) {
    if (dropped.has(error)) continue;
    const problem = describeAjvError(error);
    const key = `${problem.path}\u0000${problem.message}`;
    if (!byKey.has(key)) byKey.set(key, problem);
  }
  return [...byKey.values()];
}

/** Validates a parsed config object (after env resolution) against the schema. */
export function validateRawConfig(
  raw: unknown,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): RawConfig {
  const problems: ConfigProblem[] = [];
  const resolved = resolveEnvReferences(raw ?? {}, env, problems);
  if (resolved === null || typeof resolved !== 'object' || Array.isArray(resolved)) {
    throw new ConfigError(source, [
      { path: '', message: 'the file must hold a mapping of keys (server:, log:, ...)' },
    ]);
  }
  if (!validate(resolved)) problems.push(...condense(validate.errors ?? []));
  if (problems.length > 0) throw new ConfigError(source, problems);
  return resolved as RawConfig;
}

/** Reads and validates conveyor.yaml. YAML syntax errors are reported with line and column. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): RawConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${(error as Error).message}` }]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({
        path: '',
        message: `YAML syntax error at line ${e.linePos?.[0]?.line ?? '?'}, column ${e.linePos?.[0]?.col ?? '?'}: ${e.message.split('\n')[0]}`,
      })),
    );
  }
  return validateRawConfig(doc.toJS(), file, env);
}
