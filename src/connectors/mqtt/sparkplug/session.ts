/**
 * Host-side Sparkplug B session tracking: which edge nodes and devices are online, their metric alias
 * tables, `seq` continuity and `bdSeq` matching of death certificates. Pure: it never publishes; when
 * the edge node must be asked for a new birth certificate the outcome carries the NCMD to publish.
 */
import {
  decodePayload,
  encodePayload,
  interpretValue,
  type SparkplugDataType,
  SparkplugDecodeError,
  type SparkplugInteger,
  type SparkplugMetric,
  type SparkplugPayload,
} from './codec.js';
import { type EdgeTopic, formatTopic, parseTopic, type SparkplugTopicError } from './topic.js';

/** The metric that asks an edge node to publish its birth certificates again. */
export const REBIRTH_METRIC = 'Node Control/Rebirth';
/** The birth/death metric that ties an NDEATH to the NBIRTH of the same MQTT session. */
export const BDSEQ_METRIC = 'bdSeq';

/** A metric as defined by a birth certificate. */
export interface MetricDefinition {
  readonly name: string;
  readonly datatype: SparkplugDataType | undefined;
}

/** Something wrong with a message that the session reports instead of throwing. */
export type SessionProblemCode =
  /** A DATA metric names an alias that the birth did not define (triggers a rebirth request). */
  | 'unknown-alias'
  /** `seq` is not the previous one plus one (mod 256) (triggers a rebirth request). */
  | 'seq-gap'
  /** `seq` is missing or outside 0..255 (triggers a rebirth request). */
  | 'seq-invalid'
  /** DATA or DBIRTH from a node or device without a current birth (triggers a rebirth request). */
  | 'data-before-birth'
  /** An NBIRTH without the `bdSeq` metric: its NDEATH cannot be told from a stale one. */
  | 'missing-bdseq'
  /** A birth defines the same alias for two different names; the later one wins. */
  | 'alias-conflict'
  /** A metric with neither name nor alias; it is dropped. */
  | 'unnamed-metric'
  /** A metric whose bytes do not fit the datatype its birth declared; it is dropped. */
  | 'invalid-value';

/** One problem found in a message. */
export interface SessionProblem {
  readonly code: SessionProblemCode;
  readonly detail: string;
  readonly alias?: SparkplugInteger;
  readonly expectedSeq?: number;
  readonly receivedSeq?: number;
}

/** An NCMD asking an edge node for its birth certificates, ready to publish (QoS 0, not retained). */
export interface RebirthRequest {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: 0;
  readonly retain: false;
  readonly groupId: string;
  readonly edgeNodeId: string;
}

/** A decoded edge node or device message, with every metric's name and datatype resolved. */
export interface SparkplugMessage {
  readonly topic: EdgeTopic;
  readonly payload: SparkplugPayload;
  /** When the hub received it (ms since the epoch). */
  readonly receivedAt: number;
  /** The `bdSeq` of the edge node's current session (of the NDEATH itself for a death certificate). */
  readonly bdSeq?: SparkplugInteger;
  /** For NDEATH: the devices that were online and go offline with the node. */
  readonly devices?: readonly string[];
}

/** What went offline because of a death certificate. */
export interface OfflineChange {
  readonly groupId: string;
  readonly edgeNodeId: string;
  /** True when the edge node itself went offline (NDEATH). */
  readonly node: boolean;
  readonly deviceIds: readonly string[];
}

/** Why a message changed nothing. */
export type IgnoreReason = 'command' | 'stale-death' | 'no-session' | 'device-offline' | 'awaiting-rebirth';

interface OutcomeBase {
  readonly problems: readonly SessionProblem[];
  /** Human-readable notes for logs (for example why a death certificate was ignored). */
  readonly notes: readonly string[];
}

