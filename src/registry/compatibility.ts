import { isDeepStrictEqual } from 'node:util';
import { compileLinearPattern, type LinearPattern } from '../model/schemas/linear-regexp.js';
import {
  escapePointer,
  isSchemaObject,
  type JsonSchema,
  resolveLocalRef,
  type SchemaObject,
  subSchemas,
} from './schema-walk.js';

export type { JsonSchema } from './schema-walk.js';

/*
 * Schema compatibility, in the sense of a schema registry.
 *
 * Everything reduces to one question, asked by `findIncompatibilities(reader, writer)`: does every
 * instance valid under `writer` also validate under `reader`? BACKWARD asks it with reader = the new
 * schema and writer = the previous one (consumers upgraded to the new schema still read the events
 * already in the log); FORWARD with reader = previous, writer = new (consumers not yet upgraded read
 * new events); FULL asks both. *_TRANSITIVE asks against every earlier version, not only the latest;
 * NONE never objects.
 *
 * Rules, stated for "reader accepts all writer data" (R = reader, W = writer):
 * - Annotations (title, description, examples, default, $comment, deprecated, x-*) never matter.
 * - type: every type W allows must be allowed by R (`integer` is covered by `number`, not the reverse).
 * - enum / const: if R restricts values, W must be restricted to a subset of them.
 * - Bounds (minimum/exclusiveMinimum, maximum/exclusiveMaximum, minLength, maxLength, minItems,
 *   maxItems, minProperties, maxProperties): R's bound must be no tighter than W's; a bound R has and
 *   W lacks is tighter.
 * - pattern, format, multipleOf, uniqueItems: R's must be absent or equal to W's (regular-expression
 *   inclusion is undecidable in general, so any change of pattern counts).
 * - required: every property R requires, W must require.
 * - properties: a property both declare is compared recursively; the check follows `items`,
 *   `additionalProperties`, `$ref` (local `#/...` only) and the combinators below in the same way.
 * - Open content model: when W leaves `additionalProperties` absent or `true`, producers may send
 *   fields W does not declare. If R then declares such a field, we assume those values follow R's
 *   declaration: declaring a field is how an extension field becomes governed. Without this
 *   assumption no property could ever be added compatibly (the complaint against registries that
 *   reject "property added to open content model"). So adding an optional property is BACKWARD and
 *   FORWARD compatible, and removing an optional property is too.
 * - Closed content model: if R sets `additionalProperties: false` (or a schema) and W does not, the
 *   undeclared fields W allows would fail (additional-properties-closed); a property W declares
 *   that a closed R lacks would fail too (property-removed-while-closed / property-added-while-closed).
 * - allOf in R: W must fit every part. anyOf/oneOf in R: W must fit one alternative (we do not split
 *   W across alternatives); for oneOf, that alternative must also be provably disjoint from the
 *   others (by type, const/enum, or a required discriminator property), else values could match two.
 * - allOf in W: its parts are merged; anyOf/oneOf in W: every alternative must fit R.
 * - Any other keyword in R (not, if/then/else, patternProperties, prefixItems, contains, ...) must
 *   be identical in W.
 * Where the analysis cannot be exact it errs towards "incompatible", never the other way, except
 * for the open-content-model assumption above.
 *
 * Consequences, per change from the previous version to the new one:
 *   change                                  BACKWARD                     FORWARD
 *   add optional property                   ok                           ok, unless the old schema is closed
 *   add required property                   fails                        ok
 *   remove optional property                ok, unless the new is closed ok
 *   remove required property                ok                           fails
 *   optional → required                     fails                        ok
 *   required → optional                     ok                           fails
 *   widen (integer → number, add enum value, lower minimum, raise maxLength, drop pattern)
 *                                           ok                           fails
 *   narrow (the reverse of each)            fails                        ok
 *   change pattern / format / const         fails                        fails
 *   close additionalProperties              fails                        ok
 *   open additionalProperties               ok                           fails
 */

/** How a new version must relate to earlier ones. */
export type CompatibilityMode =
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE'
  | 'NONE';

/** Every compatibility mode, in the order a user would read them. */
export const COMPATIBILITY_MODES: readonly CompatibilityMode[] = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
];

/** One reason a reader schema would reject data a writer schema allows. */
export interface Incompatibility {
  /** JSON Pointer into the schema, following properties and items (`/properties/lines/items/...`). */
  readonly path: string;
  /** A stable kebab-case name of the rule broken, e.g. `property-became-required`. */
  readonly rule: string;
  /** What changed and which data would fail because of it. */
  readonly message: string;
}

/** An incompatibility of a new version with one earlier version. */
export interface CompatibilityProblem extends Incompatibility {
  /** Index into `previousSchemas` (0 = oldest) of the version it conflicts with. */
  readonly against: number;
  /** `backward`: the new schema cannot read old data; `forward`: old consumers cannot read new data. */
  readonly direction: 'backward' | 'forward';
}

/** The verdict of `checkCompatibility`. */
export interface CompatibilityResult {
  readonly compatible: boolean;
  readonly mode: CompatibilityMode;
  readonly problems: readonly CompatibilityProblem[];
}

/**
 * Checks a proposed schema against the existing versions of its type, oldest first, under `mode`.
 * Problems against the latest version come first. With no previous version, anything is compatible.
 * @throws TypeError for an unknown mode.
 */
