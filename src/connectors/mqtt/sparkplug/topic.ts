/**
 * Sparkplug B topic namespace: `spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>]`
 * for edge nodes and devices, and `spBv1.0/STATE/<host_id>` for host applications.
 */

/** The namespace element of every Sparkplug B topic. */
export const SPARKPLUG_NAMESPACE = 'spBv1.0';

/** Message types addressed to or published by an edge node itself. */
export const NODE_MESSAGE_TYPES = ['NBIRTH', 'NDEATH', 'NDATA', 'NCMD'] as const;
/** Message types addressed to or published on behalf of a device behind an edge node. */
export const DEVICE_MESSAGE_TYPES = ['DBIRTH', 'DDEATH', 'DDATA', 'DCMD'] as const;
/** Every Sparkplug B message type. */
export const SPARKPLUG_MESSAGE_TYPES = [...NODE_MESSAGE_TYPES, ...DEVICE_MESSAGE_TYPES, 'STATE'] as const;

export type NodeMessageType = (typeof NODE_MESSAGE_TYPES)[number];
export type DeviceMessageType = (typeof DEVICE_MESSAGE_TYPES)[number];
export type SparkplugMessageType = (typeof SPARKPLUG_MESSAGE_TYPES)[number];

/** A topic of an edge node message (`NBIRTH`, `NDEATH`, `NDATA`, `NCMD`). */
export interface NodeTopic {
  readonly kind: 'node';
  readonly groupId: string;
  readonly messageType: NodeMessageType;
  readonly edgeNodeId: string;
}

/** A topic of a device message (`DBIRTH`, `DDEATH`, `DDATA`, `DCMD`). */
export interface DeviceTopic {
  readonly kind: 'device';
  readonly groupId: string;
  readonly messageType: DeviceMessageType;
  readonly edgeNodeId: string;
  readonly deviceId: string;
}

/** A host application's `STATE` topic. */
export interface StateTopic {
  readonly kind: 'state';
  readonly messageType: 'STATE';
  readonly hostId: string;
}

/** Topics that belong to an edge node session (everything but `STATE`). */
export type EdgeTopic = NodeTopic | DeviceTopic;
/** Any parsed Sparkplug B topic. */
export type SparkplugTopic = EdgeTopic | StateTopic;

/** What is wrong with a topic, as a stable code. */
export type SparkplugTopicErrorCode =
  | 'wrong-namespace'
  | 'too-few-levels'
  | 'too-many-levels'
  | 'unknown-message-type'
  | 'empty-id'
  | 'reserved-character'
  | 'device-id-required'
  | 'device-id-not-allowed';

/** A topic that is not a valid Sparkplug B topic; `code` says which rule it breaks. */
export class SparkplugTopicError extends Error {
  readonly code: SparkplugTopicErrorCode;
  /** The offending topic (or, when formatting, the topic as far as it could be built). */
  readonly topic: string;

  constructor(code: SparkplugTopicErrorCode, topic: string, detail: string) {
    super(`invalid Sparkplug topic '${topic}': ${detail}`);
    this.name = 'SparkplugTopicError';
    this.code = code;
    this.topic = topic;
  }
}

/** The result of {@link parseTopic}: the topic, or the error naming what is wrong with it. */
export type ParseTopicResult =
  | { readonly ok: true; readonly topic: SparkplugTopic }
  | { readonly ok: false; readonly error: SparkplugTopicError };

const NODE_TYPES: ReadonlySet<string> = new Set(NODE_MESSAGE_TYPES);
const DEVICE_TYPES: ReadonlySet<string> = new Set(DEVICE_MESSAGE_TYPES);

/** Checks one id element: non-empty and free of the MQTT wildcards the spec reserves. */
function idProblem(topic: string, what: string, id: string): SparkplugTopicError | undefined {
  if (id === '') return new SparkplugTopicError('empty-id', topic, `${what} is empty`);
  if (id.includes('+') || id.includes('#') || id.includes('/')) {
    return new SparkplugTopicError(
      'reserved-character',
      topic,
      `${what} '${id}' contains a reserved character (+, # or /)`,
    );
  }
  return undefined;
}

function fail(error: SparkplugTopicError): ParseTopicResult {
  return { ok: false, error };
}