/** The result of feeding one MQTT message to {@link SparkplugSessions}, keyed on `kind`. */
export type SessionOutcome =
  | (OutcomeBase & { readonly kind: 'message'; readonly message: SparkplugMessage })
  | (OutcomeBase & {
      readonly kind: 'rebirth-needed';
      readonly rebirth: RebirthRequest;
      /** The part of the message that could still be used (absent when there is no session). */
      readonly message?: SparkplugMessage;
      readonly offline?: OfflineChange;
    })
  | (OutcomeBase & {
      readonly kind: 'offline';
      readonly offline: OfflineChange;
      readonly message: SparkplugMessage;
    })
  | (OutcomeBase & { readonly kind: 'ignored'; readonly reason: IgnoreReason })
  | (OutcomeBase & {
      readonly kind: 'host-state';
      readonly hostId: string;
      readonly online: boolean;
      readonly timestamp?: number;
    })
  | (OutcomeBase & { readonly kind: 'invalid'; readonly error: SparkplugTopicError | SparkplugDecodeError });

/** Options of {@link SparkplugSessions}. */
export interface SparkplugSessionsOptions {
  /**
   * After asking an edge node for a rebirth, further problems from it within this many milliseconds are
   * reported without a new NCMD, so a burst of bad messages does not flood the node with requests.
   * @default 5000
   */
  rebirthHoldOffMs?: number;
}

/** A read-only view of one edge node's session. */
export interface NodeSnapshot {
  readonly groupId: string;
  readonly edgeNodeId: string;
  readonly online: boolean;
  readonly bdSeq?: SparkplugInteger;
  readonly lastSeq?: number;
  readonly aliases: number;
  readonly devices: ReadonlyArray<{
    readonly deviceId: string;
    readonly online: boolean;
    readonly aliases: number;
  }>;
}

interface MetricTable {
  readonly byAlias: Map<SparkplugInteger, MetricDefinition>;
  readonly byName: Map<string, MetricDefinition>;
}

interface DeviceState {
  online: boolean;
  table: MetricTable;
}

interface NodeState {
  readonly groupId: string;
  readonly edgeNodeId: string;
  online: boolean;
  bdSeq: SparkplugInteger | undefined;
  lastSeq: number | undefined;
  table: MetricTable;
  readonly devices: Map<string, DeviceState>;
  rebirthRequestedAt: number | undefined;
}

function emptyTable(): MetricTable {
  return { byAlias: new Map(), byName: new Map() };
}

/** Number and bigint compare by value (bdSeq may arrive as Int64 in NBIRTH and UInt64 in NDEATH). */
function sameInteger(a: SparkplugInteger, b: SparkplugInteger): boolean {
  return typeof a === typeof b ? a === b : BigInt(a) === BigInt(b);
}

function bdSeqOf(payload: SparkplugPayload): SparkplugInteger | undefined {
  const metric = payload.metrics.find((m) => m.name === BDSEQ_METRIC);
  const value = metric?.value;
  return typeof value === 'number' || typeof value === 'bigint' ? value : undefined;
}

/**
 * Tracks Sparkplug B edge node and device sessions from the messages a host receives.
 *
 * Feed every message with {@link SparkplugSessions.process}; publish `rebirth` when an outcome carries
 * one, and map `message` when it carries one.
 */
export class SparkplugSessions {
  private readonly nodes = new Map<string, NodeState>();
  private readonly holdOffMs: number;

  constructor(options: SparkplugSessionsOptions = {}) {
    this.holdOffMs = options.rebirthHoldOffMs ?? 5000;
  }

  /**
   * Processes one MQTT message. Never throws for bad input: an invalid topic or undecodable payload
   * gives an `invalid` outcome.
   * @param receivedAt when the hub received the message (ms since the epoch or a Date).
   */
  process(topic: string, payload: Uint8Array, receivedAt: number | Date = Date.now()): SessionOutcome {
    const at = typeof receivedAt === 'number' ? receivedAt : receivedAt.getTime();
    const parsed = parseTopic(topic);
    if (!parsed.ok) return { kind: 'invalid', error: parsed.error, problems: [], notes: [] };
    const t = parsed.topic;
    if (t.kind === 'state') return hostState(t.hostId, payload);
    let decoded: SparkplugPayload;
    try {
      decoded = decodePayload(payload);
    } catch (error) {
      if (error instanceof SparkplugDecodeError) return { kind: 'invalid', error, problems: [], notes: [] };
      throw error;
    }
    switch (t.messageType) {
      case 'NBIRTH':
        return this.nodeBirth(t, decoded, at);
      case 'NDEATH':
        return this.nodeDeath(t, decoded, at);
      case 'NCMD':
      case 'DCMD':
        return {
          kind: 'ignored',
          reason: 'command',
          problems: [],
          notes: [`${t.messageType} is addressed to the edge node, not data from it`],
        };
      default:
        return this.fromLiveSession(t, decoded, at);
    }
  }

