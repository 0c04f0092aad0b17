/**
 * Typed Sparkplug B payload codec over the protobuf classes that `sparkplug-payload` generates from
 * `sparkplug_b.proto`.
 *
 * The package's own `get('spBv1.0').decodePayload` is not used: it derives a metric's value from the
 * metric's `datatype`, and the spec says DATA and CMD messages SHOULD NOT carry a datatype (it comes from
 * the birth certificate), so their values would decode as `null`; it also reads negative Int8/16/32 as
 * large unsigned numbers and UInt32 values above 2^31 as negative ones. Here the value is taken from
 * whichever `oneof` field is present and interpreted by datatype as soon as it is known
 * ({@link interpretValue}), either from the metric itself or later from the birth's alias table.
 *
 * Numbers:
 * - 64-bit integers (Int64, UInt64, DateTime, aliases, 64-bit array elements) are a `number` when they
 *   are safe integers (|v| <= 2^53 - 1) and a `bigint` otherwise, so no value ever loses precision and
 *   the common case stays a plain number.
 * - Payload and metric timestamps are milliseconds since the epoch as `number` (uint64 on the wire;
 *   any real clock value is far below 2^53).
 * - Float (32-bit) values are given as the shortest decimal that maps to the same float32, so a sensor
 *   sending 12.3 reads as 12.3 and not 12.300000190734863.
 */
import sparkplugProto from 'sparkplug-payload/lib/sparkplugPayloadProto.js';

/** Sparkplug B datatypes; the index of each name is its enum value on the wire. */
export const SPARKPLUG_DATATYPES = [
  'Unknown',
  'Int8',
  'Int16',
  'Int32',
  'Int64',
  'UInt8',
  'UInt16',
  'UInt32',
  'UInt64',
  'Float',
  'Double',
  'Boolean',
  'String',
  'DateTime',
  'Text',
  'UUID',
  'DataSet',
  'Bytes',
  'File',
  'Template',
  'PropertySet',
  'PropertySetList',
  'Int8Array',
  'Int16Array',
  'Int32Array',
  'Int64Array',
  'UInt8Array',
  'UInt16Array',
  'UInt32Array',
  'UInt64Array',
  'FloatArray',
  'DoubleArray',
  'BooleanArray',
  'StringArray',
  'DateTimeArray',
] as const;

/** A Sparkplug B datatype name. */
export type SparkplugDataType = (typeof SPARKPLUG_DATATYPES)[number];

/** A 64-bit integer: a `number` while it is a safe integer, a `bigint` beyond that. */
export type SparkplugInteger = number | bigint;

/** A single value: numbers (64-bit ones possibly as bigint), booleans and strings. */
export type SparkplugScalar = number | bigint | boolean | string;

/** A DataSet metric value: a table with typed columns. */
export interface SparkplugDataSet {
  columns: string[];
  types: SparkplugDataType[];
  rows: Array<Array<SparkplugScalar | null>>;
}

/** A Template parameter. */
export interface SparkplugTemplateParameter {
  name?: string;
  datatype?: SparkplugDataType;
  value?: SparkplugScalar;
}

/** A Template metric value (a definition or an instance). */
export interface SparkplugTemplate {
  version?: string;
  templateRef?: string;
  isDefinition?: boolean;
  metrics: SparkplugMetric[];
  parameters: SparkplugTemplateParameter[];
}

/** A property value (for example the `Quality` property of a metric). */
export interface SparkplugPropertyValue {
  datatype?: SparkplugDataType;
  value: SparkplugScalar | SparkplugPropertySet | SparkplugPropertySet[] | null;
}

/** A metric's properties by key. Decoded sets have no prototype, so any key is safe. */
export type SparkplugPropertySet = { [key: string]: SparkplugPropertyValue };

/** Metric metadata (files, multi-part values). */
export interface SparkplugMetaData {
  isMultiPart?: boolean;
  contentType?: string;
  size?: SparkplugInteger;
  seq?: SparkplugInteger;
  fileName?: string;
  fileType?: string;
  md5?: string;
  description?: string;
}

/** Any metric value. Array datatypes decode to plain arrays; Bytes and File stay bytes. */
export type SparkplugValue =
  | SparkplugScalar
  | Uint8Array
  | number[]
  | SparkplugInteger[]
  | boolean[]
  | string[]
  | SparkplugDataSet
  | SparkplugTemplate;

