import { ERROR_CODES, type ErrorCode, PROBLEM_TYPE_BASE, problemType } from '../errors/registry.js';
import { COMPATIBILITY_MODES } from '../registry/compatibility.js';
import { componentRef, embedSchema } from './embed-schema.js';

export interface OpenApiInput {
  /** Event type → its data JSON Schema (what `data` of that type must match). */
  readonly schemas: ReadonlyMap<string, object>;
  /** The document's `info.version`. @default '1.0.0' */
  readonly version?: string;
  /** The hub's base URL. @default '/' (the origin that serves the document) */
  readonly serverUrl?: string;
}

/** An OpenAPI 3.1.0 document as plain JSON. */
export type OpenApiDocument = { openapi: '3.1.0'; [key: string]: unknown };

export type HttpMethod = 'GET' | 'POST';

/** One documented HTTP operation; `path` uses OpenAPI templates (`/v1/dlq/{id}`). */
export interface DocumentedOperation {
  readonly method: HttpMethod;
  readonly path: string;
}

type Json = { [key: string]: unknown };

interface OperationSpec extends DocumentedOperation {
  readonly operationId: string;
  readonly tag: string;
  readonly summary: string;
  readonly description: string;
  /** The scope the call needs; `null` when any valid credential (or, if `public`, none) will do. */
  readonly scope: string | null;
  /** Answers without credentials. */
  readonly public?: boolean;
  readonly parameters?: readonly Json[];
  readonly requestBody?: Json;
  /** The success responses, by status. */
  readonly responses: Json;
  /** Problems this call may answer with, besides `unauthorized` and `internal`, which every call has. */
  readonly problems: readonly ErrorCode[];
}

const PROBLEM_JSON = 'application/problem+json';
const ref = (name: string) => ({ $ref: componentRef('schemas', name) });
const param = (name: string) => ({ $ref: componentRef('parameters', name) });
const json = (schema: Json) => ({ 'application/json': { schema } });
const ok = (description: string, schema: Json) => ({ description, content: json(schema) });
const listOf = (item: string) => ({
  type: 'object',
  required: ['items', 'next'],
  properties: {
    items: { type: 'array', items: ref(item) },
    next: {
      type: ['string', 'null'],
      description: 'Pass as `after` to get the next page; `null` on the last page.',
    },
  },
});
const paging = [param('after'), param('limit')];
const versionPath = '/v1/catalog/schemas/{type}/versions/{version}';

/** A schema-version life-cycle call (approve, deprecate, retire). */
function statusChange(verb: 'approve' | 'deprecate' | 'retire', status: string, what: string): OperationSpec {
  return {
    method: 'POST',
    path: `${versionPath}/${verb}`,
    operationId: `${verb}SchemaVersion`,
    tag: 'catalog',
    summary: `${verb[0]?.toUpperCase()}${verb.slice(1)} a schema version`,
    description: what,
    scope: 'catalog:approve',
    parameters: [param('eventType'), param('schemaVersion')],
    responses: { '200': ok(`The version is now ${status}.`, ref('SchemaVersionStatus')) },
    problems: ['bad-request', 'forbidden', 'not-found', 'conflict'],
  };
}

