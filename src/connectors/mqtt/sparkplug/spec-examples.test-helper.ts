/**
 * The example messages of the Sparkplug 3.0 specification (payloads as JSON, with their topics),
 * loaded from test/data/sparkplug for the unit tests of this folder.
 */
import { readFileSync } from 'node:fs';
import type { SparkplugDataType, SparkplugMetric, SparkplugPayload } from './codec.js';

/** test/data/sparkplug, resolved from the compiled file's location (dist/src/connectors/mqtt/sparkplug). */
export const SPARKPLUG_DATA = new URL('../../../../../test/data/sparkplug/', import.meta.url);

/** One metric as the spec's JSON notation writes it. */
export interface SpecJsonMetric {
  name?: string;
  alias?: number;
  timestamp?: number;
  dataType: SparkplugDataType;
  value: number | boolean | string;
}

/** A payload as the spec's JSON notation writes it. */
export interface SpecJsonPayload {
  timestamp?: number;
  metrics?: SpecJsonMetric[];
  seq?: number;
}

/** One example: its message type, topic, the JSON and the same payload as the codec's type. */
export interface SpecExample {
  readonly messageType: string;
  readonly topic: string;
  readonly file: string;
  readonly json: SpecJsonPayload;
  readonly payload: SparkplugPayload;
}

/** The spec's `dataType` key is the codec's `datatype`; everything else carries over. */
export function fromSpecJson(json: SpecJsonPayload): SparkplugPayload {
  const payload: SparkplugPayload = {
    metrics: (json.metrics ?? []).map((m) => {
      const metric: SparkplugMetric = { datatype: m.dataType, value: m.value };
      if (m.name !== undefined) metric.name = m.name;
      if (m.alias !== undefined) metric.alias = m.alias;
      if (m.timestamp !== undefined) metric.timestamp = m.timestamp;
      return metric;
    }),
  };
  if (json.timestamp !== undefined) payload.timestamp = json.timestamp;
  if (json.seq !== undefined) payload.seq = json.seq;
  return payload;
}

/** Every example listed in spec-examples/topics.txt, keyed by message type. */
export function loadSpecExamples(): Map<string, SpecExample> {
  const dir = new URL('spec-examples/', SPARKPLUG_DATA);
  const examples = new Map<string, SpecExample>();
  for (const line of readFileSync(new URL('topics.txt', dir), 'utf8').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const [messageType, topic, file] = line.split('\t') as [string, string, string];
    const json = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as SpecJsonPayload;
    examples.set(messageType, { messageType, topic, file, json, payload: fromSpecJson(json) });
  }
  return examples;
}

/** Loads the spec's `simple-payload-with-values` example (a metric with name and alias). */
export function loadSimpleExample(): SpecJsonPayload {
  const url = new URL('spec-examples/simple-payload-with-values.payload.json', SPARKPLUG_DATA);
  return JSON.parse(readFileSync(url, 'utf8')) as SpecJsonPayload;
}