export function checkCompatibility(
  newSchema: JsonSchema,
  previousSchemas: readonly JsonSchema[],
  mode: CompatibilityMode = 'BACKWARD',
): CompatibilityResult {
  if (!COMPATIBILITY_MODES.includes(mode)) {
    throw new TypeError(
      `unknown compatibility mode ${String(mode)}; use one of ${COMPATIBILITY_MODES.join(', ')}`,
    );
  }
  const problems: CompatibilityProblem[] = [];
  if (mode !== 'NONE' && previousSchemas.length > 0) {
    const transitive = mode.endsWith('_TRANSITIVE');
    const backward = mode.startsWith('BACKWARD') || mode.startsWith('FULL');
    const forward = mode.startsWith('FORWARD') || mode.startsWith('FULL');
    const latest = previousSchemas.length - 1;
    for (let against = latest; against >= (transitive ? 0 : latest); against--) {
      const previous = previousSchemas[against] as JsonSchema;
      if (backward) {
        for (const f of compare(newSchema, previous)) {
          problems.push({ ...render(f, BACKWARD), against, direction: 'backward' });
        }
      }
      if (forward) {
        for (const f of compare(previous, newSchema)) {
          problems.push({ ...render(f, FORWARD), against, direction: 'forward' });
        }
      }
    }
  }
  return { compatible: problems.length === 0, mode, problems: dedupe(problems) };
}

/**
 * Whether a reader with schema `reader` accepts everything valid under `writer`: `[]` if so,
 * otherwise each reason it does not. Messages speak of "the reader" and "the writer"; rule names
 * are those of a BACKWARD check (the reader playing the newer schema).
 */
export function findIncompatibilities(reader: JsonSchema, writer: JsonSchema): Incompatibility[] {
  return dedupe(compare(reader, writer).map((f) => render(f, NEUTRAL)));
}

