/**
 * The built-in mapping of OPC UA data changes to canonical telemetry, kept free of the OPC UA
 * stack so it can be tested on plain values: a counter node's numeric value becomes
 * `telemetry.machine.counter`, a state node's value becomes `telemetry.machine.state`.
 */
import { createHash } from 'node:crypto';
import { MACHINE_STATES } from '../../model/schemas/telemetry.js';
import type { MappedEvent } from '../framework/types.js';
import { COUNTER_TYPE, type MachineStateName, type OpcuaNodeConfig, STATE_TYPE } from './spec.js';

/** One data change as the stack delivered it, reduced to plain values. */
export interface OpcuaSample {
  /** The OPC UA built-in type name of the value (`Null` when the variable has none). */
  readonly dataType: string;
  readonly arrayType: 'Scalar' | 'Array' | 'Matrix';
  readonly value: unknown;
  /** The status code as a number and its name, e.g. 0 / `Good`. */
  readonly status: { readonly code: number; readonly name: string };
  readonly sourceTimestamp: Date | null;
  readonly sourcePicoseconds: number;
  readonly serverTimestamp: Date | null;
}

/** What a sample becomes: a message for the hub, or nothing (a counter without a value). */
export type SampleOutcome =
  | { readonly kind: 'skip'; readonly reason: string }
  | {
      readonly kind: 'message';
      readonly id: string;
      readonly payload: Record<string, unknown>;
      readonly raw: string;
      readonly events?: readonly MappedEvent[];
      readonly error?: string;
    };

export interface SampleContext {
  readonly node: OpcuaNodeConfig;
  /** The node's browse name, when it could be read. */
  readonly browseName: string | null;
  readonly plant: string | null;
  /** When the hub received the change; the time of a sample that carries no timestamp. */
  readonly receivedAt: number;
}

const KNOWN_STATES: ReadonlySet<string> = new Set(MACHINE_STATES);
const INTEGER_TYPES = new Set(['SByte', 'Byte', 'Int16', 'UInt16', 'Int32', 'UInt32']);
const WIDE_INTEGER_TYPES = new Set(['Int64', 'UInt64']);
const FLOAT_TYPES = new Set(['Float', 'Double']);

/** Good, Uncertain or Bad, from the top two bits of a status code. */
export function severity(code: number): 'good' | 'uncertain' | 'bad' {
  const top = code >>> 30;
  return top === 0 ? 'good' : top === 1 ? 'uncertain' : 'bad';
}

/** The stack gives 64-bit integers as [high, low] 32-bit words; BigInt keeps them exact. */
function wideInteger(value: unknown, signed: boolean): bigint | null {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [high, low] = value as unknown[];
  if (typeof high !== 'number' || typeof low !== 'number') return null;
  const bits = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
  return signed ? BigInt.asIntN(64, bits) : bits;
}

/** A numeric value, with its exact decimal when a number cannot hold it; a string is the problem. */
export function counterValue(sample: OpcuaSample): { value: number; exact?: string } | string {
  const { dataType, value } = sample;
  if (sample.arrayType !== 'Scalar') return `expected a single number, got an array of ${dataType}`;
  if (INTEGER_TYPES.has(dataType) && typeof value === 'number') return { value };
  if (FLOAT_TYPES.has(dataType) && typeof value === 'number')
    return Number.isFinite(value) ? { value } : `expected a finite number, got ${value}`;
  if (WIDE_INTEGER_TYPES.has(dataType)) {
    const big = wideInteger(value, dataType === 'Int64');
    if (big === null) return `cannot read the ${dataType} value`;
    const n = Number(big);
    return Number.isSafeInteger(n) ? { value: n } : { value: n, exact: big.toString() };
  }
  return `expected a number for ${COUNTER_TYPE}, got ${dataType}`;
}

/** The text of a String or LocalizedText value. */
function textOf(sample: OpcuaSample): string | null {
  if (sample.dataType === 'String' && typeof sample.value === 'string') return sample.value;
  if (sample.dataType === 'LocalizedText') {
    const text = (sample.value as { text?: unknown } | null)?.text;
    return typeof text === 'string' ? text : null;
  }
  return null;
}

/**
 * A state value as a canonical state: the node's `states` table first (keys compared without
 * regard to case), then the canonical names themselves; anything else is `unknown` with the
 * reported value kept. A variable without a usable value (a Bad status, no value, a LocalizedText
 * without a text) is `unknown`.
 */
export function stateOf(
  sample: OpcuaSample,
  states: ReadonlyMap<string, MachineStateName> | null,
): { state: MachineStateName; reported?: string } | string {
  if (severity(sample.status.code) === 'bad' || sample.dataType === 'Null') return { state: 'unknown' };
  // A state machine's CurrentState before its first transition: a LocalizedText without a text.
  if (sample.dataType === 'LocalizedText' && sample.arrayType === 'Scalar' && textOf(sample) === null)
    return { state: 'unknown' };
  if (sample.arrayType !== 'Scalar')
    return `expected a single state value, got an array of ${sample.dataType}`;
  let key: string;
  let reported: string;
  const text = textOf(sample);
  if (text !== null) {
    reported = text;
    key = text.trim().toLowerCase();
  } else if (INTEGER_TYPES.has(sample.dataType) && typeof sample.value === 'number') {
    reported = String(sample.value);
    key = reported;
  } else if (WIDE_INTEGER_TYPES.has(sample.dataType)) {
    const big = wideInteger(sample.value, sample.dataType === 'Int64');
    if (big === null) return `cannot read the ${sample.dataType} value`;
    reported = big.toString();
    key = reported;
  } else if (sample.dataType === 'Boolean' && typeof sample.value === 'boolean') {
    reported = String(sample.value);
    key = reported;
    if (!states?.has(key))
      return 'a Boolean state needs a states table on the node, e.g. {true: running, false: idle}';
  } else {
    return `expected a String, LocalizedText or integer state, got ${sample.dataType}`;
  }
  const mapped = states?.get(key);
  if (mapped !== undefined) return { state: mapped };
  if (KNOWN_STATES.has(key)) return { state: key as MachineStateName };
  return { state: 'unknown', reported };
}

