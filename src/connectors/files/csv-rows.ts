/**
 * CSV rows to canonical event data: the header names the data fields (`quantity.value` nests), and
 * values are converted where the event type's schema asks for a number or a boolean.
 */
import { CANONICAL_SCHEMAS_V1 } from '../../model/schemas/index.js';

/** What the header row of a file says, checked once per file. */
export interface CsvHeader {
  readonly names: readonly string[];
  /** Each name split on ".", for nesting. */
  readonly paths: readonly (readonly string[])[];
}

/** Reads the header row; throws with the reason when its names cannot be data fields. */
export function readHeader(record: readonly string[]): CsvHeader {
  const names = record.map((n) => n.trim());
  const paths = names.map((name, i) => {
    if (name === '') throw new Error(`column ${i + 1} of the header row has no name`);
    const path = name.split('.');
    if (path.some((p) => p === ''))
      throw new Error(`header ${JSON.stringify(name)} has an empty part between dots`);
    return path;
  });
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new Error(`header ${JSON.stringify(name)} appears twice`);
    seen.add(name);
  }
  // "a" and "a.b" cannot both be fields: a would be a value and an object at once.
  for (const name of names) {
    const parent = names.find((other) => name.startsWith(`${other}.`));
    if (parent !== undefined)
      throw new Error(
        `header ${JSON.stringify(name)} nests under ${JSON.stringify(parent)}, which is a value`,
      );
  }
  return { names, paths };
}

/** The row as the `map` sees it: header names as fields, values as written. */
export function rowObject(header: CsvHeader, record: readonly string[]): Record<string, string> {
  const row: Record<string, string> = {};
  header.names.forEach((name, i) => {
    row[name] = record[i] ?? '';
  });
  return row;
}

type Kind = 'number' | 'boolean' | 'string' | 'unknown';

interface SchemaNode {
  readonly type?: unknown;
  readonly properties?: Record<string, SchemaNode>;
  readonly anyOf?: readonly SchemaNode[];
}

/** What the schema of `type` says a field is; `unknown` when it does not say. */
function kindAt(schema: SchemaNode | undefined, path: readonly string[]): Kind {
  let node = schema;
  for (const part of path) node = node?.properties?.[part];
  if (node === undefined) return 'unknown';
  const types = node.anyOf ? node.anyOf.map((n) => n.type) : [node.type];
  if (types.every((t) => t === 'number' || t === 'integer')) return 'number';
  if (types.every((t) => t === 'boolean')) return 'boolean';
  if (types.every((t) => t === 'string')) return 'string';
  return 'unknown';
}

// Leading zeros mark codes (material 000123), not numbers.
const PLAIN_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

function convert(value: string, kind: Kind): unknown {
  const text = value.trim();
  if (kind === 'string') return value;
  if (kind === 'boolean') {
    if (/^(true|yes|1)$/i.test(text)) return true;
    if (/^(false|no|0)$/i.test(text)) return false;
    return value;
  }
  if (kind === 'number' && /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(text)) return Number(text);
  if (kind === 'unknown' && PLAIN_NUMBER.test(text)) {
    const n = Number(text);
    if (Number.isFinite(n) && (!Number.isInteger(n) || Number.isSafeInteger(n))) return n;
  }
  return value;
}

/** Builds the data of events of one type from rows; the schema lookup is done once. */
export function rowDataBuilder(
  type: string | null,
  plant: string | null,
): (header: CsvHeader, record: readonly string[]) => Record<string, unknown> {
  const schema = type === null ? undefined : (CANONICAL_SCHEMAS_V1.get(type) as SchemaNode | undefined);
  const kinds = new Map<string, Kind>();
  const kindOf = (name: string, path: readonly string[]) => {
    let kind = kinds.get(name);
    if (kind === undefined) {
      kind = kindAt(schema, path);
      kinds.set(name, kind);
    }
    return kind;
  };
  return (header, record) => {
    const data: Record<string, unknown> = {};
    header.paths.forEach((path, i) => {
      const value = record[i];
      // An empty cell is an absent field, not an empty string the schema would refuse.
      if (value === undefined || value.trim() === '') return;
      let target = data;
      for (const part of path.slice(0, -1)) {
        const next = target[part];
        if (next === undefined || typeof next !== 'object') target[part] = {};
        target = target[part] as Record<string, unknown>;
      }
      target[path.at(-1)!] = convert(value, kindOf(header.names[i]!, path));
    });
    // Canonical data names its plant; the connector's plant fills in when the row does not.
    if (data.plant === undefined && plant !== null) data.plant = plant;
    return data;
  };
}
