import { type Static, type TObject, type TProperties, Type } from '@sinclair/typebox';

/** The `$id` of an event data schema, as events name it in their `dataschema` attribute. */
export function schemaId(type: string, version: number): string {
  return `urn:conveyor:schema:${type}:${version}`;
}

/**
 * Declares the data schema of a canonical event type (version 1). The example is typed against the
 * schema, so an example that drifts from its schema fails to compile before any test runs.
 * The content model stays open: producers may add fields, and later versions may declare them.
 */
export function defineEventSchema<P extends TProperties>(
  type: string,
  spec: { title: string; description: string; properties: P; example: Static<TObject<P>> },
): TObject<P> {
  return Type.Object(spec.properties, {
    $id: schemaId(type, 1),
    title: spec.title,
    description: spec.description,
    examples: [spec.example],
  });
}
