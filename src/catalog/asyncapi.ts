import type { CompiledRoute, Config, ConnectorConfig } from '../config/compile.js';
import { typeMatcher } from '../log/port.js';
import { domainOfType, laneOfType } from '../model/catalog.js';
import { schemaId } from '../model/schemas/event-schema.js';
import { connectorTypes } from '../registry/dependencies.js';
import { escapePointer } from '../registry/schema-walk.js';
import { componentRef, embedSchema } from './embed-schema.js';

/** What the catalog knows about an event type besides its schema. */
export interface CatalogTypeInfo {
  readonly domain: string;
  readonly owner: string;
  readonly lane: 'critical' | 'bulk';
  readonly plantScoped: boolean;
}

/** The schema version the catalog publishes for a type (usually its latest approved one). */
export interface CatalogSchema {
  readonly version: number;
  /** The data schema (a JSON Schema 2020-12 document, `$schema`/`$id` allowed). */
  readonly schema: object;
  readonly status: string;
}

export interface AsyncApiInput {
  readonly config: Config;
  /** Event type → the schema version to describe. One channel per entry, in map order. */
  readonly schemas: ReadonlyMap<string, CatalogSchema>;
  /** Event type → domain, owner, lane; a type missing here is described from its name. */
  readonly types: ReadonlyMap<string, CatalogTypeInfo>;
  /** @default 'Conveyor event catalog' */
  readonly title?: string;
  /** The document's `info.version`. @default '1.0.0' */
  readonly version?: string;
  /** The hub's public base URL. @default built from `config.server` (host, port, TLS) */
  readonly serverUrl?: string;
}

/** An AsyncAPI 3.0.0 document as plain JSON. */
export type AsyncApiDocument = { asyncapi: '3.0.0'; [key: string]: unknown };

type Json = { [key: string]: unknown };

const HUB_SERVER = 'conveyor';
const CONTENT_TYPE = 'application/cloudevents+json';
const HTTP_BINDING_VERSION = '0.3.0';

/** The producing system an example event names, by domain. */
const EXAMPLE_SYSTEM: Record<string, string> = {
  production: 'mes',
  maintenance: 'mes',
  quality: 'qms',
  inventory: 'wms',
  logistics: 'wms',
  supplier: 'supplier-portal',
  telemetry: 'line',
};

/**
 * Builds the event catalog as an AsyncAPI 3.0.0 document: one channel per event type whose message
 * is the CloudEvent envelope around the type's data schema, a `send` operation per type (publishing
 * to the hub's HTTP ingress) and a `receive` operation per route and type it delivers.
 *
 * Operations are written from the side of the systems around the hub: producers send, the
 * endpoints of routes receive. The result is plain JSON (serialise it as is); the inputs are not
 * modified.
 */