  /** The session of one edge node, if the host has seen it. */
  node(groupId: string, edgeNodeId: string): NodeSnapshot | undefined {
    const node = this.nodes.get(`${groupId}/${edgeNodeId}`);
    if (!node) return undefined;
    const snapshot: NodeSnapshot = {
      groupId,
      edgeNodeId,
      online: node.online,
      aliases: node.table.byAlias.size,
      devices: [...node.devices].map(([deviceId, d]) => ({
        deviceId,
        online: d.online,
        aliases: d.table.byAlias.size,
      })),
      ...(node.bdSeq !== undefined ? { bdSeq: node.bdSeq } : {}),
      ...(node.lastSeq !== undefined ? { lastSeq: node.lastSeq } : {}),
    };
    return snapshot;
  }

  private state(groupId: string, edgeNodeId: string): NodeState {
    const key = `${groupId}/${edgeNodeId}`;
    let node = this.nodes.get(key);
    if (!node) {
      node = {
        groupId,
        edgeNodeId,
        online: false,
        bdSeq: undefined,
        lastSeq: undefined,
        table: emptyTable(),
        devices: new Map(),
        rebirthRequestedAt: undefined,
      };
      this.nodes.set(key, node);
    }
    return node;
  }

  private nodeBirth(topic: EdgeTopic, payload: SparkplugPayload, at: number): SessionOutcome {
    const node = this.state(topic.groupId, topic.edgeNodeId);
    const problems: SessionProblem[] = [];
    const notes: string[] = [];
    // A new NBIRTH starts a new session: devices must send DBIRTH again before their data counts.
    node.devices.clear();
    node.table = buildTable(payload.metrics, problems);
    node.bdSeq = bdSeqOf(payload);
    if (node.bdSeq === undefined) {
      problems.push({ code: 'missing-bdseq', detail: `NBIRTH has no ${BDSEQ_METRIC} metric` });
    }
    node.lastSeq = validSeq(payload.seq) ? payload.seq : undefined;
    node.online = true;
    node.rebirthRequestedAt = undefined;
    const message = messageOf(topic, payload, at, node.bdSeq);
    if (node.lastSeq === undefined) {
      problems.push(seqInvalid(payload.seq));
      return this.withRebirth(node, at, { kind: 'message', message, problems, notes });
    }
    return { kind: 'message', message, problems, notes };
  }

  private nodeDeath(topic: EdgeTopic, payload: SparkplugPayload, at: number): SessionOutcome {
    const node = this.nodes.get(`${topic.groupId}/${topic.edgeNodeId}`);
    if (!node?.online) {
      return {
        kind: 'ignored',
        reason: 'no-session',
        problems: [],
        notes: [`NDEATH for ${topic.groupId}/${topic.edgeNodeId}, which has no live session`],
      };
    }
    const bdSeq = bdSeqOf(payload);
    const notes: string[] = [];
    if (bdSeq !== undefined && node.bdSeq !== undefined && !sameInteger(bdSeq, node.bdSeq)) {
      return {
        kind: 'ignored',
        reason: 'stale-death',
        problems: [],
        notes: [
          `stale NDEATH for ${topic.groupId}/${topic.edgeNodeId} ignored: bdSeq ${bdSeq} does not match ` +
            `the current session's ${node.bdSeq}`,
        ],
      };
    }
    if (bdSeq === undefined)
      notes.push(`NDEATH without ${BDSEQ_METRIC}; taken as the current session's death`);
    const devices = [...node.devices].filter(([, d]) => d.online).map(([id]) => id);
    node.online = false;
    node.lastSeq = undefined;
    node.devices.clear();
    const message: SparkplugMessage = {
      ...messageOf(topic, payload, at, bdSeq ?? node.bdSeq),
      devices,
    };
    const offline: OfflineChange = {
      groupId: topic.groupId,
      edgeNodeId: topic.edgeNodeId,
      node: true,
      deviceIds: devices,
    };
    return { kind: 'offline', offline, message, problems: [], notes };
  }

