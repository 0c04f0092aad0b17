/**
 * The default mapping of Sparkplug B messages to canonical telemetry events, used when a Sparkplug
 * connector has no `map` of its own:
 * - every numeric metric of NBIRTH, DBIRTH, NDATA and DDATA → `telemetry.machine.counter`;
 * - a string metric named `State` (any case; configurable) → `telemetry.machine.state`, its value
 *   lower-cased, anything other than running|idle|down|setup|unknown as `unknown`;
 * - NDEATH → `telemetry.machine.state` `unknown` for the edge node and each device that was online,
 *   DDEATH → the same for the device.
 * `equipmentId` is the device id (else the edge node id); the plant is the configured one, else the
 * Sparkplug group id.
 */
import { hash } from 'node:crypto';
import {
  MACHINE_STATES,
  type TelemetryMachineCounterData,
  type TelemetryMachineStateData,
} from '../../../model/schemas/telemetry.js';
import { isNumericDataType, type SparkplugInteger, type SparkplugMetric } from './codec.js';
import type { SparkplugMessage } from './session.js';

/** A metric-name pattern: a RegExp, or a string where `*` matches within one `/` level and `**` across levels. */
export type MetricPattern = string | RegExp;

/** Rules of the default Sparkplug mapping. */
export interface SparkplugMappingOptions {
  /** The plant of every event; without it the Sparkplug group id is the plant. */
  plant?: string;
  /**
   * Names (compared without regard to case) of the string metrics that carry a machine state.
   * @default ['State']
   */
  stateMetricNames?: readonly string[];
  /** When given, only metrics whose name matches one of these are mapped. */
  include?: readonly MetricPattern[];
  /** Metrics whose name matches one of these are not mapped (applied after `include`). */
  exclude?: readonly MetricPattern[];
  /**
   * Also map Sparkplug's own session metrics (`bdSeq`, `Node Control/*`, `Device Control/*`). They
   * describe the protocol session, not the machine, so by default they produce no events.
   * @default false
   */
  controlMetrics?: boolean;
}

/** `telemetry.machine.counter` data; `exactValue` (decimal) is added when `value` cannot hold the integer exactly. */
export type MachineCounterData = TelemetryMachineCounterData & { exactValue?: string };
/** `telemetry.machine.state` data; `reportedState` keeps a reported value that was not a known state. */
export type MachineStateData = TelemetryMachineStateData & { reportedState?: string };

interface MappedBase {
  /** Deterministic: the same MQTT message always maps to the same ids (the hub's idempotency key). */
  readonly id: string;
  /** The equipment id. */
  readonly subject: string;
  /** `<plant>/<equipmentId>`, so events of one machine stay in order. */
  readonly partitionkey: string;
}

/** One canonical event produced from a Sparkplug message (attributes and data; the connector adds the rest). */
export type MappedSparkplugEvent =
  | (MappedBase & { readonly type: 'telemetry.machine.counter'; readonly data: MachineCounterData })
  | (MappedBase & { readonly type: 'telemetry.machine.state'; readonly data: MachineStateData });

/** Maps one session-resolved Sparkplug message to canonical events. */
export type SparkplugMapper = (message: SparkplugMessage) => MappedSparkplugEvent[];

type MachineState = TelemetryMachineStateData['state'];
const KNOWN_STATES: ReadonlySet<string> = new Set(MACHINE_STATES);
const CONTROL_METRIC = /^(?:bdSeq$|Node Control\/|Device Control\/)/;
// Date's own range; beyond it toISOString throws.
const MAX_DATE_MS = 8.64e15;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Compiles a glob-like metric-name pattern to an anchored RegExp. */
export function compileMetricPattern(pattern: MetricPattern): RegExp {
  if (pattern instanceof RegExp) return pattern;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else source += escapeRegExp(ch);
  }
  return new RegExp(`^${source}$`);
}

/** A valid epoch-ms timestamp, or undefined. */
function validTime(ms: number | undefined): number | undefined {
  return ms !== undefined && Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? ms : undefined;
}