/** Every HTTP operation the hub serves, in the order the reference shows them. */
const OPERATIONS: readonly OperationSpec[] = [
  {
    method: 'POST',
    path: '/v1/events',
    operationId: 'publishEvents',
    tag: 'events',
    summary: 'Publish events',
    description:
      'Appends CloudEvents 1.0 to the log in any of the three HTTP content modes:\n\n' +
      '| mode | request |\n| --- | --- |\n' +
      '| structured | `Content-Type: application/cloudevents+json`, body = one event |\n' +
      '| batched | `Content-Type: application/cloudevents-batch+json`, body = array of up to 1,000 events |\n' +
      '| binary | attributes in `ce-*` headers (percent-encoded), body = `data`; `Content-Type` becomes `datacontenttype` |\n\n' +
      "Each event's `data` is validated against the schema version its `dataschema` names, else the latest " +
      'approved version of its type; an envelope fault is `400 invalid-event`, data breaking its schema (or an ' +
      'unknown type) `422 validation-failed`.\n\n' +
      'A `202` means every event of the request is durably in the log. A re-sent event (same `source` and ' +
      '`id`) is acknowledged with `duplicate: true` and its first sequence. A batch is all-or-nothing unless ' +
      '`?partial=true`, when valid events are appended and a `207` lists each outcome.\n\n' +
      'Needs `events:publish:<domain>` for the domain of each event type; a plant-bound client may only ' +
      'publish events of its plants.',
    scope: 'events:publish:<domain>',
    parameters: [
      param('partial'),
      ...[
        'specversion',
        'id',
        'source',
        'type',
        'time',
        'subject',
        'dataschema',
        'plant',
        'partitionkey',
      ].map((name) => param(`ce-${name}`)),
      param('ce-traceparent'),
    ],
    requestBody: {
      required: true,
      description:
        'One event, a batch, or (binary mode) the event data with attributes in `ce-*` headers; in binary mode ' +
        'other media types are accepted too, as long as `ce-specversion` is set.',
      content: {
        'application/cloudevents+json': { schema: ref('CloudEvent') },
        'application/cloudevents-batch+json': { schema: ref('CloudEventBatch') },
        'application/json': { schema: ref('EventData') },
      },
    },
    responses: {
      '202': {
        ...ok('Every event is durably in the log.', ref('PublishResponse')),
        headers: {
          Deprecation: {
            description: 'RFC 9745: `true` when an event used a deprecated schema version.',
            schema: { type: 'string', const: 'true' },
          },
          'X-Conveyor-Deprecated-Schemas': {
            description: 'The deprecated versions used, as `<type>:<version>`, comma-separated.',
            schema: { type: 'string' },
          },
        },
      },
      '207': ok(
        'With `?partial=true`: the valid events were appended; each outcome is listed, rejected ones with their `errors`.',
        ref('PublishResponse'),
      ),
    },
    problems: [
      'malformed-json',
      'invalid-event',
      'forbidden',
      'payload-too-large',
      'batch-too-large',
      'unsupported-media-type',
      'validation-failed',
      'rate-limited',
    ],
  },
  {
    method: 'GET',
    path: '/v1/events',
    operationId: 'listEvents',
    tag: 'events',
    summary: 'Read events from the log',
    description:
      'Events in log order, each with its `sequence`. Needs `events:read:<domain>` for the requested types; ' +
      'without `type`, the domains the client may read. A plant-bound client reads only its plants.',
    scope: 'events:read:<domain>',
    parameters: [
      {
        name: 'type',
        in: 'query',
        description: 'Comma-separated exact types or `domain.*` wildcards.',
        schema: { type: 'string' },
        example: 'production.*,quality.hold.placed',
      },
      { name: 'subject', in: 'query', description: 'Business key.', schema: { type: 'string' } },
      { name: 'plant', in: 'query', description: 'Plant code.', schema: { type: 'string' } },
      ...paging,
    ],
    responses: { '200': ok('A page of events.', ref('EventPage')) },
    problems: ['bad-request', 'forbidden'],
  },
  {
    method: 'GET',
    path: '/v1/subscriptions',
    operationId: 'listSubscriptions',
    tag: 'delivery',
    summary: 'List subscriptions (routes) and their delivery state',
    description:
      'Per route: position, lag, in-flight events, retrying keys, circuit, last error and counts since start.',
    scope: 'ops',
    responses: { '200': ok('Every route (one page).', ref('SubscriptionPage')) },
    problems: ['forbidden'],
  },
  {
    method: 'POST',
    path: '/v1/subscriptions/{name}/replay',
    operationId: 'replaySubscription',
    tag: 'delivery',
    summary: 'Replay a subscription from a sequence or a time',
    description:
      "Moves the route's position back and re-delivers everything it selects from there, with the original " +
      'event ids. Not for plant-bound clients.',
    scope: 'ops',
    parameters: [param('subscriptionName')],
    requestBody: { required: true, content: json(ref('ReplayRequest')) },
    responses: { '202': ok('The replay has started.', ref('ReplayAccepted')) },
    problems: ['bad-request', 'malformed-json', 'forbidden', 'not-found', 'validation-failed'],
  },
  {
    method: 'GET',
    path: '/v1/dlq',
    operationId: 'listDeadLetters',
    tag: 'delivery',
    summary: 'List dead letters',
    description: "Filtered and paged. A plant-bound client sees its plants' entries only.",
    scope: 'ops',
    parameters: [
      { name: 'route', in: 'query', schema: { type: 'string' } },
      { name: 'type', in: 'query', description: 'Exact event type.', schema: { type: 'string' } },
      { name: 'reason', in: 'query', schema: ref('DeadLetterReason') },
      { name: 'status', in: 'query', schema: ref('DeadLetterStatus') },
      { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
      { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' } },
      ...paging,
    ],
    responses: { '200': ok('A page of dead letters.', ref('DeadLetterPage')) },
    problems: ['bad-request', 'forbidden'],
  },
  {
    method: 'GET',
    path: '/v1/dlq/{id}',
    operationId: 'getDeadLetter',
    tag: 'delivery',
    summary: 'Get one dead letter',
    description:
      "The event, the route, the reason and every attempt. Another plant's entry is reported as missing.",
    scope: 'ops',
    parameters: [param('deadLetterId')],
    responses: { '200': ok('The dead letter.', ref('DeadLetter')) },
    problems: ['forbidden', 'not-found'],
  },
  {
    method: 'POST',
    path: '/v1/dlq/{id}/replay',
    operationId: 'replayDeadLetter',
    tag: 'delivery',
    summary: 'Replay one dead letter',
    description:
      'Re-delivers the event on its route; the entry goes `replaying`, then `replayed`, or back to `open` with ' +
      'the new attempts. Only open entries can be replayed.',
    scope: 'ops',
    parameters: [param('deadLetterId')],
    responses: { '202': ok('The replay has started.', ref('DeadLetterStatusResult')) },
    problems: ['forbidden', 'not-found', 'conflict'],
  },
  {
    method: 'POST',
    path: '/v1/dlq/{id}/discard',
    operationId: 'discardDeadLetter',
    tag: 'delivery',
    summary: 'Discard one dead letter',
    description: 'Only open entries can be discarded; recorded in the audit trail.',
    scope: 'ops',
    parameters: [param('deadLetterId')],
    responses: { '200': ok('The entry is discarded.', ref('DeadLetterStatusResult')) },
    problems: ['forbidden', 'not-found', 'conflict'],
  },
  {
    method: 'POST',
    path: '/v1/dlq/replay',
    operationId: 'replayDeadLetters',
    tag: 'delivery',
    summary: 'Replay dead letters by filter',
    description: 'Replays up to 10,000 open entries matching the filter.',
    scope: 'ops',
    requestBody: { required: false, content: json(ref('DeadLetterFilter')) },
    responses: { '202': ok('The replays have started.', ref('BulkResult')) },
    problems: ['bad-request', 'malformed-json', 'forbidden', 'validation-failed'],
  },
  {
    method: 'POST',
    path: '/v1/dlq/discard',
    operationId: 'discardDeadLetters',
    tag: 'delivery',
    summary: 'Discard dead letters by filter',
    description: 'Discards up to 10,000 open entries matching the filter.',
    scope: 'ops',
    requestBody: { required: false, content: json(ref('DeadLetterFilter')) },
    responses: { '200': ok('The entries are discarded.', ref('BulkResult')) },
    problems: ['bad-request', 'malformed-json', 'forbidden', 'validation-failed'],
  },
  {
    method: 'GET',
    path: '/v1/catalog/schemas',
    operationId: 'listSchemaTypes',
    tag: 'catalog',
    summary: 'List event types and their schema versions',
    description:
      'Every event type in the catalog: domain, owner, compatibility mode, latest approved version and the ' +
      'status of each version (the schemas themselves are in `GET /v1/catalog/schemas/{type}`).',
    scope: null,
    responses: { '200': ok('Every event type (one page).', ref('SchemaTypeSummaryPage')) },
    problems: [],
  },
  {
    method: 'GET',
    path: '/v1/catalog/schemas/{type}',
    operationId: 'getSchemaType',
    tag: 'catalog',
    summary: 'Get an event type with all its schema versions',
    description:
      'The type, its domain, owner and compatibility mode, and every version with its status and schema.',
    scope: null,
    parameters: [param('eventType')],
    responses: { '200': ok('The event type.', ref('SchemaType')) },
    problems: ['not-found'],
  },
  {
    method: 'POST',
    path: '/v1/catalog/schemas/{type}/versions',
    operationId: 'proposeSchemaVersion',
    tag: 'catalog',
    summary: 'Propose a new schema version',
    description:
      "Checks the schema against the type's approved and deprecated versions under its compatibility mode " +
      '(which `compatibility`, when given, sets) and stores it as `proposed`. A `409 schema-incompatible` ' +
      'explains each incompatibility in `errors[]`. A new type needs `owner`.',
    scope: 'catalog:write',
    parameters: [param('eventType')],
    requestBody: { required: true, content: json(ref('ProposeSchemaRequest')) },
    responses: { '201': ok('The version is stored as proposed.', ref('SchemaVersionStatus')) },
    problems: ['malformed-json', 'forbidden', 'not-found', 'schema-incompatible', 'validation-failed'],
  },
  statusChange(
    'approve',
    'approved',
    'Approves a proposed (or re-approves a deprecated) version: events may use it from now on.',
  ),
  statusChange(
    'deprecate',
    'deprecated',
    'Deprecates an approved version: events using it are still accepted, with a deprecation notice.',
  ),
  statusChange('retire', 'retired', 'Retires a version: events naming it are refused from now on.'),
  {
    method: 'GET',
    path: '/v1/catalog/dependencies',
    operationId: 'getDependencies',
    tag: 'catalog',
    summary: 'Who publishes and who consumes each event type',
    description:
      'Per event type: its owner and lane, the publishers, and the routes consuming it with their connector, ' +
      'retry and dead-letter policy.',
    scope: null,
    responses: { '200': ok('The dependency map.', ref('DependencyPage')) },
    problems: [],
  },
  {
    method: 'GET',
    path: '/v1/catalog/asyncapi.json',
    operationId: 'getAsyncApi',
    tag: 'catalog',
    summary: 'The event catalog as AsyncAPI 3.0',
    description:
      'Channels per event type, the CloudEvent envelope around each data schema, and the configured routes.',
    scope: null,
    responses: {
      '200': ok('An AsyncAPI 3.0.0 document.', {
        type: 'object',
        required: ['asyncapi'],
        properties: { asyncapi: { type: 'string', const: '3.0.0' } },
      }),
    },
    problems: [],
  },
  {
    method: 'GET',
    path: '/v1/openapi.json',
    operationId: 'getOpenApi',
    tag: 'catalog',
    summary: 'This API as OpenAPI 3.1',
    description: 'This document.',
    scope: null,
    responses: {
      '200': ok('An OpenAPI 3.1.0 document.', {
        type: 'object',
        required: ['openapi'],
        properties: { openapi: { type: 'string', const: '3.1.0' } },
      }),
    },
    problems: [],
  },
  {
    method: 'GET',
    path: '/docs',
    operationId: 'getApiReference',
    tag: 'ops',
    summary: 'The API reference (web page)',
    description: 'An HTML page rendering this document; it asks for an API key to try calls.',
    scope: null,
    public: true,
    responses: {
      '200': { description: 'The reference page.', content: { 'text/html': { schema: { type: 'string' } } } },
    },
    problems: [],
  },
  {
    method: 'GET',
    path: '/healthz',
    operationId: 'getHealth',
    tag: 'ops',
    summary: 'Liveness probe',
    description: '`200` while the process serves HTTP.',
    scope: null,
    public: true,
    responses: {
      '200': ok('The process is alive.', {
        type: 'object',
        required: ['status'],
        properties: { status: { type: 'string', const: 'ok' } },
      }),
    },
    problems: [],
  },
  {
    method: 'GET',
    path: '/readyz',
    operationId: 'getReadiness',
    tag: 'ops',
    summary: 'Readiness probe',
    description: '`200` once the hub accepts traffic; `503` (with `Retry-After`) while starting or stopping.',
    scope: null,
    public: true,
    responses: {
      '200': ok('The hub accepts traffic.', {
        type: 'object',
        required: ['status'],
        properties: { status: { type: 'string', const: 'ready' } },
      }),
      '503': {
        description: 'The hub is starting or stopping.',
        headers: { 'Retry-After': { $ref: componentRef('headers', 'Retry-After') } },
        content: json({
          type: 'object',
          required: ['status'],
          properties: { status: { type: 'string', const: 'not-ready' } },
        }),
      },
    },
    problems: [],
  },
  {
    method: 'GET',
    path: '/metrics',
    operationId: 'getMetrics',
    tag: 'ops',
    summary: 'Prometheus metrics',
    description: 'Hub, delivery and Node.js process metrics in the Prometheus text format.',
    scope: 'ops',
    responses: {
      '200': {
        description: 'Prometheus text exposition format.',
        content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } },
      },
    },
    problems: ['forbidden'],
  },
];