/** One metric of a payload. */
export interface SparkplugMetric {
  /** Present in births; DATA and CMD messages may carry only the alias. */
  name?: string;
  alias?: SparkplugInteger;
  /** Milliseconds since the epoch. */
  timestamp?: number;
  /** Present in births; usually absent in DATA and CMD messages (then known from the birth). */
  datatype?: SparkplugDataType;
  /** `null` when the metric is explicitly null (`is_null`); absent when the payload carries no value. */
  value?: SparkplugValue | null;
  isHistorical?: boolean;
  isTransient?: boolean;
  metadata?: SparkplugMetaData;
  properties?: SparkplugPropertySet;
}

/** A decoded Sparkplug B payload. */
export interface SparkplugPayload {
  /** Milliseconds since the epoch. */
  timestamp?: number;
  metrics: SparkplugMetric[];
  /** 0..255 for conforming edge nodes (absent in NDEATH, NCMD and DCMD). */
  seq?: number;
  uuid?: string;
  body?: Uint8Array;
}

/** Bytes that are not a Sparkplug B payload, or hold a value that breaks the spec's encoding rules. */
export class SparkplugDecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SparkplugDecodeError';
  }
}

/** A payload object that cannot be encoded (a value that does not fit its datatype, a missing datatype). */
export class SparkplugEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SparkplugEncodeError';
  }
}

/** Options of {@link encodePayload}. */
export interface EncodeOptions {
  /**
   * Leave the datatype off metrics that carry an alias and no name, as the spec recommends for DATA
   * and CMD messages (the receiver knows the datatype from the birth).
   * @default false
   */
  omitAliasedDatatypes?: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Wire shapes. The generated classes type 64-bit fields as `number | Long`; these narrow views are all
// the codec touches.

interface LongBits {
  low: number;
  high: number;
  unsigned?: boolean;
}
type WireLong = number | LongBits;

interface WireValueFields {
  intValue?: number | null;
  longValue?: WireLong | null;
  floatValue?: number | null;
  doubleValue?: number | null;
  booleanValue?: boolean | null;
  stringValue?: string | null;
  bytesValue?: Uint8Array | null;
  datasetValue?: WireDataSet | null;
  templateValue?: WireTemplate | null;
  propertysetValue?: WirePropertySet | null;
  propertysetsValue?: { propertyset?: WirePropertySet[] } | null;
}

interface WireMetric extends WireValueFields {
  name?: string;
  alias?: WireLong;
  timestamp?: WireLong;
  datatype?: number;
  isHistorical?: boolean;
  isTransient?: boolean;
  isNull?: boolean;
  metadata?: WireMetaData | null;
  properties?: WirePropertySet | null;
}

interface WireMetaData {
  isMultiPart?: boolean;
  contentType?: string;
  size?: WireLong;
  seq?: WireLong;
  fileName?: string;
  fileType?: string;
  md5?: string;
  description?: string;
}

interface WireDataSet {
  numOfColumns?: WireLong;
  columns?: string[];
  types?: number[];
  rows?: Array<{ elements?: WireValueFields[] }>;
}

interface WireTemplate {
  version?: string;
  metrics?: WireMetric[];
  parameters?: Array<WireValueFields & { name?: string; type?: number }>;
  templateRef?: string;
  isDefinition?: boolean;
}

interface WirePropertyValue extends WireValueFields {
  type?: number;
  isNull?: boolean;
}

interface WirePropertySet {
  keys?: string[];
  values?: WirePropertyValue[];
}

interface WirePayload {
  timestamp?: WireLong;
  metrics?: WireMetric[];
  seq?: WireLong;
  uuid?: string;
  body?: Uint8Array;
}

interface PayloadCodec {
  decode(bytes: Uint8Array): unknown;
  encode(message: WirePayload): { finish(): Uint8Array };
}

// The generated class is typed against protobufjs' own interfaces (with Long); the narrow views above
// describe exactly the fields read and written here.
const Payload = sparkplugProto.org.eclipse.tahu.protobuf.Payload as unknown as PayloadCodec;

const has = Object.hasOwn;
const TWO_32 = 4_294_967_296;
const DATATYPE_CODES: ReadonlyMap<string, number> = new Map(
  SPARKPLUG_DATATYPES.map((name, code) => [name, code]),
);

/** The datatype name for a wire enum value; codes outside the enum read as `Unknown`. */
export function dataTypeName(code: number): SparkplugDataType {
  return SPARKPLUG_DATATYPES[code] ?? 'Unknown';
}

/** The wire enum value of a datatype. */
export function dataTypeCode(datatype: SparkplugDataType): number {
  return DATATYPE_CODES.get(datatype) ?? 0;
}

const NUMERIC_DATATYPES: ReadonlySet<SparkplugDataType> = new Set([
  'Int8',
  'Int16',
  'Int32',
  'Int64',
  'UInt8',
  'UInt16',
  'UInt32',
  'UInt64',
  'Float',
  'Double',
]);

/** True for the integer and floating-point datatypes (not DateTime, not arrays). */
export function isNumericDataType(datatype: SparkplugDataType | undefined): boolean {
  return datatype !== undefined && NUMERIC_DATATYPES.has(datatype);
}

/** `bigint` → `number` when it fits exactly. */
function normalizeBig(value: bigint): SparkplugInteger {
  return value >= -9_007_199_254_740_991n && value <= 9_007_199_254_740_991n ? Number(value) : value;
}

/** An unsigned 64-bit wire value as a number when safe, else a bigint. */
function fromWireLong(value: WireLong): SparkplugInteger {
  if (typeof value === 'number') return value;
  const high = value.high >>> 0;
  const low = value.low >>> 0;
  if (high < 0x200000) return high * TWO_32 + low;
  return (BigInt(high) << 32n) | BigInt(low);
}

/** A wire timestamp (ms) or seq as a number; uint64 values beyond 2^53 can only be garbage, kept approximately. */
function wireNumber(value: WireLong): number {
  const v = fromWireLong(value);
  return typeof v === 'bigint' ? Number(v) : v;
}

function toLongBits(value: SparkplugInteger, what: string): LongBits {
  let big: bigint;
  if (typeof value === 'bigint') big = value;
  else if (Number.isInteger(value)) big = BigInt(value);
  else throw new SparkplugEncodeError(`${what}: ${value} is not an integer`);
  const u = BigInt.asUintN(64, big);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned: true };
}