  /** NDATA, DBIRTH, DDATA and DDEATH: all need a live node session and continue its `seq`. */
  private fromLiveSession(topic: EdgeTopic, payload: SparkplugPayload, at: number): SessionOutcome {
    const node = this.state(topic.groupId, topic.edgeNodeId);
    const problems: SessionProblem[] = [];
    const notes: string[] = [];
    const where = topic.kind === 'device' ? `device ${topic.deviceId} of ` : '';
    const label = `${where}${topic.groupId}/${topic.edgeNodeId}`;
    if (!node.online) {
      if (topic.messageType === 'DDEATH') {
        return {
          kind: 'ignored',
          reason: 'no-session',
          problems,
          notes: [`DDEATH for ${label} without a session`],
        };
      }
      problems.push({
        code: 'data-before-birth',
        detail: `${topic.messageType} for ${label} before its NBIRTH`,
      });
      return this.withRebirth(node, at, { kind: 'ignored', reason: 'awaiting-rebirth', problems, notes });
    }
    const seqProblem = checkSeq(node, payload.seq);
    if (seqProblem) problems.push(seqProblem);

    if (topic.kind === 'node') {
      // NDATA
      const resolved = resolveMetrics(payload.metrics, node.table, problems);
      const message = messageOf(topic, { ...payload, metrics: resolved }, at, node.bdSeq);
      return this.withRebirth(node, at, { kind: 'message', message, problems, notes });
    }

    const deviceId = topic.deviceId;
    let device = node.devices.get(deviceId);
    if (topic.messageType === 'DBIRTH') {
      device = { online: true, table: buildTable(payload.metrics, problems) };
      node.devices.set(deviceId, device);
      const message = messageOf(topic, payload, at, node.bdSeq);
      return this.withRebirth(node, at, { kind: 'message', message, problems, notes });
    }
    if (topic.messageType === 'DDEATH') {
      if (!device?.online) {
        notes.push(`DDEATH for ${label}, which is not online`);
        return this.withRebirth(node, at, { kind: 'ignored', reason: 'device-offline', problems, notes });
      }
      device.online = false;
      const offline: OfflineChange = {
        groupId: topic.groupId,
        edgeNodeId: topic.edgeNodeId,
        node: false,
        deviceIds: [deviceId],
      };
      const message = messageOf(topic, payload, at, node.bdSeq);
      return this.withRebirth(node, at, { kind: 'offline', offline, message, problems, notes });
    }
    // DDATA
    if (!device?.online) {
      // After a gap the DBIRTH was most likely among the lost messages: say so, not "before its DBIRTH".
      const detail =
        seqProblem?.code === 'seq-gap'
          ? `sequence gap: seq ${seqProblem.receivedSeq} arrived where ${seqProblem.expectedSeq} was expected, ` +
            `so messages from ${topic.groupId}/${topic.edgeNodeId} were lost, among them the DBIRTH of device ` +
            `${deviceId}; its DDATA cannot be read until the device is born again`
          : `DDATA for ${label} before its DBIRTH`;
      problems.push({ code: 'data-before-birth', detail });
      return this.withRebirth(node, at, { kind: 'ignored', reason: 'awaiting-rebirth', problems, notes });
    }
    const resolved = resolveMetrics(payload.metrics, device.table, problems);
    const message = messageOf(topic, { ...payload, metrics: resolved }, at, node.bdSeq);
    return this.withRebirth(node, at, { kind: 'message', message, problems, notes });
  }

