import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as fc from 'fast-check';
import {
  decodePayload,
  encodePayload,
  interpretValue,
  type SparkplugDataType,
  SparkplugDecodeError,
  SparkplugEncodeError,
  type SparkplugMetric,
  type SparkplugPayload,
} from './codec.js';
import { loadSimpleExample, loadSpecExamples, SPARKPLUG_DATA } from './spec-examples.test-helper.js';
import '../../../../test/helpers/seed.js';

/** The subset of a protobufjs message type the independent decode needs. */
interface ProtoType {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: { longs: NumberConstructor; defaults: boolean }): ProtoPayload;
}
interface ProtoMetric {
  name?: string;
  alias?: number;
  timestamp?: number;
  datatype?: number;
  intValue?: number;
  longValue?: number;
  floatValue?: number;
  doubleValue?: number;
  booleanValue?: boolean;
  stringValue?: string;
  bytesValue?: Uint8Array;
}
interface ProtoPayload {
  timestamp?: number;
  seq?: number;
  metrics?: ProtoMetric[];
}

/**
 * The payload type compiled by protobufjs straight from the spec's sparkplug_b.proto, to check the
 * codec's bytes independently of the generated classes it uses. protobufjs is resolved the way
 * sparkplug-payload resolves it (it is that package's dependency).
 */
function specProtoPayloadType(): ProtoType {
  const require = createRequire(import.meta.url);
  const fromSparkplugPayload = createRequire(require.resolve('sparkplug-payload'));
  // protobufjs is CommonJS and untyped through createRequire; only loadSync/lookupType are used.
  const protobuf = fromSparkplugPayload('protobufjs') as {
    loadSync(path: string): { lookupType(name: string): ProtoType };
  };
  const root = protobuf.loadSync(fileURLToPath(new URL('sparkplug_b.proto', SPARKPLUG_DATA)));
  return root.lookupType('org.eclipse.tahu.protobuf.Payload');
}

const DATATYPE_CODES: Partial<Record<SparkplugDataType, number>> = {
  Int64: 4,
  UInt64: 8,
  Float: 9,
  Boolean: 11,
  String: 12,
};

test('every spec example payload encodes and decodes back to the same payload', () => {
  const examples = loadSpecExamples();
  assert.deepEqual([...examples.keys()].sort(), [
    'DBIRTH',
    'DCMD',
    'DDATA',
    'DDEATH',
    'NBIRTH',
    'NCMD',
    'NDATA',
    'NDEATH',
  ]);
  for (const example of examples.values()) {
    const bytes = encodePayload(example.payload);
    assert.deepEqual(decodePayload(bytes), example.payload, example.file);
  }
  const simple = loadSimpleExample();
  const payload: SparkplugPayload = {
    timestamp: simple.timestamp!,
    seq: simple.seq!,
    metrics: [{ name: 'My Metric', alias: 1, timestamp: 1479123452194, datatype: 'String', value: 'Test' }],
  };
  assert.deepEqual(decodePayload(encodePayload(payload)), payload);
});

test('the encoded spec examples decode with the spec proto to the fields the spec prescribes', () => {
  const Payload = specProtoPayloadType();
  for (const example of loadSpecExamples().values()) {
    const bytes = encodePayload(example.payload);
    const wire = Payload.toObject(Payload.decode(bytes), { longs: Number, defaults: false });
    assert.equal(wire.timestamp, example.json.timestamp, `${example.file} timestamp`);
    assert.equal(wire.seq, example.json.seq, `${example.file} seq`);
    const metrics = example.json.metrics ?? [];
    assert.equal(wire.metrics?.length ?? 0, metrics.length, `${example.file} metric count`);
    metrics.forEach((expected, i) => {
      const m = wire.metrics![i]!;
      const where = `${example.file} ${expected.name}`;
      assert.equal(m.name, expected.name, where);
      assert.equal(m.timestamp, expected.timestamp, where);
      assert.equal(m.datatype, DATATYPE_CODES[expected.dataType], where);
      // Each datatype travels in the value field the spec's datatype table names.
      switch (expected.dataType) {
        case 'Boolean':
          assert.equal(m.booleanValue, expected.value, where);
          break;
        case 'String':
          assert.equal(m.stringValue, expected.value, where);
          break;
        case 'Int64':
        case 'UInt64':
          assert.equal(m.longValue, expected.value, where);
          break;
        case 'Float':
          assert.equal(m.floatValue, Math.fround(expected.value as number), where);
          break;
        default:
          assert.fail(`unexpected datatype ${expected.dataType} in ${where}`);
      }
    });
  }
});