/** The float32 value as the shortest decimal that rounds to the same float32. */
function shortestFloat32(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  for (let precision = 1; precision < 10; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

/** Sign- or width-narrows an integer carried in a wider unsigned field (two's complement). */
function narrowInteger(value: unknown, bits: 8 | 16 | 32 | 64, signed: boolean): unknown {
  if (typeof value === 'bigint') {
    return normalizeBig(signed ? BigInt.asIntN(bits, value) : BigInt.asUintN(bits, value));
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) return value;
  if (bits === 64) {
    // Any safe non-negative number is already correct for both Int64 and UInt64.
    return value;
  }
  if (bits === 32) return signed ? value | 0 : value >>> 0;
  if (!signed) return value;
  const shift = 32 - bits;
  return (value << shift) >> shift;
}

function checkedLength(bytes: Uint8Array, size: number, datatype: SparkplugDataType): number {
  if (bytes.byteLength % size !== 0) {
    throw new SparkplugDecodeError(
      `${datatype} value has ${bytes.byteLength} bytes, not a multiple of the element size ${size}`,
    );
  }
  return bytes.byteLength / size;
}

function decodeArray(bytes: Uint8Array, datatype: SparkplugDataType): SparkplugValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const numbers = (size: number, read: (offset: number) => number): number[] => {
    const count = checkedLength(bytes, size, datatype);
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) out[i] = read(i * size);
    return out;
  };
  const bigs = (read: (offset: number) => bigint): SparkplugInteger[] => {
    const count = checkedLength(bytes, 8, datatype);
    const out = new Array<SparkplugInteger>(count);
    for (let i = 0; i < count; i++) out[i] = normalizeBig(read(i * 8));
    return out;
  };
  switch (datatype) {
    case 'Int8Array':
      return numbers(1, (o) => view.getInt8(o));
    case 'UInt8Array':
      return numbers(1, (o) => view.getUint8(o));
    case 'Int16Array':
      return numbers(2, (o) => view.getInt16(o, true));
    case 'UInt16Array':
      return numbers(2, (o) => view.getUint16(o, true));
    case 'Int32Array':
      return numbers(4, (o) => view.getInt32(o, true));
    case 'UInt32Array':
      return numbers(4, (o) => view.getUint32(o, true));
    case 'FloatArray':
      return numbers(4, (o) => shortestFloat32(view.getFloat32(o, true)));
    case 'DoubleArray':
      return numbers(8, (o) => view.getFloat64(o, true));
    case 'Int64Array':
      return bigs((o) => view.getBigInt64(o, true));
    case 'UInt64Array':
    case 'DateTimeArray':
      return bigs((o) => view.getBigUint64(o, true));
    case 'BooleanArray': {
      if (bytes.byteLength < 4) throw new SparkplugDecodeError('BooleanArray value lacks its 4-byte count');
      const count = view.getUint32(0, true);
      if (Math.ceil(count / 8) > bytes.byteLength - 4) {
        throw new SparkplugDecodeError(`BooleanArray announces ${count} values but carries fewer bits`);
      }
      const out = new Array<boolean>(count);
      // Bits are packed most significant first.
      for (let i = 0; i < count; i++) out[i] = ((bytes[4 + (i >> 3)]! >> (7 - (i & 7))) & 1) === 1;
      return out;
    }
    case 'StringArray': {
      if (bytes.byteLength === 0) return [];
      if (bytes[bytes.byteLength - 1] !== 0) {
        throw new SparkplugDecodeError('StringArray value does not end with a null terminator');
      }
      const text = new TextDecoder().decode(bytes.subarray(0, bytes.byteLength - 1));
      return text.split('\0');
    }
    default:
      return bytes;
  }
}