  /**
   * Turns an outcome into `rebirth-needed` when one of its problems calls for a rebirth and none was
   * requested from this node within the hold-off.
   */
  private withRebirth(
    node: NodeState,
    at: number,
    outcome: Extract<SessionOutcome, { kind: 'message' | 'offline' | 'ignored' }>,
  ): SessionOutcome {
    if (!outcome.problems.some((p) => REBIRTH_PROBLEMS.has(p.code))) return outcome;
    const requestedAt = node.rebirthRequestedAt;
    if (requestedAt !== undefined && at >= requestedAt && at - requestedAt < this.holdOffMs) {
      const notes = [...outcome.notes, `rebirth already requested at ${new Date(requestedAt).toISOString()}`];
      return { ...outcome, notes };
    }
    node.rebirthRequestedAt = at;
    const rebirth = rebirthRequest(node.groupId, node.edgeNodeId, at);
    const { problems, notes } = outcome;
    if (outcome.kind === 'message') {
      return { kind: 'rebirth-needed', rebirth, message: outcome.message, problems, notes };
    }
    if (outcome.kind === 'offline') {
      return {
        kind: 'rebirth-needed',
        rebirth,
        message: outcome.message,
        offline: outcome.offline,
        problems,
        notes,
      };
    }
    return { kind: 'rebirth-needed', rebirth, problems, notes };
  }
}

const REBIRTH_PROBLEMS: ReadonlySet<SessionProblemCode> = new Set([
  'unknown-alias',
  'seq-gap',
  'seq-invalid',
  'data-before-birth',
]);

function validSeq(seq: number | undefined): seq is number {
  return seq !== undefined && Number.isInteger(seq) && seq >= 0 && seq <= 255;
}

function seqInvalid(seq: number | undefined): SessionProblem {
  return seq === undefined
    ? { code: 'seq-invalid', detail: 'the payload has no seq' }
    : { code: 'seq-invalid', detail: `seq ${seq} is outside 0..255`, receivedSeq: seq };
}

/** Checks `seq` against the node's last one and advances it. */
function checkSeq(node: NodeState, seq: number | undefined): SessionProblem | undefined {
  if (!validSeq(seq)) return seqInvalid(seq);
  const last = node.lastSeq;
  node.lastSeq = seq;
  if (last === undefined) return undefined;
  const expected = (last + 1) % 256;
  if (seq === expected) return undefined;
  return {
    code: 'seq-gap',
    detail: `seq ${seq} where ${expected} was expected`,
    expectedSeq: expected,
    receivedSeq: seq,
  };
}

function buildTable(metrics: readonly SparkplugMetric[], problems: SessionProblem[]): MetricTable {
  const table = emptyTable();
  for (const metric of metrics) {
    if (metric.name === undefined) {
      problems.push({ code: 'unnamed-metric', detail: 'a birth metric has no name', ...aliasField(metric) });
      continue;
    }
    const definition: MetricDefinition = { name: metric.name, datatype: metric.datatype };
    table.byName.set(metric.name, definition);
    if (metric.alias === undefined) continue;
    const previous = table.byAlias.get(metric.alias);
    if (previous && previous.name !== metric.name) {
      problems.push({
        code: 'alias-conflict',
        detail: `alias ${metric.alias} names both '${previous.name}' and '${metric.name}'`,
        alias: metric.alias,
      });
    }
    table.byAlias.set(metric.alias, definition);
  }
  return table;
}

function aliasField(metric: SparkplugMetric): { alias?: SparkplugInteger } {
  return metric.alias === undefined ? {} : { alias: metric.alias };
}