/** Every operation the document describes, so a test can check each served route is documented. */
export const OPENAPI_OPERATIONS: readonly DocumentedOperation[] = Object.freeze(
  OPERATIONS.map(({ method, path }) => Object.freeze({ method, path })),
);

/**
 * Builds the OpenAPI 3.1.0 description of every HTTP endpoint the hub serves, with request and
 * response schemas, the problem+json errors of each call, and the canonical data schemas under
 * `components.schemas` (keyed by event type). The inputs are not modified.
 */
export function buildOpenApi(input: OpenApiInput): OpenApiDocument {
  const paths: Record<string, Json> = {};
  for (const op of OPERATIONS) {
    const item = paths[op.path] ?? {};
    paths[op.path] = item;
    item[op.method.toLowerCase()] = operationObject(op);
  }
  const dataSchemas: Json = {};
  for (const [type, schema] of input.schemas) {
    dataSchemas[type] = embedSchema(schema, componentRef('schemas', type));
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Conveyor API',
      version: input.version ?? '1.0.0',
      summary: 'Governed APIs and durable event streams for manufacturing integration.',
      description:
        'Every endpoint except the probes and this reference page needs `Authorization: Bearer <api key>`; ' +
        'each operation names the scope it needs in `x-required-scope` (`admin` holds every scope). Errors are ' +
        'RFC 9457 `application/problem+json` (see the `Problem` schema). Lists answer `{items, next}`; pass ' +
        '`after=<next>` for the next page.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: input.serverUrl ?? '/', description: 'The Conveyor hub.' }],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'events', description: 'CloudEvents ingress and queries over the log.' },
      { name: 'delivery', description: 'Subscriptions (routes), replay and the dead-letter queue.' },
      { name: 'catalog', description: 'Event types, schema versions and their life cycle, dependencies.' },
      { name: 'ops', description: 'Probes, metrics and the API reference.' },
    ],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key (`cvy_` + 43 base64url characters), created with `conveyor keys create`.',
        },
      },
      parameters: parameters(),
      headers: {
        'Retry-After': {
          description: 'Seconds to wait before retrying.',
          schema: { type: 'integer', minimum: 1 },
        },
      },
      schemas: { ...fixedSchemas(input.schemas), ...dataSchemas },
    },
  };
}