/**
 * Interprets a value decoded without its datatype (as the wire field carried it: unsigned integers,
 * raw bytes) once the datatype is known, for example from the birth's alias table. Idempotent.
 * @throws {SparkplugDecodeError} when bytes of an array datatype are malformed.
 */
export function interpretValue<T extends SparkplugValue | null | undefined>(
  value: T,
  datatype: SparkplugDataType | undefined,
): SparkplugValue | T {
  if (value === null || value === undefined || datatype === undefined) return value;
  switch (datatype) {
    case 'Int8':
      return narrowInteger(value, 8, true) as SparkplugValue;
    case 'Int16':
      return narrowInteger(value, 16, true) as SparkplugValue;
    case 'Int32':
      return narrowInteger(value, 32, true) as SparkplugValue;
    case 'Int64':
      return narrowInteger(value, 64, true) as SparkplugValue;
    case 'UInt32':
      return narrowInteger(value, 32, false) as SparkplugValue;
    case 'UInt8':
    case 'UInt16':
    case 'UInt64':
    case 'DateTime':
      return typeof value === 'bigint' ? normalizeBig(value) : value;
    default:
      return value instanceof Uint8Array && datatype.endsWith('Array') ? decodeArray(value, datatype) : value;
  }
}

/** The value of whichever `oneof` field is set, without datatype interpretation. */
function rawValue(
  holder: WireValueFields,
  depth: number,
): SparkplugValue | SparkplugPropertySet[] | undefined {
  if (holder.intValue != null) return holder.intValue;
  if (holder.longValue != null) return fromWireLong(holder.longValue);
  if (holder.floatValue != null) return shortestFloat32(holder.floatValue);
  if (holder.doubleValue != null) return holder.doubleValue;
  if (holder.booleanValue != null) return holder.booleanValue;
  if (holder.stringValue != null) return holder.stringValue;
  // Copy: the decoder's bytes are views into the caller's (possibly reused) buffer.
  if (holder.bytesValue != null) return new Uint8Array(holder.bytesValue);
  if (holder.datasetValue != null) return convertDataSet(holder.datasetValue);
  if (holder.templateValue != null) return convertTemplate(holder.templateValue, depth + 1);
  if (holder.propertysetsValue != null) {
    return (holder.propertysetsValue.propertyset ?? []).map((set) => convertPropertySet(set, depth + 1));
  }
  return undefined;
}

function scalarOf(
  holder: WireValueFields,
  datatype: SparkplugDataType,
  depth: number,
): SparkplugScalar | null {
  const raw = rawValue(holder, depth);
  const value = interpretValue(raw as SparkplugValue | undefined, datatype);
  if (value === undefined) return null;
  if (typeof value === 'object') {
    throw new SparkplugDecodeError(`a ${datatype} cell or parameter holds a structured value`);
  }
  return value;
}

function convertDataSet(wire: WireDataSet): SparkplugDataSet {
  const columns = wire.columns ?? [];
  const types = (wire.types ?? []).map(dataTypeName);
  if (types.length !== columns.length) {
    throw new SparkplugDecodeError(`DataSet has ${columns.length} columns but ${types.length} types`);
  }
  const rows = (wire.rows ?? []).map((row, r) => {
    const elements = row.elements ?? [];
    if (elements.length !== columns.length) {
      throw new SparkplugDecodeError(
        `DataSet row ${r} has ${elements.length} values for ${columns.length} columns`,
      );
    }
    return elements.map((element, c) => scalarOf(element, types[c]!, 0));
  });
  return { columns, types, rows };
}