export function buildAsyncApi(input: AsyncApiInput): AsyncApiDocument {
  const { config } = input;
  const servers: Json = { [HUB_SERVER]: hubServer(input.serverUrl ?? defaultServerUrl(config)) };
  for (const [name, connector] of Object.entries(config.connectors)) {
    if (connector.kind === 'mqtt') servers[uniqueKey(servers, name)] = mqttServer(name, connector);
  }
  const routes = config.routes.map((route) => ({ route, selects: typeMatcher(route.types) }));

  const channels: Json = {};
  const operations: Json = {};
  const schemas: Json = {};
  const messages: Json = {};

  for (const [type, entry] of input.schemas) {
    const info = input.types.get(type) ?? inferTypeInfo(type);
    const dataKey = type;
    const eventKey = `${type}.event`;
    schemas[dataKey] = embedSchema(entry.schema, componentRef('schemas', dataKey));
    schemas[eventKey] = envelopeSchema(type, entry, info, dataKey);
    messages[type] = message(type, entry, info, eventKey);

    const channelRef = `#/channels/${escapePointer(type)}`;
    const messageRef = `${channelRef}/messages/${escapePointer(type)}`;
    channels[type] = {
      address: type,
      title: titleOf(entry.schema, type),
      summary: `${type} events (${info.domain} domain, owned by ${info.owner}, ${info.lane} lane)`,
      ...optional('description', descriptionOf(entry.schema)),
      servers: [{ $ref: `#/servers/${HUB_SERVER}` }],
      messages: { [type]: { $ref: componentRef('messages', type) } },
      tags: [{ name: info.domain }],
      'x-owner': info.owner,
      'x-domain': info.domain,
      'x-lane': info.lane,
      'x-plant-scoped': info.plantScoped,
      'x-schema-version': entry.version,
      'x-schema-status': entry.status,
    };

    operations[`publish-${type}`] = {
      action: 'send',
      channel: { $ref: channelRef },
      title: `Publish ${type}`,
      summary: `publish ${type} to the hub`,
      description:
        'POST /v1/events with the event in structured mode (`application/cloudevents+json`), in a batch ' +
        '(`application/cloudevents-batch+json`, up to 1,000 events) or in binary mode (`ce-*` headers, body = ' +
        `data). Needs the \`events:publish:${info.domain}\` scope` +
        (info.plantScoped ? ' and, for a plant-bound client, one of its plants.' : '.') +
        ' A 202 means the event is durably in the log.',
      messages: [{ $ref: messageRef }],
      bindings: { http: { method: 'POST', bindingVersion: HTTP_BINDING_VERSION } },
      tags: [{ name: info.domain }],
      'x-required-scope': `events:publish:${info.domain}`,
    };

    for (const { route, selects } of routes) {
      if (!selects(type)) continue;
      operations[`route-${route.name}-${type}`] = routeOperation(
        route,
        type,
        config.connectors[route.sink],
        channelRef,
        messageRef,
      );
    }
  }

  return {
    asyncapi: '3.0.0',
    id: 'urn:conveyor:catalog',
    info: {
      title: input.title ?? 'Conveyor event catalog',
      version: input.version ?? '1.0.0',
      description:
        'The event types the Conveyor hub carries, their canonical data schemas inside the CloudEvents 1.0 ' +
        'envelope, who owns them, and where each configured route delivers them.\n\n' +
        'Operations are written from the side of the systems around the hub: a producer *sends* an event ' +
        'to the hub (`POST /v1/events`), and the endpoint of each route *receives* the events the route ' +
        'selects. Delivery is at-least-once and in order per partition key; receivers de-duplicate by the ' +
        'event `id` (and `source`).',
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    defaultContentType: CONTENT_TYPE,
    servers,
    channels,
    operations,
    components: {
      schemas,
      messages,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key (`cvy_...`) or a JWT from the configured identity provider.',
        },
      },
      correlationIds: {
        eventId: {
          description: "The event's `id`: the producer's unique id and the hub's idempotency key.",
          location: '$message.payload#/id',
        },
      },
    },
  };
}