function operationObject(op: OperationSpec): Json {
  const scopeNote = op.public
    ? 'No credentials needed.'
    : op.scope === null
      ? 'Scope: any valid credential.'
      : `Scope: \`${op.scope}\`.`;
  const problems: ErrorCode[] = [...op.problems];
  if (!op.public) problems.push('unauthorized');
  problems.push('internal');
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    description: `${op.description}\n\n${scopeNote}`,
    ...(op.parameters ? { parameters: op.parameters } : {}),
    ...(op.requestBody ? { requestBody: op.requestBody } : {}),
    responses: { ...op.responses, ...problemResponses(problems) },
    ...(op.public ? { security: [] } : {}),
    'x-required-scope': op.scope,
  };
}

/** One problem+json response per status, naming the codes that answer with it. */
function problemResponses(codes: readonly ErrorCode[]): Json {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Json = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    const retryAfter = list.some((code) => ERROR_CODES[code].retryable);
    out[String(status)] = {
      description: list.map((code) => `\`${code}\`: ${ERROR_CODES[code].doc}`).join('\n\n'),
      ...(retryAfter ? { headers: { 'Retry-After': { $ref: componentRef('headers', 'Retry-After') } } } : {}),
      content: {
        [PROBLEM_JSON]: {
          schema: ref('Problem'),
          examples: Object.fromEntries(list.map((code) => [code, { value: problemExample(code) }])),
        },
      },
    };
  }
  return out;
}