/**
 * Parses an MQTT topic into a typed Sparkplug B topic. Never throws: an invalid topic gives
 * `{ ok: false, error }` whose `code` names the broken rule.
 */
export function parseTopic(topic: string): ParseTopicResult {
  const levels = topic.split('/');
  if (levels[0] !== SPARKPLUG_NAMESPACE) {
    return fail(
      new SparkplugTopicError(
        'wrong-namespace',
        topic,
        `it must start with '${SPARKPLUG_NAMESPACE}/', not '${levels[0]}'`,
      ),
    );
  }
  if (levels[1] === 'STATE') {
    if (levels.length < 3) {
      return fail(
        new SparkplugTopicError('too-few-levels', topic, 'a STATE topic is spBv1.0/STATE/<host_id>'),
      );
    }
    if (levels.length > 3) {
      return fail(
        new SparkplugTopicError('too-many-levels', topic, 'a STATE topic is spBv1.0/STATE/<host_id>'),
      );
    }
    const hostId = levels[2]!;
    const problem = idProblem(topic, 'host_id', hostId);
    return problem ? fail(problem) : { ok: true, topic: { kind: 'state', messageType: 'STATE', hostId } };
  }
  if (levels.length < 4) {
    return fail(
      new SparkplugTopicError(
        'too-few-levels',
        topic,
        'expected spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>]',
      ),
    );
  }
  if (levels.length > 5) {
    return fail(
      new SparkplugTopicError(
        'too-many-levels',
        topic,
        'expected spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>]',
      ),
    );
  }
  const [, groupId, messageType, edgeNodeId, deviceId] = levels as [string, string, string, string, string?];
  const isNode = NODE_TYPES.has(messageType);
  if (!isNode && !DEVICE_TYPES.has(messageType)) {
    return fail(
      new SparkplugTopicError(
        'unknown-message-type',
        topic,
        `unknown message type '${messageType}' (expected one of ${SPARKPLUG_MESSAGE_TYPES.join(', ')})`,
      ),
    );
  }
  const problem = idProblem(topic, 'group_id', groupId) ?? idProblem(topic, 'edge_node_id', edgeNodeId);
  if (problem) return fail(problem);
  if (isNode) {
    if (deviceId !== undefined) {
      return fail(
        new SparkplugTopicError('device-id-not-allowed', topic, `${messageType} topics carry no device_id`),
      );
    }
    return {
      ok: true,
      topic: { kind: 'node', groupId, messageType: messageType as NodeMessageType, edgeNodeId },
    };
  }
  if (deviceId === undefined) {
    return fail(
      new SparkplugTopicError('device-id-required', topic, `${messageType} topics need a device_id`),
    );
  }
  const deviceProblem = idProblem(topic, 'device_id', deviceId);
  if (deviceProblem) return fail(deviceProblem);
  return {
    ok: true,
    topic: { kind: 'device', groupId, messageType: messageType as DeviceMessageType, edgeNodeId, deviceId },
  };
}

/**
 * Builds the MQTT topic string for a Sparkplug B topic.
 * @throws {SparkplugTopicError} when an id is empty or holds a reserved character, or the message type
 * does not fit the topic kind.
 */
export function formatTopic(topic: SparkplugTopic): string {
  if (topic.kind === 'state') {
    const text = `${SPARKPLUG_NAMESPACE}/STATE/${topic.hostId}`;
    const problem = idProblem(text, 'host_id', topic.hostId);
    if (problem) throw problem;
    return text;
  }
  const base = `${SPARKPLUG_NAMESPACE}/${topic.groupId}/${topic.messageType}/${topic.edgeNodeId}`;
  const text = topic.kind === 'device' ? `${base}/${topic.deviceId}` : base;
  const types = topic.kind === 'device' ? DEVICE_TYPES : NODE_TYPES;
  if (!types.has(topic.messageType)) {
    throw new SparkplugTopicError(
      'unknown-message-type',
      text,
      `'${topic.messageType}' is not a ${topic.kind} message type`,
    );
  }
  const problem =
    idProblem(text, 'group_id', topic.groupId) ??
    idProblem(text, 'edge_node_id', topic.edgeNodeId) ??
    (topic.kind === 'device' ? idProblem(text, 'device_id', topic.deviceId) : undefined);
  if (problem) throw problem;
  return text;
}