/** `http(s)://host:port` from the server section, bracketing an IPv6 host. */
function defaultServerUrl(config: Config): string {
  const { host, port, tls } = config.server;
  return `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function hubServer(serverUrl: string): Json {
  const url = new URL(serverUrl);
  const pathname = url.pathname.replace(/\/+$/, '');
  return {
    host: url.host,
    protocol: url.protocol.replace(/:$/, ''),
    ...(pathname ? { pathname } : {}),
    title: 'Conveyor hub',
    description:
      "The hub's HTTP API. Events are published with POST /v1/events; every call needs `Authorization: Bearer <api key | JWT>`.",
    security: [{ $ref: componentRef('securitySchemes', 'bearerAuth') }],
  };
}

/** An MQTT source connector as a server; credentials in its URL are left out. */
function mqttServer(name: string, connector: ConnectorConfig): Json {
  const url = parseUrl(connector.url);
  const topics = Array.isArray(connector.topics) ? connector.topics.map(String) : [];
  const format = typeof connector.format === 'string' ? connector.format : 'json';
  const plant = typeof connector.plant === 'string' ? connector.plant : null;
  const pathname = url?.pathname.replace(/\/+$/, '') ?? '';
  return {
    host: url?.host || 'unknown',
    protocol: url?.protocol === 'mqtts:' ? 'secure-mqtt' : 'mqtt',
    ...(pathname ? { pathname } : {}),
    title: `MQTT connector ${name}`,
    description:
      `Broker the hub's \`${name}\` connector subscribes to` +
      (topics.length > 0 ? ` (topics ${topics.map((t) => `\`${t}\``).join(', ')})` : '') +
      `; messages in ${format} format` +
      (plant ? ` from plant ${plant}` : '') +
      ' become canonical events in the hub.',
    'x-connector': name,
    'x-topics': topics,
    'x-format': format,
    'x-produces': connectorTypes(connector),
    ...(plant ? { 'x-plant': plant } : {}),
  };
}

function parseUrl(value: unknown): URL | null {
  if (typeof value !== 'string') return null;
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

function uniqueKey(taken: Json, wanted: string): string {
  const base = wanted.replace(/[^A-Za-z0-9_-]/g, '-');
  let key = base;
  for (let i = 2; Object.hasOwn(taken, key); i++) key = `${base}-${i}`;
  return key;
}

function inferTypeInfo(type: string): CatalogTypeInfo {
  return { domain: domainOfType(type), owner: 'unknown', lane: laneOfType(type), plantScoped: false };
}

function titleOf(schema: object, type: string): string {
  const title = (schema as Json).title;
  return typeof title === 'string' && title.length > 0 ? title : type;
}

function optional(key: string, value: unknown): Json {
  return value === undefined ? {} : { [key]: value };
}

function descriptionOf(schema: object): string | undefined {
  const description = (schema as Json).description;
  return typeof description === 'string' && description.length > 0 ? description : undefined;
}

/** The CloudEvents 1.0 envelope of one type, with `data` referring to the type's schema. */
function envelopeSchema(type: string, entry: CatalogSchema, info: CatalogTypeInfo, dataKey: string): Json {
  const required = ['specversion', 'id', 'source', 'type', 'time', 'data'];
  if (info.plantScoped) required.push('plant');
  // No escape for `-`: under the `u` flag validators use, `\-` outside a class is a syntax error.
  const typePattern = type.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return {
    type: 'object',
    title: `${type} event`,
    description: `A ${type} event: CloudEvents 1.0 in JSON (structured mode).`,
    required,
    properties: {
      specversion: { type: 'string', const: '1.0', description: 'CloudEvents version.' },
      id: {
        type: 'string',
        minLength: 1,
        description: "The producer's unique id for the event; the hub's idempotency key (with `source`).",
      },
      source: {
        type: 'string',
        format: 'uri-reference',
        minLength: 1,
        description: 'The producing system, e.g. `/plants/P1/mes`.',
      },
      type: { type: 'string', const: type, description: 'The event type.' },
      time: {
        type: 'string',
        format: 'date-time',
        description: 'When the occurrence happened (RFC 3339 with seconds and offset).',
      },
      subject: {
        type: 'string',
        minLength: 1,
        description: 'The business key (order, hold, shipment, ...); the default partition key.',
      },
      plant: {
        type: 'string',
        pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$',
        description: info.plantScoped
          ? 'The plant code; required for this type and equal to `data.plant`.'
          : 'The plant code, when the event belongs to one plant.',
      },
      datacontenttype: {
        type: 'string',
        description: 'Media type of `data`; `application/json` when absent.',
        examples: ['application/json'],
      },
      dataschema: {
        type: 'string',
        pattern: `^urn:conveyor:schema:${typePattern}:[0-9]+$`,
        description: `The schema version \`data\` follows; the latest approved version when absent (currently ${schemaId(type, entry.version)}).`,
        examples: [schemaId(type, entry.version)],
      },
      partitionkey: {
        type: 'string',
        minLength: 1,
        description: 'Overrides `subject` as the ordering key.',
      },
      traceparent: {
        type: 'string',
        pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
        description: 'W3C trace context.',
      },
      sequence: {
        type: 'integer',
        minimum: 1,
        description: "The hub's log position, added on delivery; producers must not send it.",
      },
      data: { $ref: componentRef('schemas', dataKey) },
    },
  };
}

