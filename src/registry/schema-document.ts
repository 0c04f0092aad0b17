import { createAjv, describeAjvErrors, type ValidationProblem } from '../model/schemas/ajv.js';
import { JSON_SCHEMA_DIALECT } from '../model/schemas/index.js';
import { compileLinearPattern } from '../model/schemas/linear-regexp.js';
import {
  escapePointer,
  isLocalPointerRef,
  isSchemaObject,
  resolveLocalRef,
  type SchemaObject,
  subSchemas,
  walkSchema,
} from './schema-walk.js';

export type { ValidationProblem } from '../model/schemas/ajv.js';

// One instance for every check: building the meta-schema validator is the expensive part.
const ajv = createAjv();

/**
 * Checks that a proposed schema document is something the registry can store and the hub can run:
 * a JSON Schema 2020-12 object that compiles in Ajv's strict mode, whose `$ref`s all point inside the
 * document (`#/$defs/...`) and never form a cycle. Returns `[]` when it is fine, otherwise problems
 * with JSON Pointers into the schema document.
 *
 * Remote references are refused rather than fetched: a schema must mean the same thing on every hub,
 * with or without network access, for as long as events written with it are kept.
 */
export function validateSchemaDocument(schema: unknown): ValidationProblem[] {
  if (!isSchemaObject(schema)) {
    return [
      { path: '', message: 'a schema must be a JSON object, e.g. {"type": "object", "properties": {...}}' },
    ];
  }
  const problems: ValidationProblem[] = [];
  const dialect = schema.$schema;
  if (dialect !== undefined && dialect !== JSON_SCHEMA_DIALECT && dialect !== `${JSON_SCHEMA_DIALECT}#`) {
    problems.push({
      path: '/$schema',
      message: `only JSON Schema 2020-12 is supported: remove $schema or set it to ${JSON_SCHEMA_DIALECT}`,
    });
  }
  problems.push(...checkReferences(schema));
  problems.push(...checkPatterns(schema));
  if (problems.length > 0) return problems;

  if (!ajv.validateSchema(schema)) return describeAjvErrors(ajv.errors ?? []);
  // The registry assigns the `$id`; compiling under the proposed one could clash with an earlier check.
  const { $id: _ignored, ...probe } = schema;
  try {
    ajv.compile(probe);
  } catch (error) {
    problems.push({ path: '', message: (error as Error).message });
  } finally {
    ajv.removeSchema(probe);
  }
  return problems;
}

/**
 * Every `pattern` and `patternProperties` key must be one the linear-time engine can run; saying which
 * one and where beats Ajv's compile error, which names neither.
 */
function checkPatterns(root: SchemaObject): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const check = (pattern: string, at: string): void => {
    try {
      compileLinearPattern(pattern);
    } catch (error) {
      problems.push({ path: at, message: (error as Error).message });
    }
  };
  walkSchema(root, (node, pointer) => {
    if (typeof node.pattern === 'string') check(node.pattern, `${pointer}/pattern`);
    const patternProperties = node.patternProperties;
    if (isSchemaObject(patternProperties)) {
      for (const key of Object.keys(patternProperties)) {
        check(key, `${pointer}/patternProperties/${escapePointer(key)}`);
      }
    }
  });
  return problems;
}

function checkReferences(root: SchemaObject): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  walkSchema(root, (node, pointer) => {
    if (pointer !== '' && '$id' in node) {
      problems.push({
        path: `${pointer}/$id`,
        message:
          'a nested $id is not supported: it changes what references inside it mean; move the schema under $defs',
      });
    }
    for (const keyword of ['$dynamicRef', '$recursiveRef']) {
      if (keyword in node) {
        problems.push({
          path: `${pointer}/${keyword}`,
          message: `${keyword} is not supported; use $ref with a JSON Pointer such as #/$defs/name`,
        });
      }
    }
    const ref = node.$ref;
    if (typeof ref !== 'string') return;
    const at = `${pointer}/$ref`;
    if (isLocalPointerRef(ref)) {
      if (resolveLocalRef(root, ref) === undefined) {
        problems.push({ path: at, message: `${ref} does not point to anything in this schema` });
      }
    } else if (ref.startsWith('#')) {
      problems.push({
        path: at,
        message: `${ref} is an anchor reference; refer by JSON Pointer instead, e.g. #/$defs/${ref.slice(1)}`,
      });
    } else {
      problems.push({
        path: at,
        message: `${ref} is a remote reference: Conveyor never fetches remote schemas; copy the definition under $defs and refer to it as #/$defs/<name>`,
      });
    }
  });
  if (problems.length === 0) problems.push(...findReferenceCycles(root));
  return problems;
}

interface RefEdge {
  readonly to: string;
  /** Where the `$ref` keyword is, as a JSON Pointer into the document. */
  readonly at: string;
}

/** The local `$ref`s inside `node`, not descending into its definitions (they only matter once referred to). */
function refsInside(node: unknown, pointer: string, out: RefEdge[] = []): RefEdge[] {
  if (!isSchemaObject(node)) return out;
  if (typeof node.$ref === 'string') out.push({ to: node.$ref, at: `${pointer}/$ref` });
  for (const sub of subSchemas(node, true)) {
    refsInside(sub.schema, pointer + sub.segments.map((s) => `/${escapePointer(s)}`).join(''), out);
  }
  return out;
}

/**
 * A reference graph whose nodes are the document and every `$ref` target; an edge means "this schema
 * contains a `$ref` to that one". Any cycle is reported, once, naming the references around it.
 */
function findReferenceCycles(root: SchemaObject): ValidationProblem[] {
  // Nodes: the document, every definition (even unused ones can be circular among themselves) and
  // every reference target.
  const nodes = new Set<string>(['#']);
  walkSchema(root, (node, pointer) => {
    if (/\/(\$defs|definitions)\/[^/]+$/.test(pointer)) nodes.add(`#${pointer}`);
    if (typeof node.$ref === 'string') nodes.add(node.$ref);
  });
  const edges = new Map<string, RefEdge[]>();
  for (const ref of nodes) edges.set(ref, refsInside(resolveLocalRef(root, ref), ref.slice(1)));

  const problems: ValidationProblem[] = [];
  const reported = new Set<string>();
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (ref: string): void => {
    state.set(ref, 'active');
    stack.push(ref);
    for (const edge of edges.get(ref) ?? []) {
      const seen = state.get(edge.to);
      if (seen === 'active') {
        const cycle = [...stack.slice(stack.indexOf(edge.to)), edge.to];
        const key = [...new Set(cycle)].sort().join(' ');
        if (!reported.has(key)) {
          reported.add(key);
          problems.push({
            path: edge.at,
            message: `circular $ref: ${cycle.join(' → ')}; recursive schemas are not supported, spell out the nesting to a fixed depth`,
          });
        }
      } else if (seen === undefined) {
        visit(edge.to);
      }
    }
    stack.pop();
    state.set(ref, 'done');
  };
  for (const ref of edges.keys()) if (!state.has(ref)) visit(ref);
  return problems;
}
