/**
 * Cost of the Sparkplug ingest path per metric: decode the protobuf, resolve aliases and check `seq` in
 * the session, and map to canonical events.
 */
import { encodePayload, type SparkplugDataType, type SparkplugMetric } from './codec.js';
import { createSparkplugMapper } from './mapping.js';
import { SparkplugSessions } from './session.js';

/** What {@link benchSparkplugDecode} measured. */
export interface SparkplugDecodeBench {
  /** Nanoseconds per metric for decode + session + mapping. */
  readonly nsPerMetric: number;
  readonly metricsPerMessage: number;
  readonly messages: number;
}

const METRICS_PER_MESSAGE = 50;
const TYPES: readonly SparkplugDataType[] = ['Int32', 'Float', 'Double', 'UInt64', 'Int16'];

function sampleValue(datatype: SparkplugDataType, i: number, seq: number): number {
  return datatype === 'Float' || datatype === 'Double'
    ? 20 + ((i * 7 + seq) % 100) / 8
    : (i * 1000 + seq) % 30000;
}

/**
 * Runs `iterations` DDATA messages (50 alias-only metrics each, one of them a `State` string, as the
 * spec recommends for DATA) through decode, session and mapping, after one NBIRTH and DBIRTH.
 */
export function benchSparkplugDecode(iterations: number): SparkplugDecodeBench {
  const node = 'spBv1.0/P1/NBIRTH/line-1';
  const device = 'spBv1.0/P1/DDATA/line-1/PRESS-07';
  const definitions = Array.from({ length: METRICS_PER_MESSAGE }, (_, i) => ({
    name: i === 0 ? 'State' : `Press/Channel ${i}`,
    alias: i + 1,
    datatype: (i === 0 ? 'String' : TYPES[i % TYPES.length]!) as SparkplugDataType,
  }));
  const sessions = new SparkplugSessions();
  sessions.process(
    node,
    encodePayload({ timestamp: 0, seq: 0, metrics: [{ name: 'bdSeq', datatype: 'Int64', value: 0 }] }),
    0,
  );
  sessions.process(
    'spBv1.0/P1/DBIRTH/line-1/PRESS-07',
    encodePayload({
      timestamp: 0,
      seq: 1,
      metrics: definitions.map((d, i) => ({ ...d, value: i === 0 ? 'idle' : sampleValue(d.datatype, i, 0) })),
    }),
    0,
  );
  // One message per seq value, so cycling through them keeps `seq` continuous (2..255, 0, 1, ...).
  const messages = Array.from({ length: 256 }, (_, k) => {
    const seq = (k + 2) % 256;
    const metrics: SparkplugMetric[] = definitions.map((d, i) => ({
      alias: d.alias,
      datatype: d.datatype,
      timestamp: 1_718_000_000_000 + k,
      value: i === 0 ? (k % 2 === 0 ? 'RUNNING' : 'Idle') : sampleValue(d.datatype, i, seq),
    }));
    return encodePayload({ timestamp: 1_718_000_000_000 + k, seq, metrics }, { omitAliasedDatatypes: true });
  });
  const map = createSparkplugMapper();
  let produced = 0;
  const started = process.hrtime.bigint();
  for (let n = 0; n < iterations; n++) {
    const outcome = sessions.process(device, messages[n % messages.length]!, 1_718_000_000_000 + n);
    if (outcome.kind === 'message') produced += map(outcome.message).length;
  }
  const elapsed = Number(process.hrtime.bigint() - started);
  if (iterations > 0 && produced !== iterations * METRICS_PER_MESSAGE) {
    throw new Error(`benchmark mapped ${produced} events, expected ${iterations * METRICS_PER_MESSAGE}`);
  }
  return {
    nsPerMetric: iterations > 0 ? elapsed / (iterations * METRICS_PER_MESSAGE) : 0,
    metricsPerMessage: METRICS_PER_MESSAGE,
    messages: iterations,
  };
}