/** Gives every metric its name and datatype from the birth; drops (and reports) what cannot be resolved. */
function resolveMetrics(
  metrics: readonly SparkplugMetric[],
  table: MetricTable,
  problems: SessionProblem[],
): SparkplugMetric[] {
  const out: SparkplugMetric[] = [];
  for (const metric of metrics) {
    let name = metric.name;
    let datatype = metric.datatype;
    if (name === undefined) {
      if (metric.alias === undefined) {
        problems.push({ code: 'unnamed-metric', detail: 'a metric has neither name nor alias' });
        continue;
      }
      const definition = table.byAlias.get(metric.alias);
      if (!definition) {
        problems.push({
          code: 'unknown-alias',
          detail: `alias ${metric.alias} was not defined by the birth certificate`,
          alias: metric.alias,
        });
        continue;
      }
      name = definition.name;
      datatype ??= definition.datatype;
    } else if (datatype === undefined) {
      datatype = table.byName.get(name)?.datatype;
    }
    if (name === metric.name && datatype === metric.datatype) {
      out.push(metric);
      continue;
    }
    let value = metric.value;
    if (metric.datatype === undefined && datatype !== undefined && value != null) {
      try {
        value = interpretValue(value, datatype);
      } catch (error) {
        problems.push({
          code: 'invalid-value',
          detail: `metric '${name}': ${error instanceof Error ? error.message : String(error)}`,
          ...aliasField(metric),
        });
        continue;
      }
    }
    const resolved = withDefinition(metric, name, datatype, value);
    out.push(resolved);
  }
  return out;
}

/**
 * A copy of the metric with its name, datatype and value set. Fields are added in the order the codec
 * adds them so every metric object shares one shape (this path runs for every metric of every message).
 */
function withDefinition(
  metric: SparkplugMetric,
  name: string,
  datatype: SparkplugDataType | undefined,
  value: SparkplugMetric['value'],
): SparkplugMetric {
  const out: SparkplugMetric = { name };
  if (metric.alias !== undefined) out.alias = metric.alias;
  if (metric.timestamp !== undefined) out.timestamp = metric.timestamp;
  if (datatype !== undefined) out.datatype = datatype;
  if (value !== undefined) out.value = value;
  if (metric.isHistorical !== undefined) out.isHistorical = metric.isHistorical;
  if (metric.isTransient !== undefined) out.isTransient = metric.isTransient;
  if (metric.metadata !== undefined) out.metadata = metric.metadata;
  if (metric.properties !== undefined) out.properties = metric.properties;
  return out;
}

function messageOf(
  topic: EdgeTopic,
  payload: SparkplugPayload,
  receivedAt: number,
  bdSeq: SparkplugInteger | undefined,
): SparkplugMessage {
  return bdSeq === undefined ? { topic, payload, receivedAt } : { topic, payload, receivedAt, bdSeq };
}

/**
 * The NCMD that asks an edge node to publish NBIRTH and all DBIRTHs again.
 * @param timestamp payload and metric timestamp (ms since the epoch).
 */
export function rebirthRequest(groupId: string, edgeNodeId: string, timestamp: number): RebirthRequest {
  const topic = formatTopic({ kind: 'node', groupId, messageType: 'NCMD', edgeNodeId });
  const payload = encodePayload({
    timestamp,
    metrics: [{ name: REBIRTH_METRIC, timestamp, datatype: 'Boolean', value: true }],
  });
  return { topic, payload, qos: 0, retain: false, groupId, edgeNodeId };
}

/** A host application's STATE message: UTF-8 JSON `{"online": boolean, "timestamp": ms}`. */
function hostState(hostId: string, payload: Uint8Array): SessionOutcome {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (error) {
    return {
      kind: 'invalid',
      error: new SparkplugDecodeError(`STATE payload of host '${hostId}' is not UTF-8 JSON`, {
        cause: error,
      }),
      problems: [],
      notes: [],
    };
  }
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  if (typeof record['online'] !== 'boolean') {
    return {
      kind: 'invalid',
      error: new SparkplugDecodeError(`STATE payload of host '${hostId}' has no boolean 'online'`),
      problems: [],
      notes: [],
    };
  }
  const timestamp = record['timestamp'];
  return {
    kind: 'host-state',
    hostId,
    online: record['online'],
    ...(typeof timestamp === 'number' && Number.isFinite(timestamp) ? { timestamp } : {}),
    problems: [],
    notes: [],
  };
}