// Metrics of one message usually share a timestamp; formatting a date is a measurable part of the cost.
let lastMs = Number.NaN;
let lastText = '';
function rfc3339(ms: number): string {
  if (ms !== lastMs) {
    lastText = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastText;
}

/** A UUID-shaped (version 8, RFC 9562) digest of the parts that identify one mapped value. */
function eventId(parts: ReadonlyArray<string | number>): string {
  const hex = hash('sha256', parts.join('\u0000'), 'hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function integerText(value: SparkplugInteger | undefined): string {
  return value === undefined ? '' : String(value);
}

/**
 * Builds the mapper for a set of rules (compiled once; the mapper is pure and cheap to call).
 * @throws {RangeError} from the mapper when `receivedAt` is not a valid time.
 */
export function createSparkplugMapper(options: SparkplugMappingOptions = {}): SparkplugMapper {
  const stateNames = new Set((options.stateMetricNames ?? ['State']).map((n) => n.toLowerCase()));
  const include = options.include?.map(compileMetricPattern);
  const exclude = (options.exclude ?? []).map(compileMetricPattern);
  const controlMetrics = options.controlMetrics ?? false;

  const decide = (name: string): boolean => {
    if (!controlMetrics && CONTROL_METRIC.test(name)) return false;
    if (include && !include.some((re) => re.test(name))) return false;
    return !exclude.some((re) => re.test(name));
  };
  // Edge nodes repeat the same metric names in every message; remember the decision (bounded).
  const decisions = new Map<string, boolean>();
  const wanted = (name: string): boolean => {
    let decision = decisions.get(name);
    if (decision === undefined) {
      decision = decide(name);
      if (decisions.size >= 10_000) decisions.clear();
      decisions.set(name, decision);
    }
    return decision;
  };

  return (message) => {
    const { topic, payload, receivedAt } = message;
    const plant = options.plant ?? topic.groupId;
    const device = topic.kind === 'device' ? topic.deviceId : undefined;
    const equipmentId = device ?? topic.edgeNodeId;
    const seq = payload.seq === undefined ? '' : payload.seq;
    const bdSeq = integerText(message.bdSeq);
    const payloadTime = validTime(payload.timestamp);
    if (validTime(receivedAt) === undefined)
      throw new RangeError(`receivedAt ${receivedAt} is not a valid time`);
    // Ids use source timestamps so that a redelivered message gets the same ids; only a message without
    // any timestamp falls back to its arrival time (a redelivery then yields new ids rather than
    // colliding with a different message once seq wraps).
    const idBase = [topic.groupId, topic.edgeNodeId, device ?? '', topic.messageType, seq, bdSeq];

    const stateEvent = (
      equipment: string,
      state: MachineState,
      at: number,
      idParts: ReadonlyArray<string | number>,
      reportedState?: string,
    ): MappedSparkplugEvent => {
      const data: MachineStateData = { plant, equipmentId: equipment, state, at: rfc3339(at) };
      if (reportedState !== undefined) data.reportedState = reportedState;
      return {
        id: eventId(idParts),
        type: 'telemetry.machine.state',
        data,
        subject: equipment,
        partitionkey: `${plant}/${equipment}`,
      };
    };

    switch (topic.messageType) {
      case 'NDEATH': {
        // The NDEATH payload was built when the node connected (it is the MQTT will), so its timestamp
        // is not the time of death; the arrival time is.
        const idTime = payloadTime ?? `r${receivedAt}`;
        const events = [stateEvent(topic.edgeNodeId, 'unknown', receivedAt, [...idBase, '', idTime])];
        for (const deviceId of message.devices ?? []) {
          const idParts = [
            topic.groupId,
            topic.edgeNodeId,
            deviceId,
            topic.messageType,
            seq,
            bdSeq,
            '',
            idTime,
          ];
          events.push(stateEvent(deviceId, 'unknown', receivedAt, idParts));
        }
        return events;
      }
      case 'DDEATH': {
        const idParts = [...idBase, '', payloadTime ?? `r${receivedAt}`];
        return [stateEvent(equipmentId, 'unknown', payloadTime ?? receivedAt, idParts)];
      }
      case 'NCMD':
      case 'DCMD':
        return [];
      default:
        break;
    }

    const events: MappedSparkplugEvent[] = [];
    for (const metric of payload.metrics) {
      const name = metric.name;
      const value = metric.value;
      if (name === undefined || value === undefined || value === null || !wanted(name)) continue;
      const metricTime = validTime(metric.timestamp) ?? payloadTime;
      const at = metricTime ?? receivedAt;
      const idParts = [...idBase, name, metricTime ?? `r${receivedAt}`];
      if (typeof value === 'string') {
        if (!stateNames.has(name.toLowerCase())) continue;
        const normalized = value.trim().toLowerCase();
        const known = KNOWN_STATES.has(normalized);
        events.push(
          stateEvent(
            equipmentId,
            known ? (normalized as MachineState) : 'unknown',
            at,
            idParts,
            known ? undefined : value,
          ),
        );
        continue;
      }
      const counter = counterValue(metric);
      if (counter === undefined) continue;
      const data: MachineCounterData = {
        plant,
        equipmentId,
        counter: name,
        value: counter.value,
        at: rfc3339(at),
      };
      if (counter.exact !== undefined) data.exactValue = counter.exact;
      events.push({
        id: eventId(idParts),
        type: 'telemetry.machine.counter',
        data,
        subject: equipmentId,
        partitionkey: `${plant}/${equipmentId}`,
      });
    }
    return events;
  };
}

/** The numeric value of a metric as JSON can carry it, or undefined for non-numeric metrics. */
function counterValue(metric: SparkplugMetric): { value: number; exact?: string } | undefined {
  const value = metric.value;
  if (typeof value === 'bigint') return { value: Number(value), exact: value.toString() };
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  // Metrics resolved through a birth always carry their datatype; a number without one is still numeric.
  if (metric.datatype !== undefined && !isNumericDataType(metric.datatype)) return undefined;
  return { value };
}

/**
 * Maps one message with the given rules. For many messages build the mapper once with
 * {@link createSparkplugMapper}.
 */
export function mapSparkplugMessage(
  message: SparkplugMessage,
  options: SparkplugMappingOptions = {},
): MappedSparkplugEvent[] {
  return createSparkplugMapper(options)(message);
}