test('DATA metrics without a datatype keep their value until the birth datatype interprets it', () => {
  const bytes = encodePayload(
    {
      timestamp: 1,
      seq: 2,
      metrics: [
        { alias: 1, datatype: 'Int8', value: -5 },
        { alias: 2, datatype: 'Float', value: 0.1 },
        { alias: 3, datatype: 'Int64', value: -1 },
        { alias: 4, datatype: 'Int16Array', value: [-30000, 30000] },
      ],
    },
    { omitAliasedDatatypes: true },
  );
  const [int8, float, int64, array] = decodePayload(bytes).metrics as [
    SparkplugMetric,
    SparkplugMetric,
    SparkplugMetric,
    SparkplugMetric,
  ];
  assert.equal(int8.datatype, undefined, 'the datatype is not on the wire');
  assert.equal(int8.value, 0xfffffffb, 'uninterpreted: the uint32 field as sent');
  assert.equal(interpretValue(int8.value, 'Int8'), -5);
  assert.equal(float.value, 0.1, 'float32 values read as their shortest decimal even without datatype');
  assert.equal(int64.value, 2n ** 64n - 1n);
  assert.equal(interpretValue(int64.value, 'Int64'), -1);
  assert.deepEqual(interpretValue(array.value, 'Int16Array'), [-30000, 30000]);
  // Interpretation is idempotent, so applying it twice is harmless.
  assert.equal(interpretValue(interpretValue(int8.value, 'Int8'), 'Int8'), -5);
});

test('64-bit integers keep full precision: numbers while safe, bigint beyond 2^53', () => {
  const cases: Array<[SparkplugDataType, number | bigint]> = [
    ['Int64', 0],
    ['Int64', -1],
    ['Int64', Number.MAX_SAFE_INTEGER],
    ['Int64', Number.MIN_SAFE_INTEGER],
    ['Int64', 2n ** 53n],
    ['Int64', -(2n ** 63n)],
    ['Int64', 2n ** 63n - 1n],
    ['UInt64', 2n ** 64n - 1n],
    ['UInt64', 9_007_199_254_740_993n],
    ['DateTime', 1486144502122],
  ];
  for (const [datatype, value] of cases) {
    const [metric] = decodePayload(encodePayload({ metrics: [{ name: 'v', datatype, value }] })).metrics;
    assert.equal(metric?.value, value, `${datatype} ${value}`);
    assert.equal(typeof metric?.value, typeof value, `${datatype} ${value} keeps its JS type`);
  }
});

test('signed small integers decode from both 32-bit and narrow two-s complement forms', () => {
  // Some edge nodes send Int8 -1 as 0xFF, others sign-extend to 0xFFFFFFFF; both mean -1.
  assert.equal(interpretValue(0xff, 'Int8'), -1);
  assert.equal(interpretValue(0xffffffff, 'Int8'), -1);
  assert.equal(interpretValue(0xffa9, 'Int16'), -87);
  assert.equal(interpretValue(0xffffffa9, 'Int16'), -87);
  assert.equal(interpretValue(0x80000000, 'Int32'), -2147483648);
  assert.equal(interpretValue(127, 'Int8'), 127);
  // UInt32 values above 2^31 stay positive (some libraries turn them negative).
  assert.equal(interpretValue(4_000_000_000, 'UInt32'), 4_000_000_000);
});