/** The value as JSON can carry it: exact 64-bit integers as decimals, bytes as base64. */
export function jsonValue(sample: OpcuaSample): unknown {
  const { dataType, value } = sample;
  if (WIDE_INTEGER_TYPES.has(dataType) && sample.arrayType === 'Scalar') {
    const big = wideInteger(value, dataType === 'Int64');
    if (big !== null) return Number.isSafeInteger(Number(big)) ? Number(big) : big.toString();
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'bigint') return value.toString();
  if (value === undefined) return null;
  try {
    // The stack's own types (LocalizedText, ExtensionObject) know their JSON form.
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    return String(value);
  }
}

function isoOrNull(date: Date | null): string | null {
  return date && !Number.isNaN(date.getTime()) ? date.toISOString() : null;
}

/**
 * The identity of a change: the node, its source timestamp (with picoseconds) and a hash of value
 * and status. The same change seen twice (a transfer after a reconnect sends current values
 * again) is one message; a change without any timestamp falls back to its arrival time.
 */
export function sampleId(nodeId: string, sample: OpcuaSample, receivedAt: number): string {
  const stamp = isoOrNull(sample.sourceTimestamp) ?? isoOrNull(sample.serverTimestamp);
  const at = stamp ?? `received:${new Date(receivedAt).toISOString()}`;
  const pico = stamp && sample.sourcePicoseconds > 0 ? `+${sample.sourcePicoseconds}ps` : '';
  const digest = createHash('sha256')
    .update(`${sample.dataType}\u0000${sample.status.code}\u0000${JSON.stringify(jsonValue(sample))}`)
    .digest('hex')
    .slice(0, 16);
  return `${nodeId}@${at}${pico}#${digest}`;
}

/** One data change as a message: its payload for a `map`, and the built-in event or the error. */
export function sampleToMessage(sample: OpcuaSample, context: SampleContext): SampleOutcome {
  const { node, plant } = context;
  const at =
    isoOrNull(sample.sourceTimestamp) ??
    isoOrNull(sample.serverTimestamp) ??
    new Date(context.receivedAt).toISOString();
  const counter = node.counter ?? context.browseName ?? node.nodeId;
  const payload: Record<string, unknown> = {
    nodeId: node.nodeId,
    browseName: context.browseName,
    type: node.type,
    equipmentId: node.equipmentId,
    ...(node.type === COUNTER_TYPE ? { counter } : {}),
    ...(plant !== null ? { plant } : {}),
    value: jsonValue(sample),
    dataType: sample.dataType,
    status: sample.status.name,
    sourceTimestamp: isoOrNull(sample.sourceTimestamp),
    serverTimestamp: isoOrNull(sample.serverTimestamp),
  };
  const id = sampleId(node.nodeId, sample, context.receivedAt);
  const raw = JSON.stringify(payload);
  const failed = (error: string): SampleOutcome => ({ kind: 'message', id, payload, raw, events: [], error });
  if (node.mapping === 'mapped') return { kind: 'message', id, payload, raw };
  const base = { ...(plant !== null ? { plant } : {}), equipmentId: node.equipmentId };

  if (node.mapping === 'counter') {
    if (severity(sample.status.code) === 'bad' || sample.dataType === 'Null')
      return { kind: 'skip', reason: `no value (${sample.status.name})` };
    const value = counterValue(sample);
    if (typeof value === 'string') return failed(`${node.nodeId}: ${value}`);
    const data: Record<string, unknown> = { ...base, counter, value: value.value, at };
    if (value.exact !== undefined) data.exactValue = value.exact;
    return {
      kind: 'message',
      id,
      payload,
      raw,
      events: [{ type: COUNTER_TYPE, data, subject: node.equipmentId }],
    };
  }

  const state = stateOf(sample, node.states);
  if (typeof state === 'string') return failed(`${node.nodeId}: ${state}`);
  const data: Record<string, unknown> = { ...base, state: state.state, at };
  if (state.reported !== undefined) data.reportedState = state.reported;
  return {
    kind: 'message',
    id,
    payload,
    raw,
    events: [{ type: STATE_TYPE, data, subject: node.equipmentId }],
  };
}

/** The message for a node the server refused to monitor, for the source DLQ; stable per node and status. */
export function nodeFailureMessage(
  node: OpcuaNodeConfig,
  status: string,
  plant: string | null,
): { id: string; payload: Record<string, unknown>; raw: string; error: string } {
  const payload = {
    nodeId: node.nodeId,
    type: node.type,
    equipmentId: node.equipmentId,
    ...(plant !== null ? { plant } : {}),
    status,
  };
  const hint = status.startsWith('BadNodeIdUnknown') ? ' (the server has no such node)' : '';
  return {
    id: `${node.nodeId}#monitor:${status.split(' ')[0]}`,
    payload,
    raw: JSON.stringify(payload),
    error: `cannot monitor ${node.nodeId}: ${status}${hint}`,
  };
}
