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
        return '';
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

function describeAjvError(error: ErrorObject): ConfigProblem {
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

/** Ajv reports every branch of a union; keep one clear line per path instead of a wall of noise. */
function condense(errors: ErrorObject[]): ConfigProblem[] {
  const byPath = new Map<string, ConfigProblem>();
  const unionPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  for (const error of errors) {
    const insideUnion = [...unionPaths].some(
      (p) =>
        error.keyword !== 'anyOf' && (error.instancePath === p || error.instancePath.startsWith(`${p}/`)),
    );
    // Inside a union, a `kind` literal mismatch says nothing useful; the union's hint does.
    if (insideUnion && error.keyword === 'const') continue;
    const problem = describeAjvError(error);
    const key = `${problem.path}\u0000${problem.message}`;
    if (!byPath.has(key)) byPath.set(key, problem);
  }
  return [...byPath.values()];
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
