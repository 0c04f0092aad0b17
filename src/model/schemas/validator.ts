import { isDeepStrictEqual } from 'node:util';
import type { Ajv2020, ValidateFunction } from 'ajv/dist/2020.js';
import { createAjv, describeAjvErrors, type ValidationProblem } from './ajv.js';
import { schemaId } from './event-schema.js';
import { CANONICAL_SCHEMAS_V1 } from './index.js';

export type { ValidationProblem } from './ajv.js';

/** Thrown when no schema is known for a type and version; callers answer "unknown event type". */
export class UnknownSchemaError extends Error {
  constructor(
    readonly type: string,
    readonly version: number,
  ) {
    super(`no schema is registered for event type ${type} version ${version}`);
    this.name = 'UnknownSchemaError';
  }
}

/** Validates event data against the schema of its type and version. */
export interface DataValidator {
  /**
   * Checks `data` (an event's `data` member) against the schema of `type` at `version`. Returns `[]`
   * when valid, otherwise one problem per failure with a JSON Pointer into the event (`/data/...`).
   * @throws UnknownSchemaError when that type and version are not known.
   */
  validate(type: string, version: number, data: unknown): ValidationProblem[];
  /** Whether a schema is known for `type` at `version`. */
  has(type: string, version: number): boolean;
  /**
   * Adds a schema (e.g. a version approved in the registry), compiling it now so a broken schema fails
   * here rather than on the first event. Registering the same document again is a no-op; a different
   * document under an existing type and version is refused, since versions never change.
   * The document's own `$id` is replaced by `urn:conveyor:schema:<type>:<version>`.
   * @throws Error with Ajv's explanation when the schema does not compile.
   */
  register(type: string, version: number, schema: object): void;
  /** The compiled validation function for a type and version, compiling it on first use. */
  compiled(type: string, version: number): ValidateFunction;
}

class AjvDataValidator implements DataValidator {
  readonly #ajv: Ajv2020 = createAjv();
  /** Schema documents by `$id`, compiled or not. */
  readonly #documents = new Map<string, object>();
  /** Compiled functions by `$id`: each schema is compiled once for the life of the validator. */
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor() {
    for (const [type, schema] of CANONICAL_SCHEMAS_V1) this.#documents.set(schemaId(type, 1), schema);
  }

  validate(type: string, version: number, data: unknown): ValidationProblem[] {
    const fn = this.#compiled.get(schemaId(type, version)) ?? this.compiled(type, version);
    if (fn(data)) return [];
    return describeAjvErrors(fn.errors ?? [], '/data');
  }

  has(type: string, version: number): boolean {
    return this.#documents.has(schemaId(type, version));
  }

  register(type: string, version: number, schema: object): void {
    const id = schemaId(type, version);
    const document = { ...schema, $id: id };
    const existing = this.#documents.get(id);
    if (existing !== undefined) {
      if (isDeepStrictEqual(JSON.parse(JSON.stringify(existing)), JSON.parse(JSON.stringify(document)))) {
        return;
      }
      throw new Error(
        `${type} version ${version} is already registered with a different schema; versions never change`,
      );
    }
    this.#compiled.set(id, this.#ajv.compile(document));
    this.#documents.set(id, document);
  }

  compiled(type: string, version: number): ValidateFunction {
    const id = schemaId(type, version);
    const done = this.#compiled.get(id);
    if (done !== undefined) return done;
    const document = this.#documents.get(id);
    if (document === undefined) throw new UnknownSchemaError(type, version);
    const fn = this.#ajv.compile(document);
    this.#compiled.set(id, fn);
    return fn;
  }
}

/**
 * A validator that knows every canonical v1 schema and accepts more at runtime. Schemas are compiled
 * on first use and the compiled function is kept, so validating an event costs microseconds.
 */
export function createDataValidator(): DataValidator {
  return new AjvDataValidator();
}