function dedupe<T extends Incompatibility>(list: T[]): T[] {
  const seen = new Set<string>();
  return list.filter((p) => {
    const key = `${'against' in p ? p.against : ''}\u0000${p.path}\u0000${p.rule}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Findings: what the comparison discovers, independent of how it is worded for each direction.

interface Bound {
  readonly value: number;
  readonly exclusive: boolean;
}

type BoundFamily =
  | 'minimum'
  | 'maximum'
  | 'minLength'
  | 'maxLength'
  | 'minItems'
  | 'maxItems'
  | 'minProperties'
  | 'maxProperties';

type Finding = { readonly path: string } & (
  | { kind: 'required'; property: string; writerDeclares: boolean }
  | { kind: 'type'; reader: string[]; writer: string[] | null; uncovered: string[] }
  | {
      kind: 'values';
      missing: unknown[];
      reader: unknown[];
      writer: unknown[];
      readerConst: boolean;
      writerConst: boolean;
    }
  | { kind: 'restricted'; reader: unknown[]; isConst: boolean }
  | { kind: 'bound'; family: BoundFamily; reader: Bound; writer: Bound | undefined }
  | { kind: 'multipleOf'; reader: number; writer: number | undefined }
  | { kind: 'pattern'; reader: string; writer: string | undefined }
  | { kind: 'format'; reader: string; writer: string | undefined }
  | { kind: 'uniqueItems' }
  | { kind: 'additionalProperties'; readerClosed: boolean }
  | { kind: 'closedProperty'; property: string }
  | { kind: 'valuesRejected'; keyword: string; limit: unknown; values: unknown[] }
  | { kind: 'false' }
  | { kind: 'union'; keyword: 'anyOf' | 'oneOf'; closest: Finding | undefined }
  | { kind: 'oneOfOverlap' }
  | { kind: 'keyword'; keyword: string }
  | { kind: 'unresolvable'; ref: string; side: 'reader' | 'writer' }
);

/** Finding without its path, so checks can build one and `add` attaches where it happened. */
type FindingBody = Finding extends infer F ? (F extends Finding ? Omit<F, 'path'> : never) : never;

interface Context {
  readonly readerRoot: unknown;
  readonly writerRoot: unknown;
  out: Finding[];
  /** Reader/writer node pairs being compared further up the stack: recursion through `$ref` stops here. */
  readonly active: Map<object, Set<object>>;
  depth: number;
}

/** Deeper than any real event schema; only reached by recursive `$ref`s, where assuming a match is right. */
const MAX_DEPTH = 64;

function compare(reader: JsonSchema, writer: JsonSchema): Finding[] {
  const ctx: Context = { readerRoot: reader, writerRoot: writer, out: [], active: new Map(), depth: 0 };
  check(reader, writer, '', ctx);
  return ctx.out;
}

function add(ctx: Context, path: string, body: FindingBody): void {
  ctx.out.push({ path, ...body } as Finding);
}

const ANNOTATIONS = new Set([
  'title',
  'description',
  'examples',
  'default',
  '$comment',
  'deprecated',
  'readOnly',
  'writeOnly',
  '$id',
  '$schema',
  '$anchor',
  '$dynamicAnchor',
  '$defs',
  'definitions',
  '$vocabulary',
  'contentEncoding',
  'contentMediaType',
  'contentSchema',
]);

function isAnnotation(keyword: string): boolean {
  return ANNOTATIONS.has(keyword) || keyword.startsWith('x-');
}

/** Keywords the comparison understands; any other constraint in the reader must be unchanged. */
const HANDLED = new Set([
  'type',
  'enum',
  'const',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'uniqueItems',
  'required',
  'properties',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  '$ref',
  'allOf',
  'anyOf',
  'oneOf',
]);

const annotationFree = new WeakMap<object, unknown>();

/** The schema with annotations removed at every level, to compare constraints only. */
function constraintsOf(schema: unknown): unknown {
  if (!isSchemaObject(schema)) return schema;
  const cached = annotationFree.get(schema);
  if (cached !== undefined) return cached;
  const subs = new Map(subSchemas(schema).map((s) => [s.segments.join('/'), s.schema]));
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (isAnnotation(keyword)) continue;
    if (Array.isArray(value) && ['allOf', 'anyOf', 'oneOf', 'prefixItems'].includes(keyword)) {
      out[keyword] = value.map(constraintsOf);
    } else if (
      isSchemaObject(value) &&
      ['properties', 'patternProperties', 'dependentSchemas'].includes(keyword)
    ) {
      out[keyword] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, constraintsOf(v)]));
    } else {
      out[keyword] = subs.has(keyword) ? constraintsOf(value) : value;
    }
  }
  annotationFree.set(schema, out);
  return out;
}

function isTrivial(schema: SchemaObject): boolean {
  return Object.keys(schema).every(isAnnotation);
}

const refBearing = new WeakMap<object, boolean>();

function containsRef(schema: unknown): boolean {
  if (!isSchemaObject(schema)) return false;
  const cached = refBearing.get(schema);
  if (cached !== undefined) return cached;
  const result = '$ref' in schema || subSchemas(schema, true).some((s) => containsRef(s.schema));
  refBearing.set(schema, result);
  return result;
}

function omit(schema: SchemaObject, ...keywords: string[]): SchemaObject {
  const out: Record<string, unknown> = { ...schema };
  for (const k of keywords) delete out[k];
  return out;
}

function child(path: string, ...segments: string[]): string {
  return path + segments.map((s) => `/${escapePointer(s)}`).join('');
}

// ---------------------------------------------------------------------------------------------
// The comparison.

function check(reader: unknown, writer: unknown, path: string, ctx: Context): void {
  if (reader === true || reader === undefined || writer === false) return;
  if (reader === false) {
    add(ctx, path, { kind: 'false' });
    return;
  }
  if (!isSchemaObject(reader) || isTrivial(reader)) return;
  const w: SchemaObject = isSchemaObject(writer) ? writer : {};

  if (typeof reader.$ref === 'string') {
    // The referenced schema and any sibling keywords both apply to the reader.
    const target = resolveLocalRef(ctx.readerRoot, reader.$ref);
    if (target === undefined) {
      add(ctx, path, { kind: 'unresolvable', ref: reader.$ref, side: 'reader' });
      return;
    }
    guarded(target, w, ctx, () => check(target, w, path, ctx));
    check(omit(reader, '$ref'), w, path, ctx);
    return;
  }
  if (typeof w.$ref === 'string') {
    const resolved = resolveWriter(w, ctx);
    if (resolved instanceof MissingRef) {
      add(ctx, path, { kind: 'unresolvable', ref: resolved.ref, side: 'writer' });
      return;
    }
    if (resolved === false) return;
    guarded(reader, resolved, ctx, () => check(reader, resolved, path, ctx));
    return;
  }
  if (!containsRef(reader) && !containsRef(w) && isDeepStrictEqual(constraintsOf(reader), constraintsOf(w))) {
    return;
  }

  if (Array.isArray(w.allOf)) {
    const merged = mergeWriterParts(omit(w, 'allOf'), w.allOf, ctx);
    if (merged instanceof MissingRef) {
      add(ctx, path, { kind: 'unresolvable', ref: merged.ref, side: 'writer' });
    } else if (merged !== false) {
      check(reader, merged, path, ctx);
    }
    return;
  }
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const alternatives = w[keyword];
    if (!Array.isArray(alternatives)) continue;
    const same = reader[keyword];
    if (Array.isArray(same) && !containsRef(reader) && !containsRef(w)) {
      if (isDeepStrictEqual(constraintsOf(same), constraintsOf(alternatives))) {
        check(omit(reader, keyword), omit(w, keyword), path, ctx);
        return;
      }
    }
    // Writer data fits one alternative (and the rest of the writer): each must be readable.
    const base = omit(w, keyword);
    for (const alternative of alternatives) {
      const merged = mergeWriterParts(base, [alternative], ctx);
      if (merged instanceof MissingRef) {
        add(ctx, path, { kind: 'unresolvable', ref: merged.ref, side: 'writer' });
      } else if (merged !== false) {
        check(reader, merged, path, ctx);
      }
    }
    return;
  }
  if (Array.isArray(reader.allOf)) {
    for (const part of reader.allOf) check(part, w, path, ctx);
    check(omit(reader, 'allOf'), w, path, ctx);
    return;
  }
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const alternatives = reader[keyword];
    if (Array.isArray(alternatives)) {
      checkReaderUnion(reader, keyword, alternatives, w, path, ctx);
      return;
    }
  }
  if (ctx.depth > MAX_DEPTH) return;
  ctx.depth++;
  try {
    checkLeaf(reader, w, path, ctx);
  } finally {
    ctx.depth--;
  }
}

/** Runs `body` unless the same reader/writer pair is already being compared further up (recursive schemas). */
function guarded(reader: unknown, writer: unknown, ctx: Context, body: () => void): void {
  if (!isSchemaObject(reader) || !isSchemaObject(writer)) {
    body();
    return;
  }
  let writers = ctx.active.get(reader);
  if (writers?.has(writer)) return;
  if (writers === undefined) {
    writers = new Set();
    ctx.active.set(reader, writers);
  }
  writers.add(writer);
  try {
    body();
  } finally {
    writers.delete(writer);
  }
}

/** A writer `$ref` that leads nowhere. */
class MissingRef {
  constructor(readonly ref: string) {}
}

/** A writer node with its `$ref` followed (repeatedly) and merged with its sibling keywords. */
function resolveWriter(schema: unknown, ctx: Context, hops = 0): SchemaObject | false | MissingRef {
  if (schema === false) return false;
  if (!isSchemaObject(schema)) return {};
  if (typeof schema.$ref !== 'string') return schema;
  if (hops > MAX_DEPTH) return {};
  const found = resolveLocalRef(ctx.writerRoot, schema.$ref);
  if (found === undefined) return new MissingRef(schema.$ref);
  const target = resolveWriter(found, ctx, hops + 1);
  if (target === false || target instanceof MissingRef) return target;
  const rest = omit(schema, '$ref');
  return isTrivial(rest) ? target : mergeWriter(target, rest, ctx);
}

function mergeWriterParts(
  base: SchemaObject,
  parts: readonly unknown[],
  ctx: Context,
): SchemaObject | false | MissingRef {
  let merged: SchemaObject = base;
  for (const part of parts) {
    const resolved = resolveWriter(part, ctx);
    if (resolved === false || resolved instanceof MissingRef) return resolved;
    merged = mergeWriter(merged, resolved, ctx);
  }
  return merged;
}

const LOWER_LIMITS = new Set(['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties']);
const UPPER_LIMITS = new Set(['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties']);

/**
 * One schema a writer's data satisfies when it satisfies both `a` and `b`. Where combining two
 * keywords exactly is not simple, one of them is kept: that describes a superset of the writer's
 * data, so the comparison can only become stricter, never wrongly lenient.
 */
function mergeWriter(a: SchemaObject, b: SchemaObject, ctx: Context): SchemaObject {
  const out: Record<string, unknown> = { ...a };
  for (const [keyword, value] of Object.entries(b)) {
    const existing = out[keyword];
    if (existing === undefined) {
      out[keyword] = value;
    } else if (keyword === 'required' && Array.isArray(existing) && Array.isArray(value)) {
      out[keyword] = [...new Set([...existing, ...value])];
    } else if (keyword === 'type') {
      out[keyword] = intersectTypes(typeList(existing), typeList(value));
    } else if (keyword === 'enum' && Array.isArray(existing) && Array.isArray(value)) {
      out[keyword] = existing.filter((x) => value.some((y) => isDeepStrictEqual(x, y)));
    } else if (LOWER_LIMITS.has(keyword) && typeof existing === 'number' && typeof value === 'number') {
      out[keyword] = Math.max(existing, value);
    } else if (UPPER_LIMITS.has(keyword) && typeof existing === 'number' && typeof value === 'number') {
      out[keyword] = Math.min(existing, value);
    } else if (keyword === 'properties' && isSchemaObject(existing) && isSchemaObject(value)) {
      const props: Record<string, unknown> = { ...existing };
      for (const [name, schema] of Object.entries(value)) {
        const left = props[name] === undefined ? undefined : resolveWriter(props[name], ctx);
        const right = resolveWriter(schema, ctx);
        // A side that cannot be resolved is dropped: the merged schema then allows more, never less.
        if (left === undefined || left instanceof MissingRef) props[name] = schema;
        else if (right instanceof MissingRef) props[name] = left;
        else if (left === false || right === false) props[name] = false;
        else props[name] = mergeWriter(left, right, ctx);
      }
      out[keyword] = props;
    } else {
      out[keyword] = value;
    }
  }
  return out;
}

const ALL_TYPES = ['null', 'boolean', 'object', 'array', 'number', 'string'];

function typeList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((t): t is string => typeof t === 'string') : ALL_TYPES;
}

function covers(types: readonly string[], t: string): boolean {
  return types.includes(t) || (t === 'integer' && types.includes('number'));
}

function intersectTypes(a: readonly string[], b: readonly string[]): string[] {
  const out = new Set<string>();
  for (const t of a) {
    if (covers(b, t)) out.add(t);
    else if (t === 'number' && b.includes('integer')) out.add('integer');
  }
  return [...out];
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** The values a schema allows when it lists them (`const` or `enum`), else `undefined`. */
function finiteValues(schema: SchemaObject): unknown[] | undefined {
  const listed = Array.isArray(schema.enum) ? schema.enum : undefined;
  if (!('const' in schema)) return listed;
  // Both present: a value must satisfy both, so only the const, and only if the enum lists it.
  if (listed === undefined) return [schema.const];
  return listed.some((v) => isDeepStrictEqual(v, schema.const)) ? [schema.const] : [];
}

/** The types a writer can produce, or `undefined` for any type. */
function writerTypes(w: SchemaObject): string[] | undefined {
  let types = w.type === undefined ? undefined : typeList(w.type);
  const values = finiteValues(w);
  if (values !== undefined) {
    const fromValues = [...new Set(values.map(jsonType))];
    types = types === undefined ? fromValues : intersectTypes(fromValues, types);
  }
  return types;
}

function checkReaderUnion(
  reader: SchemaObject,
  keyword: 'anyOf' | 'oneOf',
  alternatives: readonly unknown[],
  w: SchemaObject,
  path: string,
  ctx: Context,
): void {
  check(omit(reader, keyword), w, path, ctx);
  const outcomes = alternatives.map((alternative) => {
    const saved = ctx.out;
    ctx.out = [];
    check(alternative, w, path, ctx);
    const found = ctx.out;
    ctx.out = saved;
    return found;
  });
  const fits = outcomes.flatMap((found, i) => (found.length === 0 ? [i] : []));
  if (fits.length === 0) {
    const closest = outcomes.reduce((best, found) => (found.length < best.length ? found : best));
    add(ctx, path, { kind: 'union', keyword, closest: closest[0] });
    return;
  }
  if (keyword === 'oneOf') {
    const chosen = fits[0] as number;
    const overlaps = alternatives.some(
      (other, i) => i !== chosen && !disjoint(alternatives[chosen], other, ctx),
    );
    if (fits.length > 1 || overlaps) add(ctx, path, { kind: 'oneOfOverlap' });
  }
}

/** Whether no value can satisfy both reader alternatives `a` and `b` (by type, values or a discriminator). */
function disjoint(a: unknown, b: unknown, ctx: Context): boolean {
  const left = isSchemaObject(a) && typeof a.$ref === 'string' ? resolveLocalRef(ctx.readerRoot, a.$ref) : a;
  const right = isSchemaObject(b) && typeof b.$ref === 'string' ? resolveLocalRef(ctx.readerRoot, b.$ref) : b;
  if (left === false || right === false) return true;
  if (!isSchemaObject(left) || !isSchemaObject(right)) return false;
  const lt = writerTypes(left);
  const rt = writerTypes(right);
  if (lt !== undefined && rt !== undefined && intersectTypes(lt, rt).length === 0) return true;
  const lv = finiteValues(left);
  const rv = finiteValues(right);
  if (lv !== undefined && rv !== undefined && !lv.some((x) => rv.some((y) => isDeepStrictEqual(x, y)))) {
    return true;
  }
  const lReq = Array.isArray(left.required) ? left.required : [];
  const rReq = Array.isArray(right.required) ? right.required : [];
  const lProps = isSchemaObject(left.properties) ? left.properties : {};
  const rProps = isSchemaObject(right.properties) ? right.properties : {};
  return lReq.some(
    (name) => typeof name === 'string' && rReq.includes(name) && disjoint(lProps[name], rProps[name], ctx),
  );
}

function checkLeaf(r: SchemaObject, w: SchemaObject, path: string, ctx: Context): void {
  // Types.
  const wTypes = writerTypes(w);
  const rTypes = r.type === undefined ? undefined : typeList(r.type);
  let producible = wTypes ?? ALL_TYPES;
  if (rTypes !== undefined) {
    const uncovered = producible.filter((t) => !covers(rTypes, t));
    if (uncovered.length > 0) {
      add(ctx, path, { kind: 'type', reader: rTypes, writer: wTypes ?? null, uncovered });
    }
    producible = producible.filter((t) => covers(rTypes, t));
    // `number` data the reader limits to integers still reaches integer-only checks below.
    if (
      rTypes.includes('integer') &&
      !rTypes.includes('number') &&
      (wTypes ?? ALL_TYPES).includes('number')
    ) {
      producible = [...producible, 'integer'];
    }
  }
  if (producible.length === 0) return;
  const can = (t: string): boolean =>
    producible.includes(t) || (t === 'number' && producible.includes('integer'));

  // Listed values.
  const values = finiteValues(w)?.filter((v) => covers(producible, jsonType(v)));
  const rValues = finiteValues(r);
  if (values !== undefined) {
    if (rValues !== undefined) {
      const missing = values.filter((v) => !rValues.some((x) => isDeepStrictEqual(v, x)));
      if (missing.length > 0) {
        add(ctx, path, {
          kind: 'values',
          missing,
          reader: rValues,
          writer: values,
          readerConst: 'const' in r,
          writerConst: 'const' in w,
        });
      }
    }
    checkValues(r, values, path, ctx);
    if (values.every((v) => v === null || typeof v !== 'object')) return;
  } else if (rValues !== undefined) {
    add(ctx, path, { kind: 'restricted', reader: rValues, isConst: 'const' in r });
    return;
  } else {
    if (can('number')) checkNumbers(r, w, path, ctx, producible);
    if (can('string')) checkStrings(r, w, path, ctx);
  }
  if (can('array')) checkArrays(r, w, path, ctx);
  if (can('object')) checkObjects(r, w, path, ctx);
  for (const keyword of Object.keys(r)) {
    if (HANDLED.has(keyword) || isAnnotation(keyword)) continue;
    if (!isDeepStrictEqual(constraintsOf(r[keyword]), constraintsOf(w[keyword]))) {
      add(ctx, path, { kind: 'keyword', keyword });
    }
  }
}

function lowerBound(schema: SchemaObject): Bound | undefined {
  const inclusive =
    typeof schema.minimum === 'number' ? { value: schema.minimum, exclusive: false } : undefined;
  const exclusive =
    typeof schema.exclusiveMinimum === 'number'
      ? { value: schema.exclusiveMinimum, exclusive: true }
      : undefined;
  if (inclusive === undefined || exclusive === undefined) return inclusive ?? exclusive;
  return exclusive.value >= inclusive.value ? exclusive : inclusive;
}

function upperBound(schema: SchemaObject): Bound | undefined {
  const inclusive =
    typeof schema.maximum === 'number' ? { value: schema.maximum, exclusive: false } : undefined;
  const exclusive =
    typeof schema.exclusiveMaximum === 'number'
      ? { value: schema.exclusiveMaximum, exclusive: true }
      : undefined;
  if (inclusive === undefined || exclusive === undefined) return inclusive ?? exclusive;
  return exclusive.value <= inclusive.value ? exclusive : inclusive;
}

function limit(schema: SchemaObject, keyword: string): Bound | undefined {
  const value = schema[keyword];
  return typeof value === 'number' ? { value, exclusive: false } : undefined;
}

/** Whether every value above writer bound `w` is also above reader bound `r`. */
function lowerCovered(r: Bound, w: Bound | undefined): boolean {
  return w !== undefined && (w.value > r.value || (w.value === r.value && (!r.exclusive || w.exclusive)));
}

function upperCovered(r: Bound, w: Bound | undefined): boolean {
  return w !== undefined && (w.value < r.value || (w.value === r.value && (!r.exclusive || w.exclusive)));
}

function isMultiple(value: number, of: number): boolean {
  const q = value / of;
  return Math.abs(q - Math.round(q)) < 1e-9;
}

function checkNumbers(
  r: SchemaObject,
  w: SchemaObject,
  path: string,
  ctx: Context,
  producible: string[],
): void {
  const rLow = lowerBound(r);
  if (rLow !== undefined && !lowerCovered(rLow, lowerBound(w))) {
    add(ctx, path, { kind: 'bound', family: 'minimum', reader: rLow, writer: lowerBound(w) });
  }
  const rHigh = upperBound(r);
  if (rHigh !== undefined && !upperCovered(rHigh, upperBound(w))) {
    add(ctx, path, { kind: 'bound', family: 'maximum', reader: rHigh, writer: upperBound(w) });
  }
  if (typeof r.multipleOf === 'number') {
    const wm = typeof w.multipleOf === 'number' ? w.multipleOf : undefined;
    const integersOnly = producible.every((t) => t === 'integer' || !['number', 'integer'].includes(t));
    const fine = (wm !== undefined && isMultiple(wm, r.multipleOf)) || (r.multipleOf === 1 && integersOnly);
    if (!fine) add(ctx, path, { kind: 'multipleOf', reader: r.multipleOf, writer: wm });
  }
}

function checkStrings(r: SchemaObject, w: SchemaObject, path: string, ctx: Context): void {
  checkCount(r, w, path, ctx, 'minLength', 'maxLength');
  if (typeof r.pattern === 'string' && r.pattern !== w.pattern) {
    add(ctx, path, {
      kind: 'pattern',
      reader: r.pattern,
      writer: typeof w.pattern === 'string' ? w.pattern : undefined,
    });
  }
  if (typeof r.format === 'string' && r.format !== w.format) {
    add(ctx, path, {
      kind: 'format',
      reader: r.format,
      writer: typeof w.format === 'string' ? w.format : undefined,
    });
  }
}

function checkCount(
  r: SchemaObject,
  w: SchemaObject,
  path: string,
  ctx: Context,
  min: 'minLength' | 'minItems' | 'minProperties',
  max: 'maxLength' | 'maxItems' | 'maxProperties',
): void {
  const rMin = limit(r, min);
  // An absent minimum count is 0, which any count satisfies.
  if (rMin !== undefined && rMin.value > 0 && !lowerCovered(rMin, limit(w, min))) {
    add(ctx, path, { kind: 'bound', family: min, reader: rMin, writer: limit(w, min) });
  }
  const rMax = limit(r, max);
  if (rMax !== undefined && !upperCovered(rMax, limit(w, max))) {
    add(ctx, path, { kind: 'bound', family: max, reader: rMax, writer: limit(w, max) });
  }
}

function checkArrays(r: SchemaObject, w: SchemaObject, path: string, ctx: Context): void {
  if (r.items !== undefined && r.items !== true) {
    const at = child(path, 'items');
    check(r.items, w.items ?? true, at, ctx);
    if (Array.isArray(w.prefixItems)) for (const item of w.prefixItems) check(r.items, item, at, ctx);
  }
  if (
    r.prefixItems !== undefined &&
    !isDeepStrictEqual(constraintsOf(r.prefixItems), constraintsOf(w.prefixItems))
  ) {
    add(ctx, path, { kind: 'keyword', keyword: 'prefixItems' });
  }
  checkCount(r, w, path, ctx, 'minItems', 'maxItems');
  if (r.uniqueItems === true && w.uniqueItems !== true) add(ctx, path, { kind: 'uniqueItems' });
}

function checkObjects(r: SchemaObject, w: SchemaObject, path: string, ctx: Context): void {
  const rProps = isSchemaObject(r.properties) ? r.properties : {};
  const wProps = isSchemaObject(w.properties) ? w.properties : {};
  const wRequired = new Set(Array.isArray(w.required) ? w.required : []);
  for (const name of Array.isArray(r.required) ? r.required : []) {
    if (typeof name === 'string' && !wRequired.has(name)) {
      add(ctx, child(path, 'properties', name), {
        kind: 'required',
        property: name,
        writerDeclares: Object.hasOwn(wProps, name),
      });
    }
  }
  const rExtra = r.additionalProperties;
  const wExtra = w.additionalProperties;
  const rOpen = rExtra === undefined || rExtra === true || (isSchemaObject(rExtra) && isTrivial(rExtra));
  const wPatterned = isSchemaObject(w.patternProperties) && Object.keys(w.patternProperties).length > 0;
  const wOpen = wExtra === undefined || wExtra === true || (isSchemaObject(wExtra) && isTrivial(wExtra));

  for (const name of new Set([...Object.keys(rProps), ...Object.keys(wProps)])) {
    const at = child(path, 'properties', name);
    const inReader = Object.hasOwn(rProps, name);
    const inWriter = Object.hasOwn(wProps, name);
    if (inReader && inWriter) {
      check(rProps[name], wProps[name], at, ctx);
    } else if (inReader) {
      // Undeclared in the writer: closed means never sent; open means an extension field, assumed to
      // follow the reader's declaration (see the rules above); a schema for extras is compared.
      if (!wOpen && wExtra !== false) check(rProps[name], wExtra, at, ctx);
    } else if (wProps[name] !== false) {
      if (rExtra === false) add(ctx, at, { kind: 'closedProperty', property: name });
      else if (!rOpen) check(rExtra, wProps[name], at, ctx);
    }
  }

  if (!rOpen) {
    if (wOpen || wPatterned) add(ctx, path, { kind: 'additionalProperties', readerClosed: rExtra === false });
    else if (wExtra !== false) {
      if (rExtra === false) add(ctx, path, { kind: 'additionalProperties', readerClosed: true });
      else check(rExtra, wExtra, child(path, 'additionalProperties'), ctx);
    }
  }
  checkCount(r, w, path, ctx, 'minProperties', 'maxProperties');
}

/** Checks each value a writer lists against the reader's scalar constraints. */
function checkValues(r: SchemaObject, values: readonly unknown[], path: string, ctx: Context): void {
  const tests: Array<[string, unknown, (v: unknown) => boolean]> = [];
  const low = lowerBound(r);
  const high = upperBound(r);
  if (low !== undefined) {
    tests.push([
      low.exclusive ? 'exclusiveMinimum' : 'minimum',
      low.value,
      (v) => typeof v !== 'number' || v > low.value || (v === low.value && !low.exclusive),
    ]);
  }
  if (high !== undefined) {
    tests.push([
      high.exclusive ? 'exclusiveMaximum' : 'maximum',
      high.value,
      (v) => typeof v !== 'number' || v < high.value || (v === high.value && !high.exclusive),
    ]);
  }
  const { multipleOf, minLength, maxLength, pattern } = r;
  if (typeof multipleOf === 'number') {
    tests.push(['multipleOf', multipleOf, (v) => typeof v !== 'number' || isMultiple(v, multipleOf)]);
  }
  if (typeof minLength === 'number') {
    tests.push(['minLength', minLength, (v) => typeof v !== 'string' || [...v].length >= minLength]);
  }
  if (typeof maxLength === 'number') {
    tests.push(['maxLength', maxLength, (v) => typeof v !== 'string' || [...v].length <= maxLength]);
  }
  if (typeof pattern === 'string') {
    // The values and the pattern both come from proposers: the linear-time engine, never backtracking.
    let re: LinearPattern | undefined;
    try {
      re = compileLinearPattern(pattern);
    } catch {
      // A pattern that does not compile matches nothing we can vouch for.
    }
    tests.push(['pattern', pattern, (v) => typeof v !== 'string' || (re?.test(v) ?? false)]);
  }
  if (typeof r.format === 'string') {
    // Whether a listed value has a format is not decided here; a format the writer's values never promised counts.
    tests.push(['format', r.format, (v) => typeof v !== 'string']);
  }
  for (const [keyword, limitValue, passes] of tests) {
    const failing = values.filter((v) => !passes(v));
    if (failing.length > 0) {
      add(ctx, path, { kind: 'valuesRejected', keyword, limit: limitValue, values: failing });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Wording. BACKWARD: the reader is the new schema and the writer the old one; FORWARD the reverse.

interface Voice {
  readonly direction: 'backward' | 'forward' | 'neutral';
  /** The data that would fail. */
  readonly data: string;
  /** How it fails. */
  readonly fails: string;
  readonly readerName: string;
  readonly writerName: string;
}

const BACKWARD: Voice = {
  direction: 'backward',
  data: 'old events',
  fails: 'would fail',
  readerName: 'the new schema',
  writerName: 'the old schema',
};
const FORWARD: Voice = {
  direction: 'forward',
  data: 'new events',
  fails: 'would fail for consumers still on the old schema',
  readerName: 'the old schema',
  writerName: 'the new schema',
};
const NEUTRAL: Voice = {
  direction: 'neutral',
  data: 'data valid under the writer schema',
  fails: 'would fail under the reader schema',
  readerName: 'the reader schema',
  writerName: 'the writer schema',
};

function show(value: unknown): string {
  return JSON.stringify(value);
}

function list(values: readonly unknown[]): string {
  return values.map(show).join(', ');
}

function typeWords(types: readonly string[] | null): string {
  return types === null ? 'any type' : types.join(' or ');
}

const COUNT_UNITS: Partial<Record<BoundFamily, string>> = {
  minLength: 'characters',
  maxLength: 'characters',
  minItems: 'items',
  maxItems: 'items',
  minProperties: 'fields',
  maxProperties: 'fields',
};

function kebab(word: string): string {
  return word.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function boundText(family: BoundFamily, bound: Bound): string {
  if (family === 'minimum') return bound.exclusive ? `> ${bound.value}` : `>= ${bound.value}`;
  if (family === 'maximum') return bound.exclusive ? `< ${bound.value}` : `<= ${bound.value}`;
  return String(bound.value);
}

function boundCondition(family: BoundFamily, r: Bound): string {
  switch (family) {
    case 'minimum':
      return `with values ${r.exclusive ? 'at or below' : 'below'} ${r.value}`;
    case 'maximum':
      return `with values ${r.exclusive ? 'at or above' : 'above'} ${r.value}`;
    case 'minLength':
    case 'minItems':
    case 'minProperties':
      return `with fewer than ${r.value} ${COUNT_UNITS[family]} there`;
    default:
      return `with more than ${r.value} ${COUNT_UNITS[family]} there`;
  }
}

/**
 * Names a difference as a change from the old schema to the new: in BACKWARD the reader is new, so a
 * reader-side constraint was added or tightened; in FORWARD the reader is old, so it was removed or
 * loosened. Returns [rule, description of the change].
 */
function changeOf(
  voice: Voice,
  keyword: string,
  readerText: string | undefined,
  writerText: string | undefined,
  tighter: string,
  looser: string,
): [string, string] {
  const base = kebab(keyword);
  const forward = voice.direction === 'forward';
  const oldText = forward ? readerText : writerText;
  const newText = forward ? writerText : readerText;
  if (voice.direction === 'neutral') {
    const change = `has ${keyword} ${readerText} in the reader and ${writerText === undefined ? 'none' : writerText} in the writer`;
    return [writerText === undefined ? `${base}-added` : `${base}-${tighter}`, change];
  }
  if (oldText === undefined) return [`${base}-added`, `gained ${keyword} ${newText}`];
  if (newText === undefined) return [`${base}-removed`, `lost ${keyword} ${oldText}`];
  const verb = forward ? looser : tighter;
  return [`${base}-${verb}`, `${keyword} ${verb} from ${oldText} to ${newText}`];
}

function render(f: Finding, voice: Voice): Incompatibility {
  const at = f.path === '' ? '(top level)' : `\`${f.path}\``;
  const forward = voice.direction === 'forward';
  const say = (rule: string, change: string, condition: string): Incompatibility => ({
    path: f.path,
    rule,
    message: `${at} ${change}: ${voice.data} ${condition} ${voice.fails}`,
  });
  switch (f.kind) {
    case 'required':
      if (voice.direction === 'neutral') {
        return say(
          'property-became-required',
          'is required by the reader but optional for the writer',
          'without it',
        );
      }
      if (!forward) return say('property-became-required', 'became required', 'without it');
      return f.writerDeclares
        ? say('property-no-longer-required', 'is no longer required', 'without it')
        : say('required-property-removed', 'was required and has been removed', 'without it');
    case 'type': {
      const writerTypes = f.writer ?? ALL_TYPES;
      const readerWithinWriter = f.reader.every((t) => covers(writerTypes, t));
      const condition = `with ${f.uncovered.join(' or ')} values there`;
      if (voice.direction === 'neutral') {
        return say(
          readerWithinWriter ? 'type-narrowed' : 'type-changed',
          `accepts ${typeWords(f.reader)} in the reader but ${typeWords(f.writer)} in the writer`,
          condition,
        );
      }
      const [from, to] = forward ? [f.reader, f.writer] : [f.writer, f.reader];
      const rule = readerWithinWriter ? (forward ? 'type-widened' : 'type-narrowed') : 'type-changed';
      return say(rule, `type ${rule.slice(5)} from ${typeWords(from)} to ${typeWords(to)}`, condition);
    }
    case 'values': {
      const condition = `with ${list(f.missing)}`;
      if (f.readerConst && f.writerConst) {
        const [from, to] = forward ? [f.reader, f.writer] : [f.writer, f.reader];
        return say('const-changed', `const changed from ${list(from)} to ${list(to)}`, condition);
      }
      if (voice.direction === 'neutral') {
        return say(
          'enum-value-removed',
          `does not accept ${list(f.missing)}, which the writer allows`,
          condition,
        );
      }
      return forward
        ? say('enum-value-added', `now allows ${list(f.missing)}`, condition)
        : say('enum-value-removed', `no longer allows ${list(f.missing)}`, condition);
    }
    case 'restricted': {
      const what = f.isConst ? `fixed to ${list(f.reader)}` : `limited to ${list(f.reader)}`;
      const base = f.isConst ? 'const' : 'enum';
      if (voice.direction === 'neutral') {
        return say(`${base}-added`, `is ${what} in the reader only`, 'with any other value');
      }
      return forward
        ? say(`${base}-removed`, `is no longer ${what}`, 'with any other value')
        : say(`${base}-added`, `is now ${what}`, 'with any other value');
    }
    case 'bound': {
      const tighter = f.family.startsWith('min') ? 'raised' : 'lowered';
      const looser = f.family.startsWith('min') ? 'lowered' : 'raised';
      const [rule, change] = changeOf(
        voice,
        f.family,
        boundText(f.family, f.reader),
        f.writer === undefined ? undefined : boundText(f.family, f.writer),
        tighter,
        looser,
      );
      return say(rule, change, boundCondition(f.family, f.reader));
    }
    case 'multipleOf': {
      const [rule, change] = changeOf(
        voice,
        'multipleOf',
        String(f.reader),
        f.writer?.toString(),
        'changed',
        'changed',
      );
      return say(rule, change, `with values that are not multiples of ${f.reader}`);
    }
    case 'pattern': {
      const [rule, change] = changeOf(voice, 'pattern', f.reader, f.writer, 'changed', 'changed');
      return say(rule, change, `with values not matching ${f.reader}`);
    }
    case 'format': {
      const [rule, change] = changeOf(voice, 'format', f.reader, f.writer, 'changed', 'changed');
      return say(rule, change, `with values that are not ${f.reader}`);
    }
    case 'uniqueItems':
      return forward
        ? say('unique-items-removed', 'no longer requires unique items', 'with repeated items')
        : say('unique-items-added', 'now requires unique items', 'with repeated items');
    case 'additionalProperties': {
      const how = f.readerClosed ? 'closed' : 'narrowed';
      const undo = f.readerClosed ? 'opened' : 'widened';
      const condition = f.readerClosed
        ? 'with fields it does not declare'
        : 'with undeclared fields of other shapes';
      if (forward) return say(`additional-properties-${undo}`, `additionalProperties ${undo}`, condition);
      return say(`additional-properties-${how}`, `additionalProperties ${how}`, condition);
    }
    case 'closedProperty':
      if (forward) {
        return say(
          'property-added-while-closed',
          'was added but the old schema does not allow undeclared fields (additionalProperties: false)',
          'with it',
        );
      }
      return say(
        'property-removed-while-closed',
        voice.direction === 'neutral'
          ? 'is declared by the writer only and the reader allows no undeclared fields'
          : 'was removed while additionalProperties is false',
        'with it',
      );
    case 'valuesRejected':
      return say(
        `${kebab(f.keyword)}-rejects-value`,
        `${f.keyword} ${show(f.limit)} in ${voice.readerName} rejects ${list(f.values)}, allowed by ${voice.writerName}`,
        `with ${list(f.values)}`,
      );
    case 'false':
      return forward
        ? say(
            'schema-was-false',
            'allowed nothing in the old schema (false) and now allows values',
            'with any value there',
          )
        : say('schema-became-false', `allows nothing in ${voice.readerName} (false)`, 'with any value there');
    case 'union': {
      const closest = f.closest === undefined ? '' : ` (closest: ${render(f.closest, voice).message})`;
      const rule = forward ? `${kebab(f.keyword)}-widened` : `${kebab(f.keyword)}-narrowed`;
      return {
        path: f.path,
        rule,
        message: `${at} no ${f.keyword} alternative of ${voice.readerName} accepts everything ${voice.writerName} allows: some ${voice.data} ${voice.fails}${closest}`,
      };
    }
    case 'oneOfOverlap':
      return say(
        'one-of-ambiguous',
        `has oneOf alternatives in ${voice.readerName} that may overlap`,
        'matching more than one alternative',
      );
    case 'keyword':
      return {
        path: f.path,
        rule: 'unsupported-keyword-changed',
        message: `${at} ${f.keyword} differs between ${voice.readerName} and ${voice.writerName}; its effect is not analysed, so any change to it counts as incompatible`,
      };
    case 'unresolvable': {
      const side = f.side === 'reader' ? voice.readerName : voice.writerName;
      return {
        path: f.path,
        rule: 'unresolvable-ref',
        message: `${at} refers to ${f.ref}, which ${side} does not define; only local references (#/$defs/...) are followed`,
      };
    }
  }
}