function problemExample(code: ErrorCode): Json {
  const spec = ERROR_CODES[code];
  return {
    type: problemType(code),
    title: spec.title,
    status: spec.status,
    detail: spec.doc,
    code,
    ...(code === 'invalid-event' || code === 'validation-failed' || code === 'schema-incompatible'
      ? { errors: [{ path: '/data/quantity/value', message: 'must be >= 0' }] }
      : {}),
  };
}

function header(name: string, description: string, schema: Json = { type: 'string' }): Json {
  return { name, in: 'header', required: false, description: `Binary mode: ${description}`, schema };
}

function parameters(): Json {
  return {
    after: {
      name: 'after',
      in: 'query',
      description: 'The `next` of the previous page.',
      schema: { type: 'string', pattern: '^[0-9]+$' },
    },
    limit: {
      name: 'limit',
      in: 'query',
      description: 'Page size.',
      schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    },
    partial: {
      name: 'partial',
      in: 'query',
      description: 'Append the valid events of a batch and answer `207` listing each outcome.',
      schema: { type: 'boolean', default: false },
    },
    eventType: {
      name: 'type',
      in: 'path',
      required: true,
      description: 'An event type, e.g. `production.order.released`.',
      schema: { type: 'string', pattern: '^[a-z][a-z0-9-]*(\\.[a-z0-9-]+)+$' },
    },
    schemaVersion: {
      name: 'version',
      in: 'path',
      required: true,
      description: 'A schema version (integers from 1).',
      schema: { type: 'integer', minimum: 1 },
    },
    deadLetterId: { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
    subscriptionName: {
      name: 'name',
      in: 'path',
      required: true,
      description: 'The route name.',
      schema: { type: 'string' },
    },
    'ce-specversion': header('ce-specversion', 'CloudEvents version; its presence selects binary mode.', {
      type: 'string',
      const: '1.0',
    }),
    'ce-id': header('ce-id', "the producer's unique event id."),
    'ce-source': header('ce-source', 'the producing system (URI-reference).'),
    'ce-type': header('ce-type', 'the event type.'),
    'ce-time': header('ce-time', 'RFC 3339 time with seconds and offset.'),
    'ce-subject': header('ce-subject', 'the business key.'),
    'ce-dataschema': header('ce-dataschema', '`urn:conveyor:schema:<type>:<version>`.'),
    'ce-plant': header('ce-plant', 'the plant code.'),
    'ce-partitionkey': header('ce-partitionkey', 'the ordering key (overrides the subject).'),
    'ce-traceparent': header('ce-traceparent', 'W3C trace context.'),
  };
}

function problemCodeTable(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, spec]) =>
      `| \`${code}\` | ${spec.status} | ${spec.title} | ${spec.retryable ? 'yes' : 'no'} | ${spec.doc.replace(/\|/g, '\\|')} |`,
  );
  return ['| code | status | title | retryable | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join(
    '\n',
  );
}