function message(type: string, entry: CatalogSchema, info: CatalogTypeInfo, eventKey: string): Json {
  const examples = (entry.schema as Json).examples;
  const data = Array.isArray(examples) ? examples : [];
  return {
    name: type,
    title: titleOf(entry.schema, type),
    summary: `A ${type} CloudEvent.`,
    contentType: CONTENT_TYPE,
    correlationId: { $ref: componentRef('correlationIds', 'eventId') },
    payload: { $ref: componentRef('schemas', eventKey) },
    tags: [{ name: info.domain }],
    ...(data.length > 0
      ? {
          examples: data.map((example, i) => ({
            name: data.length > 1 ? `${type}-${i + 1}` : type,
            summary: `An example ${type} event.`,
            payload: exampleEvent(type, entry.version, info, example, i),
          })),
        }
      : {}),
  };
}

/** A complete example event around an example of the data, with fixed values so the document is stable. */
function exampleEvent(
  type: string,
  version: number,
  info: CatalogTypeInfo,
  data: unknown,
  index: number,
): Json {
  const fields = data !== null && typeof data === 'object' ? (data as Json) : {};
  const plant = typeof fields.plant === 'string' ? fields.plant : null;
  const system = EXAMPLE_SYSTEM[info.domain] ?? info.domain;
  // The business key is the example's first `...Id` field (orderId, holdId, shipmentId, ...).
  const key = Object.entries(fields).find(([name, value]) => /Id$/.test(name) && typeof value === 'string');
  return {
    specversion: '1.0',
    id: `${type}-example-${index + 1}`,
    source: plant ? `/plants/${plant}/${system}` : `/${system}`,
    type,
    time: '2024-06-14T08:00:00Z',
    ...(key ? { subject: key[1] } : {}),
    ...(plant ? { plant } : {}),
    datacontenttype: 'application/json',
    dataschema: schemaId(type, version),
    data,
  };
}

/** The `receive` operation of one route for one of the types it selects. */
function routeOperation(
  route: CompiledRoute,
  type: string,
  sink: ConnectorConfig | undefined,
  channelRef: string,
  messageRef: string,
): Json {
  const endpoint = sink ? parseUrl(sink.url ?? sink.baseUrl) : null;
  // The catalog is readable by any client: user info and query strings may hold secrets.
  if (endpoint) {
    endpoint.username = '';
    endpoint.password = '';
    endpoint.search = '';
    endpoint.hash = '';
  }
  const mode = route.transform
    ? 'the result of the route transform as the body, attributes in `ce-*` headers (binary mode)'
    : 'the event in structured mode (`application/cloudevents+json`), including its `sequence`';
  return {
    action: 'receive',
    channel: { $ref: channelRef },
    title: `Route ${route.name} delivers ${type}`,
    summary: `route ${route.name} delivers ${type} to ${route.sink}`,
    description:
      `The hub delivers ${type} events` +
      (route.filter ? ` matching \`${route.filter}\`` : '') +
      ` to connector \`${route.sink}\`${endpoint ? ` (${endpoint.href})` : ''}: ${mode}. ` +
      `A 2xx is success; 408, 429, 5xx, timeouts (${route.timeoutMs} ms) and connection errors are retried ` +
      `up to ${route.retry.maxAttempts} attempts; other answers send the event to the dead-letter queue.`,
    messages: [{ $ref: messageRef }],
    ...(sink?.kind === 'http'
      ? { bindings: { http: { method: 'POST', bindingVersion: HTTP_BINDING_VERSION } } }
      : {}),
    tags: [{ name: domainOfType(type) }, { name: `route:${route.name}` }],
    'x-route': route.name,
    'x-sink': {
      connector: route.sink,
      kind: sink?.kind ?? 'unknown',
      ...(endpoint ? { url: endpoint.href } : {}),
    },
    'x-retry': {
      maxAttempts: route.retry.maxAttempts,
      initialDelayMs: route.retry.initialDelayMs,
      maxDelayMs: route.retry.maxDelayMs,
      maxAgeMs: route.retry.maxAgeMs,
    },
    'x-timeout-ms': route.timeoutMs,
    'x-lane': route.lane,
    'x-filter': route.filter,
    'x-transform': route.transform,
  };
}