function convertTemplate(wire: WireTemplate, depth: number): SparkplugTemplate {
  const template: SparkplugTemplate = {
    metrics: (wire.metrics ?? []).map((m) => convertMetric(m, depth)),
    parameters: (wire.parameters ?? []).map((p) => {
      const parameter: SparkplugTemplateParameter = {};
      if (has(p, 'name')) parameter.name = p.name!;
      if (has(p, 'type')) parameter.datatype = dataTypeName(p.type!);
      const value = scalarOf(p, parameter.datatype ?? 'Unknown', depth);
      if (value !== null) parameter.value = value;
      return parameter;
    }),
  };
  if (has(wire, 'version')) template.version = wire.version!;
  if (has(wire, 'templateRef')) template.templateRef = wire.templateRef!;
  if (has(wire, 'isDefinition')) template.isDefinition = wire.isDefinition!;
  return template;
}

function convertPropertySet(wire: WirePropertySet, depth: number): SparkplugPropertySet {
  const keys = wire.keys ?? [];
  const values = wire.values ?? [];
  if (keys.length !== values.length) {
    throw new SparkplugDecodeError(`PropertySet has ${keys.length} keys but ${values.length} values`);
  }
  // No prototype: keys come from the network and may be '__proto__'.
  const set: SparkplugPropertySet = Object.create(null);
  for (let i = 0; i < keys.length; i++) {
    const wireValue = values[i]!;
    const property: SparkplugPropertyValue = { value: null };
    if (has(wireValue, 'type')) property.datatype = dataTypeName(wireValue.type!);
    if (wireValue.isNull !== true) {
      if (wireValue.propertysetValue != null)
        property.value = convertPropertySet(wireValue.propertysetValue, depth);
      else {
        const raw = rawValue(wireValue, depth);
        const value = interpretValue(raw as SparkplugValue | undefined, property.datatype);
        if (value !== undefined) property.value = value as SparkplugPropertyValue['value'];
      }
    }
    set[keys[i]!] = property;
  }
  return set;
}

function convertMetaData(wire: WireMetaData): SparkplugMetaData {
  const meta: SparkplugMetaData = {};
  if (has(wire, 'isMultiPart')) meta.isMultiPart = wire.isMultiPart!;
  if (has(wire, 'contentType')) meta.contentType = wire.contentType!;
  if (has(wire, 'size')) meta.size = fromWireLong(wire.size!);
  if (has(wire, 'seq')) meta.seq = fromWireLong(wire.seq!);
  if (has(wire, 'fileName')) meta.fileName = wire.fileName!;
  if (has(wire, 'fileType')) meta.fileType = wire.fileType!;
  if (has(wire, 'md5')) meta.md5 = wire.md5!;
  if (has(wire, 'description')) meta.description = wire.description!;
  return meta;
}

