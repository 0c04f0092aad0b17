/**
 * Navigating JSON Schema documents: which keywords hold subschemas, JSON Pointers, and local `$ref`s.
 * Only schema positions are visited, so a `$ref` key inside `const`, `enum`, `default` or `examples`
 * (plain data there) is never mistaken for a reference.
 */

/** A JSON Schema: an object of keywords, or `true` / `false`. */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

/** A schema object (not a boolean schema). */
export type SchemaObject = { readonly [keyword: string]: unknown };

/** Keywords whose value is one subschema. */
const SINGLE = [
  'items',
  'additionalProperties',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contentSchema',
] as const;
/** Keywords whose value is an array of subschemas. */
const LIST = ['allOf', 'anyOf', 'oneOf', 'prefixItems'] as const;
/** Keywords whose value maps names to subschemas. */
const MAP = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'] as const;

/** Whether a value is a schema object (a non-array object). */
export function isSchemaObject(value: unknown): value is SchemaObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Escapes one JSON Pointer segment (RFC 6901). */
export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A direct subschema of a schema object, with the pointer segments leading to it. */
export interface SubSchema {
  readonly segments: readonly string[];
  readonly schema: unknown;
}

/**
 * The direct subschemas of `schema`. `skipDefinitions` leaves out `$defs`/`definitions`, which hold
 * schemas that only take effect where something refers to them.
 */
export function subSchemas(schema: SchemaObject, skipDefinitions = false): SubSchema[] {
  const out: SubSchema[] = [];
  for (const keyword of SINGLE) {
    if (keyword in schema) out.push({ segments: [keyword], schema: schema[keyword] });
  }
  for (const keyword of LIST) {
    const list = schema[keyword];
    if (Array.isArray(list)) {
      for (const [i, s] of list.entries()) out.push({ segments: [keyword, String(i)], schema: s });
    }
  }
  for (const keyword of MAP) {
    if (skipDefinitions && (keyword === '$defs' || keyword === 'definitions')) continue;
    const map = schema[keyword];
    if (isSchemaObject(map)) {
      for (const [name, s] of Object.entries(map)) out.push({ segments: [keyword, name], schema: s });
    }
  }
  return out;
}

/** Calls `visit` on `schema` and every schema inside it, depth first, with its JSON Pointer. */
export function walkSchema(
  schema: unknown,
  visit: (node: SchemaObject, pointer: string) => void,
  pointer = '',
): void {
  if (!isSchemaObject(schema)) return;
  visit(schema, pointer);
  for (const sub of subSchemas(schema)) {
    walkSchema(sub.schema, visit, pointer + sub.segments.map((s) => `/${escapePointer(s)}`).join(''));
  }
}

/** Whether a `$ref` stays inside the document: `#` or `#/` followed by a JSON Pointer. */
export function isLocalPointerRef(ref: string): boolean {
  return ref === '#' || ref.startsWith('#/');
}

/**
 * Resolves a local `$ref` (`#` or `#/...`) against the document root; `undefined` when the pointer
 * leads nowhere.
 */
export function resolveLocalRef(root: unknown, ref: string): unknown {
  if (!isLocalPointerRef(ref)) return undefined;
  let node: unknown = root;
  if (ref === '#') return node;
  for (const raw of ref.slice(2).split('/')) {
    const segment = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) node = node[Number(segment)];
    else if (isSchemaObject(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return undefined;
  }
  return node;
}
