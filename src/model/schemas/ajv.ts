import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { linearRegExp } from './linear-regexp.js';

/** One problem found in a document, with a JSON Pointer into it and a sentence a person can act on. */
export interface ValidationProblem {
  readonly path: string;
  readonly message: string;
}

// ajv-formats is CommonJS; under NodeNext its default export arrives as the module object, and the
// plugin is both that object and its `default` property.
const addFormats = formatsModule.default;

/**
 * An Ajv instance for the JSON Schema 2020-12 dialect with the standard formats, in strict mode (an
 * unknown keyword or a keyword that cannot apply is a schema error, not silently ignored). Union
 * types (`type: ["string", "null"]`) are allowed. Every Conveyor schema is compiled by one of these,
 * so what the registry accepts is exactly what the validator can run.
 *
 * Patterns run on a linear-time engine (see linear-regexp.ts): a schema's `pattern` can never make
 * validating client data take more than time proportional to its length. Properties that also match a
 * `patternProperties` key are allowed: checking that overlap runs the pattern on the backtracking
 * engine, and the overlap is valid JSON Schema anyway.
 */
export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    strict: true,
    allowUnionTypes: true,
    allowMatchingProperties: true,
    allErrors: true,
    verbose: true,
    code: { regExp: linearRegExp },
  });
  addFormats(ajv);
  return ajv;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