function convertMetric(wire: WireMetric, depth: number): SparkplugMetric {
  if (depth > 32) throw new SparkplugDecodeError('templates are nested more than 32 levels deep');
  const metric: SparkplugMetric = {};
  if (has(wire, 'name')) metric.name = wire.name!;
  if (has(wire, 'alias')) metric.alias = fromWireLong(wire.alias!);
  if (has(wire, 'timestamp')) metric.timestamp = wireNumber(wire.timestamp!);
  if (has(wire, 'datatype')) metric.datatype = dataTypeName(wire.datatype!);
  if (wire.isNull === true) metric.value = null;
  else {
    const raw = rawValue(wire, depth);
    if (Array.isArray(raw)) {
      throw new SparkplugDecodeError(
        'a metric value holds a PropertySetList, which only properties may hold',
      );
    }
    if (raw !== undefined) metric.value = interpretValue(raw as SparkplugValue, metric.datatype);
  }
  if (has(wire, 'isHistorical')) metric.isHistorical = wire.isHistorical!;
  if (has(wire, 'isTransient')) metric.isTransient = wire.isTransient!;
  if (wire.metadata != null) metric.metadata = convertMetaData(wire.metadata);
  if (wire.properties != null) metric.properties = convertPropertySet(wire.properties, depth);
  return metric;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Decodes Sparkplug B payload bytes. Metric values are interpreted by the metric's own datatype when it
 * carries one; otherwise they are left as the wire field holds them until {@link interpretValue} is
 * applied with the datatype from the birth.
 * @throws {SparkplugDecodeError} for anything that is not a well-formed Sparkplug B payload; never
 * anything else.
 */
export function decodePayload(bytes: Uint8Array): SparkplugPayload {
  if (!(bytes instanceof Uint8Array)) throw new SparkplugDecodeError('a Sparkplug B payload must be bytes');
  let wire: WirePayload;
  try {
    wire = Payload.decode(bytes) as WirePayload;
  } catch (error) {
    throw new SparkplugDecodeError(`not a Sparkplug B payload: ${describe(error)}`, { cause: error });
  }
  try {
    const payload: SparkplugPayload = { metrics: (wire.metrics ?? []).map((m) => convertMetric(m, 0)) };
    if (has(wire, 'timestamp')) payload.timestamp = wireNumber(wire.timestamp!);
    if (has(wire, 'seq')) payload.seq = wireNumber(wire.seq!);
    if (has(wire, 'uuid')) payload.uuid = wire.uuid!;
    if (has(wire, 'body')) payload.body = new Uint8Array(wire.body!);
    return payload;
  } catch (error) {
    if (error instanceof SparkplugDecodeError) throw error;
    // Deeply nested input can exhaust the stack; that is a malformed payload, not a crash.
    throw new SparkplugDecodeError(`malformed Sparkplug B payload: ${describe(error)}`, { cause: error });
  }
}

// ---------------------------------------------------------------------------------------------------
// Encoding

const INT_RANGES: Partial<Record<SparkplugDataType, readonly [number, number]>> = {
  Int8: [-128, 127],
  Int16: [-32_768, 32_767],
  Int32: [-2_147_483_648, 2_147_483_647],
  UInt8: [0, 255],
  UInt16: [0, 65_535],
  UInt32: [0, 4_294_967_295],
};

function integerIn(value: unknown, min: bigint, max: bigint): value is SparkplugInteger {
  if (typeof value === 'number') return Number.isInteger(value) && value >= min && value <= max;
  return typeof value === 'bigint' && value >= min && value <= max;
}

function mismatch(what: string, datatype: SparkplugDataType, value: unknown): SparkplugEncodeError {
  const shown =
    typeof value === 'bigint' ? `${value}n` : typeof value === 'object' ? typeof value : String(value);
  return new SparkplugEncodeError(`${what}: ${shown} is not a valid ${datatype} value`);
}

function encodeArray(value: unknown, datatype: SparkplugDataType, what: string): Uint8Array {
  if (!Array.isArray(value)) throw mismatch(what, datatype, value);
  if (datatype === 'StringArray') {
    if (!value.every((s) => typeof s === 'string' && !s.includes('\0')))
      throw mismatch(what, datatype, value);
    return value.length === 0 ? new Uint8Array(0) : new TextEncoder().encode(`${value.join('\0')}\0`);
  }
  if (datatype === 'BooleanArray') {
    if (!value.every((b) => typeof b === 'boolean')) throw mismatch(what, datatype, value);
    const out = new Uint8Array(4 + Math.ceil(value.length / 8));
    new DataView(out.buffer).setUint32(0, value.length, true);
    value.forEach((b, i) => {
      if (b) out[4 + (i >> 3)]! |= 1 << (7 - (i & 7));
    });
    return out;
  }
  const sizes: Partial<Record<SparkplugDataType, number>> = {
    Int8Array: 1,
    UInt8Array: 1,
    Int16Array: 2,
    UInt16Array: 2,
    Int32Array: 4,
    UInt32Array: 4,
    FloatArray: 4,
    Int64Array: 8,
    UInt64Array: 8,
    DateTimeArray: 8,
    DoubleArray: 8,
  };
  const size = sizes[datatype]!;
  const out = new Uint8Array(value.length * size);
  const view = new DataView(out.buffer);
  const element = datatype.slice(0, -'Array'.length) as SparkplugDataType;
  value.forEach((v, i) => {
    const o = i * size;
    const range = INT_RANGES[element];
    if (range) {
      if (!integerIn(v, BigInt(range[0]), BigInt(range[1]))) throw mismatch(`${what}[${i}]`, element, v);
      const n = Number(v);
      if (size === 1) view.setUint8(o, n & 0xff);
      else if (size === 2) view.setUint16(o, n & 0xffff, true);
      else view.setUint32(o, n >>> 0, true);
    } else if (element === 'Float' || element === 'Double') {
      if (typeof v !== 'number') throw mismatch(`${what}[${i}]`, element, v);
      if (element === 'Float') view.setFloat32(o, v, true);
      else view.setFloat64(o, v, true);
    } else {
      const signed = element === 'Int64';
      const min = signed ? -(2n ** 63n) : 0n;
      const max = signed ? 2n ** 63n - 1n : 2n ** 64n - 1n;
      if (!integerIn(v, min, max)) throw mismatch(`${what}[${i}]`, element, v);
      view.setBigUint64(o, BigInt.asUintN(64, BigInt(v)), true);
    }
  });
  return out;
}

/** Writes `value` into the `oneof` field the datatype calls for. */
function setValue(
  target: WireValueFields,
  datatype: SparkplugDataType,
  value: unknown,
  what: string,
  options: EncodeOptions,
): void {
  const range = INT_RANGES[datatype];
  if (range) {
    if (!integerIn(value, BigInt(range[0]), BigInt(range[1]))) throw mismatch(what, datatype, value);
    // Signed values travel as their 32-bit two's complement in the uint32 field.
    target.intValue = Number(value) >>> 0;
    return;
  }
  switch (datatype) {
    case 'Int64':
      if (!integerIn(value, -(2n ** 63n), 2n ** 63n - 1n)) throw mismatch(what, datatype, value);
      target.longValue = toLongBits(value, what);
      return;
    case 'UInt64':
    case 'DateTime':
      if (!integerIn(value, 0n, 2n ** 64n - 1n)) throw mismatch(what, datatype, value);
      target.longValue = toLongBits(value, what);
      return;
    case 'Float':
    case 'Double':
      if (typeof value !== 'number') throw mismatch(what, datatype, value);
      if (datatype === 'Float') target.floatValue = value;
      else target.doubleValue = value;
      return;
    case 'Boolean':
      if (typeof value !== 'boolean') throw mismatch(what, datatype, value);
      target.booleanValue = value;
      return;
    case 'String':
    case 'Text':
    case 'UUID':
      if (typeof value !== 'string') throw mismatch(what, datatype, value);
      target.stringValue = value;
      return;
    case 'Bytes':
    case 'File':
      if (!(value instanceof Uint8Array)) throw mismatch(what, datatype, value);
      target.bytesValue = value;
      return;
    case 'DataSet':
      target.datasetValue = encodeDataSet(value as SparkplugDataSet, what, options);
      return;
    case 'Template':
      target.templateValue = encodeTemplate(value as SparkplugTemplate, what, options);
      return;
    case 'PropertySet':
      target.propertysetValue = encodePropertySet(value as SparkplugPropertySet, what, options);
      return;
    case 'PropertySetList':
      if (!Array.isArray(value)) throw mismatch(what, datatype, value);
      target.propertysetsValue = {
        propertyset: value.map((set, i) =>
          encodePropertySet(set as SparkplugPropertySet, `${what}[${i}]`, options),
        ),
      };
      return;
    case 'Unknown':
      throw new SparkplugEncodeError(`${what}: a value of datatype Unknown cannot be encoded`);
    default:
      target.bytesValue = encodeArray(value, datatype, what);
  }
}

function encodeDataSet(dataSet: SparkplugDataSet, what: string, options: EncodeOptions): WireDataSet {
  if (typeof dataSet !== 'object' || dataSet === null || !Array.isArray(dataSet.rows)) {
    throw mismatch(what, 'DataSet', dataSet);
  }
  const { columns, types, rows } = dataSet;
  if (columns.length !== types.length) {
    throw new SparkplugEncodeError(`${what}: ${columns.length} columns but ${types.length} types`);
  }
  return {
    numOfColumns: columns.length,
    columns,
    types: types.map(dataTypeCode),
    rows: rows.map((row, r) => {
      if (row.length !== columns.length) {
        throw new SparkplugEncodeError(
          `${what}: row ${r} has ${row.length} values for ${columns.length} columns`,
        );
      }
      return {
        elements: row.map((cell, c) => {
          const element: WireValueFields = {};
          if (cell !== null) setValue(element, types[c]!, cell, `${what}.rows[${r}][${c}]`, options);
          return element;
        }),
      };
    }),
  };
}

function encodeTemplate(template: SparkplugTemplate, what: string, options: EncodeOptions): WireTemplate {
  if (typeof template !== 'object' || template === null) throw mismatch(what, 'Template', template);
  const wire: WireTemplate = {
    metrics: (template.metrics ?? []).map((m, i) => encodeMetric(m, `${what}.metrics[${i}]`, options)),
    parameters: (template.parameters ?? []).map((p, i) => {
      const parameter: WireValueFields & { name?: string; type?: number } = {};
      if (p.name !== undefined) parameter.name = p.name;
      if (p.datatype !== undefined) parameter.type = dataTypeCode(p.datatype);
      if (p.value !== undefined) {
        if (p.datatype === undefined)
          throw new SparkplugEncodeError(`${what}.parameters[${i}]: value without datatype`);
        setValue(parameter, p.datatype, p.value, `${what}.parameters[${i}]`, options);
      }
      return parameter;
    }),
  };
  if (template.version !== undefined) wire.version = template.version;
  if (template.templateRef !== undefined) wire.templateRef = template.templateRef;
  if (template.isDefinition !== undefined) wire.isDefinition = template.isDefinition;
  return wire;
}

function encodePropertySet(set: SparkplugPropertySet, what: string, options: EncodeOptions): WirePropertySet {
  if (typeof set !== 'object' || set === null) throw mismatch(what, 'PropertySet', set);
  const keys = Object.keys(set);
  return {
    keys,
    values: keys.map((key) => {
      const property = set[key]!;
      const wire: WirePropertyValue = {};
      if (property.datatype !== undefined) wire.type = dataTypeCode(property.datatype);
      if (property.value === null) wire.isNull = true;
      else if (property.value !== undefined) {
        if (property.datatype === undefined)
          throw new SparkplugEncodeError(`${what}.${key}: value without datatype`);
        setValue(wire, property.datatype, property.value, `${what}.${key}`, options);
      }
      return wire;
    }),
  };
}

function encodeMetric(metric: SparkplugMetric, what: string, options: EncodeOptions): WireMetric {
  const label = metric.name !== undefined ? `metric '${metric.name}'` : `${what} (alias ${metric.alias})`;
  const wire: WireMetric = {};
  if (metric.name !== undefined) wire.name = metric.name;
  if (metric.alias !== undefined) wire.alias = toLongBits(metric.alias, `${label} alias`);
  if (metric.timestamp !== undefined) wire.timestamp = toLongBits(metric.timestamp, `${label} timestamp`);
  const aliasOnly = metric.name === undefined && metric.alias !== undefined;
  if (metric.datatype !== undefined && !(options.omitAliasedDatatypes && aliasOnly)) {
    wire.datatype = dataTypeCode(metric.datatype);
  }
  if (metric.value === null) wire.isNull = true;
  else if (metric.value !== undefined) {
    if (metric.datatype === undefined) throw new SparkplugEncodeError(`${label}: a value needs a datatype`);
    setValue(wire, metric.datatype, metric.value, label, options);
  }
  if (metric.isHistorical !== undefined) wire.isHistorical = metric.isHistorical;
  if (metric.isTransient !== undefined) wire.isTransient = metric.isTransient;
  if (metric.metadata !== undefined) {
    const { size, seq, ...rest } = metric.metadata;
    const meta: WireMetaData = { ...rest };
    if (size !== undefined) meta.size = toLongBits(size, `${label} metadata.size`);
    if (seq !== undefined) meta.seq = toLongBits(seq, `${label} metadata.seq`);
    wire.metadata = meta;
  }
  if (metric.properties !== undefined) {
    wire.properties = encodePropertySet(metric.properties, `${label} properties`, options);
  }
  return wire;
}

/**
 * Encodes a payload to Sparkplug B bytes. Every metric with a (non-null) value needs a datatype; it
 * picks the wire field. Signed 8/16/32-bit integers are written as their 32-bit two's complement.
 * @throws {SparkplugEncodeError} when a value does not fit its datatype.
 */
export function encodePayload(payload: SparkplugPayload, options: EncodeOptions = {}): Uint8Array {
  const wire: WirePayload = {
    metrics: (payload.metrics ?? []).map((m, i) => encodeMetric(m, `metrics[${i}]`, options)),
  };
  if (payload.timestamp !== undefined) wire.timestamp = toLongBits(payload.timestamp, 'payload timestamp');
  if (payload.seq !== undefined) wire.seq = toLongBits(payload.seq, 'payload seq');
  if (payload.uuid !== undefined) wire.uuid = payload.uuid;
  if (payload.body !== undefined) wire.body = payload.body;
  return Payload.encode(wire).finish();
}