test('integer datatypes round-trip over their whole range', () => {
  const ranges: Array<[SparkplugDataType, number, number]> = [
    ['Int8', -128, 127],
    ['Int16', -32768, 32767],
    ['Int32', -2147483648, 2147483647],
    ['UInt8', 0, 255],
    ['UInt16', 0, 65535],
    ['UInt32', 0, 4294967295],
  ];
  for (const [datatype, min, max] of ranges) {
    fc.assert(
      fc.property(fc.integer({ min, max }), (value) => {
        const [metric] = decodePayload(encodePayload({ metrics: [{ name: 'v', datatype, value }] })).metrics;
        assert.equal(metric?.value, value);
      }),
      { numRuns: 200 },
    );
  }
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (value) => {
      const [metric] = decodePayload(
        encodePayload({ metrics: [{ name: 'v', datatype: 'Int64', value }] }),
      ).metrics;
      assert.equal(BigInt(metric!.value as number | bigint), value);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (value) => {
      const [metric] = decodePayload(
        encodePayload({ metrics: [{ name: 'v', datatype: 'UInt64', value }] }),
      ).metrics;
      assert.equal(BigInt(metric!.value as number | bigint), value);
    }),
    { numRuns: 300 },
  );
});

test('array datatypes use the packed little-endian bytes of the spec examples', () => {
  const cases: Array<[SparkplugDataType, unknown[], number[]]> = [
    ['Int8Array', [-23, 123], [0xe9, 0x7b]],
    ['Int16Array', [-30000, 30000], [0xd0, 0x8a, 0x30, 0x75]],
    ['Int32Array', [-1, 315338746], [0xff, 0xff, 0xff, 0xff, 0xfa, 0xaf, 0xcb, 0x12]],
    ['UInt8Array', [23, 250], [0x17, 0xfa]],
    ['UInt16Array', [30, 52360], [0x1e, 0x00, 0x88, 0xcc]],
    ['UInt32Array', [52, 3293969225], [0x34, 0x00, 0x00, 0x00, 0x49, 0xfb, 0x55, 0xc4]],
    [
      'UInt64Array',
      [52, 16444743074749521625n],
      [0x34, 0, 0, 0, 0, 0, 0, 0, 0xd9, 0x9e, 0x02, 0xd1, 0xb2, 0x76, 0x37, 0xe4],
    ],
    ['StringArray', ['ABC', 'hello'], [0x41, 0x42, 0x43, 0x00, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x00]],
    [
      'BooleanArray',
      [false, false, true, true, false, true, false, false, true, true, false, true],
      [0x0c, 0x00, 0x00, 0x00, 0x34, 0xd0],
    ],
    ['DateTimeArray', [1256102875335, 1656107875000], [...le64(1256102875335n), ...le64(1656107875000n)]],
  ];
  for (const [datatype, value, bytes] of cases) {
    const decoded = interpretValue(Uint8Array.from(bytes), datatype);
    assert.deepEqual(decoded, value, `${datatype} decodes`);
    const [metric] = decodePayload(
      encodePayload({ metrics: [{ name: 'a', datatype, value: value as never }] }),
    ).metrics;
    assert.deepEqual(metric?.value, value, `${datatype} round-trips`);
  }
  // The spec's FloatArray example, compared at float32 precision.
  assert.deepEqual(
    interpretValue(Uint8Array.from([0xa4, 0x70, 0x9d, 0x3f, 0x98, 0xae, 0xb2, 0x42]), 'FloatArray'),
    [1.23, 89.341],
  );
});

function le64(value: bigint): number[] {
  const out: number[] = [];
  for (let i = 0n; i < 8n; i++) out.push(Number((value >> (8n * i)) & 0xffn));
  return out;
}

test('DataSet, Template, properties and metadata round-trip', () => {
  const properties = Object.assign(Object.create(null) as Record<string, never>, {
    Quality: { datatype: 'Int32', value: 192 },
    engUnit: { datatype: 'String', value: 'bar' },
    missing: { datatype: 'Int32', value: null },
  });
  const payload: SparkplugPayload = {
    timestamp: 1_700_000_000_000,
    seq: 7,
    uuid: 'custom',
    body: Uint8Array.from([1, 2, 3]),
    metrics: [
      {
        name: 'Shift table',
        datatype: 'DataSet',
        value: {
          columns: ['shift', 'parts', 'ok'],
          types: ['String', 'Int64', 'Boolean'],
          rows: [
            ['early', 1200, true],
            ['late', null, false],
          ],
        },
      },
      {
        name: 'Motor',
        datatype: 'Template',
        value: {
          templateRef: 'MotorType',
          version: '1',
          isDefinition: false,
          metrics: [{ name: 'rpm', datatype: 'Double', value: 1480.5 }],
          parameters: [{ name: 'ratedPower', datatype: 'Float', value: 7.5 }],
        },
      },
      { name: 'Pressure', datatype: 'Double', value: 3.25, properties },
      {
        name: 'Recipe',
        datatype: 'File',
        value: Uint8Array.from([0xde, 0xad]),
        metadata: { fileName: 'r.bin', size: 2, md5: 'x', isMultiPart: false },
      },
      { name: 'Nothing yet', datatype: 'Double', value: null, isHistorical: true, isTransient: false },
    ],
  };
  assert.deepEqual(decodePayload(encodePayload(payload)), payload);
});