const FORMAT_WORDS: Record<string, string> = {
  'date-time': 'an RFC 3339 date-time with an offset',
  date: 'an RFC 3339 date (YYYY-MM-DD)',
  time: 'an RFC 3339 time with an offset',
  duration: 'an ISO 8601 duration',
  email: 'an e-mail address',
  uri: 'an absolute URI',
  'uri-reference': 'a URI reference',
  uuid: 'a UUID',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  hostname: 'a host name',
};

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** `, for example EA, KG or M` from the failing schema's `examples`, when it has some. */
function exampleHint(error: ErrorObject): string {
  const examples = (error.parentSchema as { examples?: unknown } | undefined)?.examples;
  if (!Array.isArray(examples) || examples.length === 0) return '';
  const shown = examples.slice(0, 3).map(show);
  const list = shown.length === 1 ? shown[0] : `${shown.slice(0, -1).join(', ')} or ${shown.at(-1)}`;
  return `, for example ${list}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function describe(error: ErrorObject, prefix: string): ValidationProblem {
  const path = prefix + error.instancePath;
  // Ajv's `params` differ by keyword; each branch reads the ones its keyword defines.
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path: `${path}/${escapePointer(String(params.missingProperty))}`, message: 'is required' };
    case 'additionalProperties':
      return {
        path: `${path}/${escapePointer(String(params.additionalProperty))}`,
        message: 'is not allowed: the schema declares no such field',
      };
    case 'type':
      return {
        path,
        message: `must be ${String(params.type)
          .split(',')
          .map((t) => TYPE_WORDS[t] ?? t)
          .join(' or ')}`,
      };
    case 'enum':
      return { path, message: `must be one of: ${(params.allowedValues as unknown[]).map(show).join(', ')}` };
    case 'const':
      return { path, message: `must be ${show(params.allowedValue)}` };
    case 'minimum':
      return { path, message: `must be >= ${params.limit}` };
    case 'exclusiveMinimum':
      return { path, message: `must be > ${params.limit}` };
    case 'maximum':
      return { path, message: `must be <= ${params.limit}` };
    case 'exclusiveMaximum':
      return { path, message: `must be < ${params.limit}` };
    case 'multipleOf':
      return { path, message: `must be a multiple of ${params.multipleOf}` };
    case 'minLength':
      return {
        path,
        message:
          params.limit === 1
            ? 'must not be empty'
            : `must be at least ${plural(Number(params.limit), 'character')} long`,
      };
    case 'maxLength':
      return { path, message: `must be at most ${plural(Number(params.limit), 'character')} long` };
    case 'pattern':
      return { path, message: `must match the pattern ${params.pattern}${exampleHint(error)}` };
    case 'format': {
      const format = String(params.format);
      return {
        path,
        message: `must be ${FORMAT_WORDS[format] ?? `in the ${format} format`}${exampleHint(error)}`,
      };
    }
    case 'minItems':
      return {
        path,
        message:
          params.limit === 1
            ? 'must have at least one item'
            : `must have at least ${plural(Number(params.limit), 'item')}`,
      };
    case 'maxItems':
      return { path, message: `must have at most ${plural(Number(params.limit), 'item')}` };
    case 'uniqueItems':
      return { path, message: `must not repeat items (items ${params.j} and ${params.i} are equal)` };
    case 'minProperties':
      return { path, message: `must have at least ${plural(Number(params.limit), 'field')}` };
    case 'maxProperties':
      return { path, message: `must have at most ${plural(Number(params.limit), 'field')}` };
    case 'false schema':
      return { path, message: 'is not allowed here' };
    default:
      return { path, message: error.message ?? 'is invalid' };
  }
}

/**
 * Turns Ajv's errors into one line per problem, paths prefixed with `prefix` (e.g. `/data`). A failed
 * `anyOf`/`oneOf` becomes a single line naming what each alternative wanted, instead of one line per
 * alternative plus a "must match a schema in anyOf".
 */
export function describeAjvErrors(errors: readonly ErrorObject[], prefix = ''): ValidationProblem[] {
  const branchesOf = new Map<ErrorObject, ErrorObject[]>();
  const consumed = new Set<ErrorObject>();
  errors.forEach((union, index) => {
    if (union.keyword !== 'anyOf' && union.keyword !== 'oneOf') return;
    const own = `${union.schemaPath}/`;
    const parent = `${union.schemaPath.slice(0, union.schemaPath.lastIndexOf('/'))}/`;
    const branches: ErrorObject[] = [];
    // Branch errors come just before the union's own error. Inside the same document their schema path
    // starts with the union's; through a `$ref` it starts elsewhere (but not beside the union).
    for (let j = index - 1; j >= 0; j--) {
      const e = errors[j] as ErrorObject;
      if (!e.instancePath.startsWith(union.instancePath)) break;
      const inside = e.schemaPath.startsWith(own);
      if (!inside && e.schemaPath.startsWith(parent)) break;
      consumed.add(e);
      if (e.instancePath === union.instancePath && e.keyword !== 'anyOf' && e.keyword !== 'oneOf') {
        branches.unshift(e);
      }
    }
    branchesOf.set(union, branches);
  });
  const out: ValidationProblem[] = [];
  const seen = new Set<string>();
  const push = (problem: ValidationProblem): void => {
    const key = `${problem.path}\u0000${problem.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(problem);
  };
  for (const error of errors) {
    if (consumed.has(error)) continue;
    const branches = branchesOf.get(error);
    if (branches === undefined) {
      push(describe(error, prefix));
    } else if (
      error.keyword === 'oneOf' &&
      (error.params as { passingSchemas?: unknown }).passingSchemas != null
    ) {
      push({ path: prefix + error.instancePath, message: 'matches more than one of the allowed forms' });
    } else {
      push({ path: prefix + error.instancePath, message: describeUnion(branches, prefix) });
    }
  }
  return out;
}

/** "must be A or B" from what each alternative of a failed union wanted at the same place. */
function describeUnion(branches: readonly ErrorObject[], prefix: string): string {
  const wants = [...new Set(branches.map((e) => describe(e, prefix).message.replace(/^must /, '')))];
  if (wants.length === 0) return 'does not match any of the allowed forms';
  const allBe = wants.every((w) => w.startsWith('be '));
  const parts = allBe ? wants.map((w) => w.slice(3)) : wants;
  const separator = parts.some((p) => p.includes(',')) ? ', or ' : ' or ';
  return `must ${allBe ? 'be ' : ''}${parts.join(separator)}`;
}
