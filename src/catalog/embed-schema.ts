import { escapePointer, isLocalPointerRef, type SchemaObject, walkSchema } from '../registry/schema-walk.js';

/** A JSON Schema copied into a catalog document; the input it came from is never touched. */
export type EmbeddedSchema = { [keyword: string]: unknown };

/**
 * A copy of a stand-alone JSON Schema document made fit to live inside an AsyncAPI or OpenAPI
 * document at `location` (a local JSON Pointer such as `#/components/schemas/production.order.released`):
 *
 * - `$schema` and `$id` are dropped. Inside a larger document a `$schema` is at best ignored, and an
 *   `$id` (`urn:conveyor:schema:...`) would become the base URI of the subtree, so references below it
 *   would no longer resolve against the enclosing document.
 * - local references (`#`, `#/$defs/...`) are rebased onto `location`, since `#` now means the
 *   enclosing document's root.
 *
 * Only schema positions are rewritten: a property that happens to be named `$id`, or a `$ref` key
 * inside `examples` or `const`, is data and stays as it is.
 */
export function embedSchema(schema: object, location: string): EmbeddedSchema {
  const copy = structuredClone(schema) as EmbeddedSchema;
  walkSchema(copy, (node: SchemaObject) => {
    // The copy is ours to change; walkSchema hands nodes out read-only for its other callers.
    const mutable = node as EmbeddedSchema;
    delete mutable.$schema;
    delete mutable.$id;
    const ref = mutable.$ref;
    if (typeof ref === 'string' && isLocalPointerRef(ref)) mutable.$ref = location + ref.slice(1);
  });
  return copy;
}

/** A local reference to an entry of a components map, escaped as a JSON Pointer. */
export function componentRef(section: string, name: string): string {
  return `#/components/${escapePointer(section)}/${escapePointer(name)}`;
}