test('values that do not fit their datatype are refused when encoding', () => {
  const bad: Array<[SparkplugDataType, unknown]> = [
    ['Int8', 128],
    ['UInt16', -1],
    ['Int32', 1.5],
    ['UInt64', -1],
    ['Int64', 2n ** 63n],
    ['Boolean', 'yes'],
    ['String', 3],
    ['Float', '1.0'],
  ];
  for (const [datatype, value] of bad) {
    assert.throws(
      () => encodePayload({ metrics: [{ name: 'm', datatype, value: value as never }] }),
      SparkplugEncodeError,
      `${datatype} ${String(value)}`,
    );
  }
  assert.throws(() => encodePayload({ metrics: [{ name: 'm', value: 1 }] }), /needs a datatype/);
});

test('malformed bytes raise SparkplugDecodeError', () => {
  const valid = encodePayload({
    timestamp: 1,
    seq: 1,
    metrics: [{ name: 'Temperature', datatype: 'Double', value: 1 }],
  });
  const cases: Array<[string, Uint8Array]> = [
    ['truncated', valid.subarray(0, valid.length - 3)],
    ['invalid wire type', Uint8Array.from([0x7f, 0x01])],
    ['length beyond the end', Uint8Array.from([0x12, 0x7f, 0x01])],
    ['unterminated varint', Uint8Array.from([0x08, 0xff])],
    ['over-long varint', Uint8Array.from([0x08, ...new Array<number>(11).fill(0xff)])],
    ['JSON instead of protobuf', new TextEncoder().encode('{"online":true}')],
  ];
  for (const [what, bytes] of cases) {
    assert.throws(() => decodePayload(bytes), SparkplugDecodeError, what);
  }
  assert.throws(() => decodePayload('not bytes' as unknown as Uint8Array), SparkplugDecodeError);
  // A well-formed protobuf that breaks Sparkplug's own rules is malformed too.
  assert.throws(
    () => interpretValue(Uint8Array.from([1, 2, 3]), 'Int16Array'),
    (e: unknown) => e instanceof SparkplugDecodeError && /multiple of the element size/.test(e.message),
  );
});

test('property: random bytes never throw anything but SparkplugDecodeError', () => {
  const onlyDecodeErrors = (bytes: Uint8Array): void => {
    try {
      decodePayload(bytes);
    } catch (error) {
      assert.ok(error instanceof SparkplugDecodeError, `unexpected ${String(error)}`);
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), onlyDecodeErrors), { numRuns: 3000 });

  // Mutations of a real, rich payload reach far deeper into the decoder than random bytes do.
  const rich = encodePayload({
    timestamp: 1,
    seq: 3,
    metrics: [
      { name: 'a', alias: 1, datatype: 'Int8', value: -1 },
      { name: 'b', alias: 2, datatype: 'BooleanArray', value: [true, false, true] },
      { name: 'c', datatype: 'DataSet', value: { columns: ['x'], types: ['Int32'], rows: [[1]] } },
      {
        name: 'd',
        datatype: 'Template',
        value: { metrics: [{ name: 'e', datatype: 'String', value: 's' }], parameters: [] },
      },
      { name: 'f', datatype: 'Double', value: 2, properties: { q: { datatype: 'Int32', value: 192 } } },
    ],
  });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat({ max: rich.length - 1 }), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 6,
      }),
      (edits) => {
        const bytes = Uint8Array.from(rich);
        for (const [index, byte] of edits) bytes[index] = byte;
        onlyDecodeErrors(bytes);
      },
    ),
    { numRuns: 3000 },
  );
});