/** The request and response shapes; the data schemas are added beside them by type. */
function fixedSchemas(dataSchemas: ReadonlyMap<string, object>): Json {
  const types = [...dataSchemas.keys()];
  const data: Json =
    types.length > 0
      ? {
          description:
            "The event's data: the schema of its `type` (the version `dataschema` names, else the latest approved one).",
          oneOf: types.map((type) => ref(type)),
        }
      : { description: "The event's data, as the schema of its `type` requires." };
  const stringAttribute = (description: string, extra: Json = {}) => ({
    type: 'string',
    minLength: 1,
    description,
    ...extra,
  });
  return {
    Problem: {
      type: 'object',
      description: `RFC 9457 problem details. \`code\` is stable; \`type\` is \`${PROBLEM_TYPE_BASE}<code>\`.\n\n${problemCodeTable()}`,
      required: ['type', 'title', 'status', 'detail', 'code'],
      properties: {
        type: { type: 'string', format: 'uri', description: 'Stable URI of the problem type.' },
        title: { type: 'string' },
        status: { type: 'integer', minimum: 400, maximum: 599 },
        detail: { type: 'string', description: 'What went wrong and what would fix it.' },
        code: { type: 'string', enum: Object.keys(ERROR_CODES) },
        instance: { type: 'string', description: 'The request path.' },
        errors: { type: 'array', items: ref('FieldError') },
      },
    },
    FieldError: {
      type: 'object',
      required: ['path', 'message'],
      properties: {
        path: { type: 'string', description: 'JSON Pointer (or attribute name) of the offending value.' },
        message: { type: 'string' },
      },
    },
    CloudEvent: {
      type: 'object',
      description:
        'A CloudEvents 1.0 event in JSON. Besides the attributes below, extension attributes (names of 1–20 ' +
        'lower-case letters or digits) may carry strings, booleans or integers. `sequence` is set by the hub ' +
        'and refused on ingress.',
      required: ['specversion', 'id', 'source', 'type', 'time'],
      anyOf: [{ required: ['data'] }, { required: ['data_base64'] }],
      properties: {
        specversion: { type: 'string', const: '1.0' },
        id: stringAttribute("The producer's unique id; with `source`, the hub's idempotency key."),
        source: stringAttribute('The producing system, e.g. `/plants/P1/mes`.', { format: 'uri-reference' }),
        type: stringAttribute('The event type, e.g. `production.order.released`.'),
        time: { type: 'string', format: 'date-time', description: 'RFC 3339 with seconds and offset.' },
        subject: stringAttribute('The business key; the default partition key.'),
        datacontenttype: stringAttribute('Media type of `data`.'),
        dataschema: stringAttribute('The data schema version: `urn:conveyor:schema:<type>:<version>`.', {
          pattern: '^urn:conveyor:schema:[^:]+:[0-9]+$',
        }),
        plant: stringAttribute('Plant code; required for plant-scoped types and equal to `data.plant`.', {
          pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$',
        }),
        partitionkey: stringAttribute('Overrides `subject` as the ordering key.'),
        traceparent: stringAttribute('W3C trace context.', {
          pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
        }),
        data,
        data_base64: {
          type: 'string',
          contentEncoding: 'base64',
          description: 'Binary data instead of `data`.',
        },
      },
    },
    EventData: data,
    CloudEventBatch: { type: 'array', minItems: 1, maxItems: 1000, items: ref('CloudEvent') },
    StoredCloudEvent: {
      allOf: [ref('CloudEvent')],
      required: ['sequence'],
      properties: { sequence: { type: 'integer', minimum: 1, description: "The hub's log position." } },
    },
    EventPage: listOf('StoredCloudEvent'),
    PublishOutcome: {
      type: 'object',
      required: ['id', 'status'],
      properties: {
        index: { type: 'integer', minimum: 0, description: 'Position in the batch (batched mode).' },
        id: { type: 'string' },
        sequence: { type: 'integer', minimum: 1 },
        duplicate: {
          type: 'boolean',
          description: 'Already stored under this `source` and `id`; not stored again.',
        },
        status: { type: 'string', enum: ['accepted', 'rejected'] },
        errors: { type: 'array', items: ref('FieldError') },
      },
    },
    PublishResponse: {
      type: 'object',
      required: ['events'],
      properties: { events: { type: 'array', items: ref('PublishOutcome') } },
    },
    Subscription: {
      type: 'object',
      required: ['name', 'types', 'sink', 'lane', 'state', 'position', 'lag'],
      properties: {
        name: { type: 'string' },
        types: { type: 'array', items: { type: 'string' } },
        sink: { type: 'string', description: 'The connector.' },
        endpoint: { type: 'string' },
        lane: { type: 'string', enum: ['critical', 'bulk'] },
        state: { type: 'string', enum: ['running', 'stopped', 'replaying'] },
        position: {
          type: 'integer',
          minimum: 0,
          description: 'Every event up to here is finished (durable).',
        },
        lag: {
          type: 'object',
          required: ['events', 'seconds'],
          properties: { events: { type: 'integer', minimum: 0 }, seconds: { type: 'number', minimum: 0 } },
        },
        inFlight: { type: 'integer', minimum: 0 },
        retryingKeys: { type: 'integer', minimum: 0 },
        circuit: { type: 'string', examples: ['closed', 'half-open', 'open'] },
        lastError: {
          oneOf: [
            {
              type: 'object',
              required: ['at', 'eventId', 'error'],
              properties: {
                at: { type: 'string', format: 'date-time' },
                eventId: { type: 'string' },
                error: { type: 'string' },
              },
            },
            { type: 'null' },
          ],
        },
        delivered: { type: 'integer', minimum: 0 },
        failedAttempts: { type: 'integer', minimum: 0 },
        deadLettered: { type: 'integer', minimum: 0 },
      },
    },
    SubscriptionPage: listOf('Subscription'),
    ReplayRequest: {
      type: 'object',
      required: ['from'],
      properties: {
        from: {
          description: 'A log sequence or an RFC 3339 time.',
          oneOf: [
            { type: 'integer', minimum: 0 },
            { type: 'string', format: 'date-time' },
          ],
          examples: [1042, '2026-03-01T08:00:00Z'],
        },
      },
    },
    ReplayAccepted: {
      type: 'object',
      required: ['name', 'from', 'head', 'events'],
      properties: {
        name: { type: 'string' },
        from: { type: 'integer', minimum: 0 },
        head: { type: 'integer', minimum: 0 },
        events: { type: 'integer', minimum: 0, description: 'Events from `from` to the head.' },
      },
    },
    DeadLetterStatus: { type: 'string', enum: ['open', 'replaying', 'replayed', 'discarded'] },
    DeadLetterReason: { type: 'string', examples: ['rejected', 'max-attempts', 'max-age'] },
    DeadLetterAttempt: {
      type: 'object',
      required: ['at', 'ms'],
      properties: {
        at: { type: 'string', format: 'date-time' },
        status: { type: 'integer', description: "The endpoint's HTTP status." },
        error: { type: 'string', description: 'Timeout, connection or transform error.' },
        ms: { type: 'number', minimum: 0 },
      },
    },
    DeadLetter: {
      type: 'object',
      required: ['id', 'route', 'reason', 'status', 'event', 'attempts', 'at'],
      properties: {
        id: { type: 'string' },
        route: { type: 'string' },
        reason: ref('DeadLetterReason'),
        status: ref('DeadLetterStatus'),
        event: ref('StoredCloudEvent'),
        attempts: { type: 'array', items: ref('DeadLetterAttempt') },
        at: { type: 'string', format: 'date-time' },
        updatedAt: { type: 'string', format: 'date-time' },
        updatedBy: { type: ['string', 'null'] },
      },
    },
    DeadLetterPage: listOf('DeadLetter'),
    DeadLetterFilter: {
      type: 'object',
      properties: {
        route: { type: 'string' },
        type: { type: 'string' },
        reason: ref('DeadLetterReason'),
        since: { type: 'string', format: 'date-time' },
        until: { type: 'string', format: 'date-time' },
      },
    },
    DeadLetterStatusResult: {
      type: 'object',
      required: ['id', 'status'],
      properties: { id: { type: 'string' }, status: ref('DeadLetterStatus') },
    },
    BulkResult: {
      type: 'object',
      required: ['matched', 'ids', 'status'],
      properties: {
        matched: { type: 'integer', minimum: 0, maximum: 10_000 },
        ids: { type: 'array', items: { type: 'string' } },
        status: { type: 'string', enum: ['replaying', 'discarded'] },
      },
    },
    CompatibilityMode: { type: 'string', enum: [...COMPATIBILITY_MODES] },
    SchemaStatus: { type: 'string', enum: ['proposed', 'approved', 'deprecated', 'retired'] },
    SchemaVersion: {
      type: 'object',
      required: ['version', 'status', 'schema'],
      properties: {
        version: { type: 'integer', minimum: 1 },
        status: ref('SchemaStatus'),
        schema: { type: 'object', description: 'A JSON Schema 2020-12 document.' },
        createdAt: { type: 'string', format: 'date-time' },
        createdBy: { type: 'string' },
      },
    },
    SchemaType: {
      type: 'object',
      required: ['type', 'domain', 'owner', 'compatibility', 'versions'],
      properties: {
        type: { type: 'string' },
        domain: { type: 'string' },
        owner: { type: 'string', description: 'The owning team.' },
        compatibility: ref('CompatibilityMode'),
        versions: { type: 'array', items: ref('SchemaVersion') },
      },
    },
    SchemaTypeSummary: {
      type: 'object',
      required: ['type', 'domain', 'owner', 'compatibility', 'latestApproved', 'versions'],
      properties: {
        type: { type: 'string' },
        domain: { type: 'string' },
        owner: { type: 'string', description: 'The owning team.' },
        compatibility: ref('CompatibilityMode'),
        latestApproved: { type: ['integer', 'null'], minimum: 1 },
        versions: {
          type: 'array',
          items: {
            type: 'object',
            required: ['version', 'status'],
            properties: { version: { type: 'integer', minimum: 1 }, status: ref('SchemaStatus') },
          },
        },
      },
    },
    SchemaTypeSummaryPage: listOf('SchemaTypeSummary'),
    ProposeSchemaRequest: {
      type: 'object',
      required: ['schema'],
      properties: {
        schema: { type: 'object', description: 'The new version: a JSON Schema 2020-12 document.' },
        compatibility: ref('CompatibilityMode'),
        owner: { type: 'string', description: 'The owning team; required for a new type.' },
      },
    },
    SchemaVersionStatus: {
      type: 'object',
      required: ['type', 'version', 'status'],
      properties: {
        type: { type: 'string' },
        version: { type: 'integer', minimum: 1 },
        status: ref('SchemaStatus'),
      },
    },
    Dependency: {
      type: 'object',
      required: ['type', 'domain', 'owner', 'lane', 'criticality', 'publishers', 'consumers'],
      properties: {
        type: { type: 'string' },
        domain: { type: 'string' },
        owner: { type: 'string' },
        lane: { type: 'string', enum: ['critical', 'bulk'] },
        criticality: { type: 'string', enum: ['business-critical', 'bulk'] },
        publishers: {
          type: 'object',
          required: ['clients', 'connectors'],
          properties: {
            clients: {
              type: 'array',
              description: 'Active clients allowed to publish the type.',
              items: {
                type: 'object',
                required: ['name', 'plants', 'via'],
                properties: {
                  name: { type: 'string' },
                  plants: { type: ['array', 'null'], items: { type: 'string' } },
                  via: { type: 'string', enum: ['scope', 'admin'] },
                },
              },
            },
            connectors: {
              type: 'array',
              description: 'Source connectors declared to produce the type.',
              items: {
                type: 'object',
                required: ['name', 'kind'],
                properties: { name: { type: 'string' }, kind: { type: 'string' } },
              },
            },
          },
        },
        consumers: {
          type: 'array',
          description: 'Routes delivering the type.',
          items: {
            type: 'object',
            required: ['route', 'sink', 'endpoint', 'lane', 'filter', 'transform', 'retry', 'timeoutMs'],
            properties: {
              route: { type: 'string' },
              sink: { type: 'string', description: 'The connector.' },
              endpoint: { type: ['string', 'null'] },
              lane: { type: 'string', enum: ['critical', 'bulk'] },
              filter: { type: ['string', 'null'], description: 'JSONata filter.' },
              transform: { type: 'boolean', description: 'Whether a JSONata transform reshapes the body.' },
              retry: ref('RetryPolicy'),
              timeoutMs: { type: 'integer', minimum: 1 },
              deadLetterQueue: { type: 'boolean', const: true },
            },
          },
        },
      },
    },
    RetryPolicy: {
      type: 'object',
      required: ['maxAttempts', 'initialDelayMs', 'maxDelayMs', 'maxAgeMs'],
      properties: {
        maxAttempts: { type: 'integer', minimum: 1 },
        initialDelayMs: { type: 'integer', minimum: 0 },
        maxDelayMs: { type: 'integer', minimum: 0 },
        maxAgeMs: { type: 'integer', minimum: 0 },
      },
    },
    DependencyPage: listOf('Dependency'),
  };
}
