import { ERROR_CODES, type ErrorCode, PROBLEM_TYPE_BASE, problemType } from '../errors/registry.js';
import { COMPATIBILITY_MODES } from '../registry/compatibility.js';
import { escapePointer } from '../registry/schema-walk.js';
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

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

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
  /**
   * Problems this call may answer with, besides those every call has: `internal`; `unauthorized` and
   * `rate-limited` unless it is public; `bad-request` (a malformed `Idempotency-Key`),
   * `idempotency-key-reused` and `request-in-progress` when it changes state (not a GET).
   */
  readonly problems: readonly ErrorCode[];
}

const PROBLEM_JSON = 'application/problem+json';
const CLIENT_NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const SUPPLIER_ID = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const PLANT_CODE = '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$';

const BEARER_AUTH =
  'An API key (`cvy_` + 43 base64url characters), created with `POST /v1/clients` or `conveyor keys ' +
  'create`, or, when `auth.jwt` is configured, a JWT: signed (RS, PS, ES or EdDSA) by a key of the ' +
  "issuer's JWKS (`jwksUrl` or `jwksFile`), with that `iss` and `aud` and an `exp`. The client is its " +
  '`client_id`, `azp` or `sub`; its scopes come from the scope claim (`scope` unless `scopeClaim` says ' +
  'otherwise) and its plants from a `plants` claim (each a space-separated string or a list; no `plants`: ' +
  "every plant), its supplier binding from `supplier_id`. For a client named in the configuration's " +
  '`clients[]`, an API key carries the configured scopes and plants, and a JWT only those both grant.';
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
/** What any request body can be refused for before its handler sees it. */
const BODY_PROBLEMS: readonly ErrorCode[] = [
  'malformed-json',
  'json-too-complex',
  'payload-too-large',
  'unsupported-media-type',
];
/** A JSON request body of a component schema, with named examples. */
const jsonBody = (schema: string, examples: Record<string, { summary: string; value: unknown }>) => ({
  required: true,
  content: { 'application/json': { schema: ref(schema), examples } },
});
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

/** The sample ASN of `POST /v1/suppliers/{supplierId}/asns` as X12 856 and as EDIFACT DESADV. */
const X12_856_EXAMPLE = [
  'ISA*00*          *00*          *ZZ*V20417         *ZZ*CONVEYOR       *260610*0600*U*00401*000000001*0*P*>~',
  'GS*SH*V20417*CONVEYOR*20260610*0600*1*X*004010~',
  'ST*856*0001~',
  'BSN*00*ASN-0098231*20260610*0600~',
  'DTM*011*20260610~',
  'HL*1**S~',
  'N1*SF*V-20417*92*V-20417~',
  'N1*ST*P1*92*P1~',
  'HL*2*1*I~',
  'LIN*1*BP*PIN-M8~',
  'SN1**5000*EA~',
  'REF*LT*NS-77812~',
  'CTT*2~',
  'SE*12*0001~',
  'GE*1*1~',
  'IEA*1*000000001~',
  '',
].join('\n');

const DESADV_EXAMPLE = [
  "UNA:+.? '",
  "UNB+UNOC:3+V20417:ZZ+CONVEYOR:ZZ+260610:0600+1'",
  "UNH+1+DESADV:D:96A:UN'",
  "BGM+351+ASN-0098231+9'",
  "DTM+137:202606100600:203'",
  "DTM+11:20260610:102'",
  "NAD+SF+V-20417::92++V-20417'",
  "NAD+ST+P1::92'",
  "CPS+1'",
  "LIN+1++PIN-M8:BP'",
  "QTY+12:5000:EA'",
  "GIN+BX+NS-77812'",
  "CNT+2:1'",
  "UNT+12+1'",
  "UNZ+1+1'",
  '',
].join('\n');

/** What the system-of-record errors of a sync command mean, for its description. */
const SYSTEM_OF_RECORD_ANSWERS =
  'A 4xx answer (other than 408 and 429) is the system refusing the request: `422 ' +
  'refused-by-system-of-record`, with its status and answer in `upstream`. No system configured, no answer ' +
  "within the connector's timeout, a connection failure, an open circuit, or a 408, 429 or 5xx answer is `503 " +
  'system-of-record-unavailable` with `Retry-After`. Either way nothing is published.';

/** The governed commands: each checks its request, then publishes canonical events. */
const COMMAND_OPERATIONS: readonly OperationSpec[] = [
  {
    method: 'POST',
    path: '/v1/production-orders/{orderId}/release',
    operationId: 'releaseProductionOrder',
    tag: 'commands',
    summary: 'Release a production order',
    description:
      'Releases a production order to a plant. The body is the `production.order.released` data without ' +
      '`routing` and `bom`: the hub adds both from its reference data (`referenceData.routings`, by plant and ' +
      "material) and refuses a body that sets them. `orderId` is the path's (in the body it must be equal or " +
      'left out); other fields are kept in the event data.\n\n' +
      "The body is checked against the type's latest approved schema (`422 validation-failed`, naming body " +
      'fields) before the routing is looked up; a material without a routing at that plant is `422 ' +
      'unknown-routing`.\n\n' +
      'Publishes one `production.order.released` event (subject: the order id). Asynchronous: a `202` means ' +
      'the event is durably in the log; subscribers get it by delivery. A plant-bound client may only release ' +
      "orders of its plants (the body's `plant`).",
    scope: 'commands:production-order-release',
    parameters: [param('orderId')],
    requestBody: jsonBody('ProductionOrderReleaseRequest', {
      release: {
        summary: 'Release order 100004711 at plant P1',
        value: {
          plant: 'P1',
          material: 'BRK-CAL-2200',
          quantity: { value: 500, uom: 'EA' },
          dueDate: '2026-06-14',
        },
      },
    }),
    responses: {
      '202': ok('The event is durably in the log.', ref('ProductionOrderReleaseAccepted')),
    },
    problems: [...BODY_PROBLEMS, 'forbidden', 'validation-failed', 'unknown-routing'],
  },
  {
    method: 'POST',
    path: '/v1/material-consumptions',
    operationId: 'reportMaterialConsumption',
    tag: 'commands',
    summary: 'Report material consumed against an order',
    description:
      'Reports material consumed against a production order. The body is the `production.material.consumed` ' +
      'data; `consumedAt` defaults to the time of the request, and other fields are kept in the event data.\n\n' +
      'Publishes one `production.material.consumed` event (subject: the order id). Asynchronous: a `202` ' +
      "means the event is durably in the log. A plant-bound client may only report for its plants (the body's " +
      '`plant`).',
    scope: 'commands:material-consumption',
    requestBody: jsonBody('MaterialConsumptionRequest', {
      consumption: {
        summary: '84.5 kg of coil from lot L24-0518-03 on order 100004711',
        value: {
          orderId: '100004711',
          plant: 'P1',
          material: 'STL-COIL-1.5',
          quantity: { value: 84.5, uom: 'KG' },
          lot: 'L24-0518-03',
        },
      },
    }),
    responses: { '202': ok('The event is durably in the log.', ref('CommandAccepted')) },
    problems: [...BODY_PROBLEMS, 'forbidden', 'validation-failed'],
  },
  {
    method: 'POST',
    path: '/v1/quality/holds',
    operationId: 'placeQualityHold',
    tag: 'commands',
    summary: 'Put material lots on quality hold',
    description:
      'Puts material lots on hold. The body is the `quality.hold.placed` data; `holdId` is generated ' +
      '(`QH-…`) when left out and `placedAt` defaults to the time of the request. `status` is refused: a hold ' +
      'is active when placed. A `holdId` that names an active hold is `409 conflict`.\n\n' +
      'Publishes one `quality.hold.placed` event (subject: the hold id). Asynchronous: a `202` means the event ' +
      'is durably in the log. From then on, confirming a shipment of a held lot at that plant is refused ' +
      '(`409 shipment-blocked-by-quality-hold`); holds published on `POST /v1/events` (by a QMS, say) count ' +
      "the same. A plant-bound client may only place holds at its plants (the body's `plant`).",
    scope: 'commands:quality-hold',
    requestBody: jsonBody('QualityHoldRequest', {
      hold: {
        summary: 'Hold two lots of BRK-CAL-2200',
        value: {
          plant: 'P1',
          material: 'BRK-CAL-2200',
          lots: ['L24-0611-01', 'L24-0611-02'],
          reason: 'Burr on bore, customer complaint 4471',
        },
      },
    }),
    responses: { '202': ok('The event is durably in the log.', ref('QualityHoldAccepted')) },
    problems: [...BODY_PROBLEMS, 'forbidden', 'validation-failed', 'conflict'],
  },
  {
    method: 'POST',
    path: '/v1/quality/holds/{holdId}/disposition',
    operationId: 'decideQualityDisposition',
    tag: 'commands',
    summary: 'Decide the disposition of a quality hold',
    description:
      'Decides what happens to the lots of an active hold. The body is the `quality.disposition.decided` ' +
      'data: `disposition`, and optionally `decidedAt` (default: the time of the request); `holdId` and ' +
      "`plant` are the hold's (in the body they must be equal or left out).\n\n" +
      'Publishes `quality.disposition.decided`, and for `use-as-is` and `rework` also `quality.hold.released`, ' +
      'after which the lots may ship again. After `scrap` or `return-to-supplier` the hold stays in force: its ' +
      'lots stay blocked for shipping. Asynchronous: a `202` means the events are durably in the log.\n\n' +
      'A hold that is not active (released, or dispositioned before) is `409 conflict`. A hold that does not ' +
      "exist, or belongs to a plant outside a plant-bound client's, is `404`.",
    scope: 'commands:quality-disposition',
    parameters: [param('holdId')],
    requestBody: jsonBody('QualityDispositionRequest', {
      rework: { summary: 'Rework the held lots (releases the hold)', value: { disposition: 'rework' } },
      scrap: { summary: 'Scrap them (the hold stays in force)', value: { disposition: 'scrap' } },
    }),
    responses: { '202': ok('The events are durably in the log.', ref('QualityHoldAccepted')) },
    problems: [...BODY_PROBLEMS, 'forbidden', 'not-found', 'conflict', 'validation-failed'],
  },
  {
    method: 'POST',
    path: '/v1/inventory/reservations',
    operationId: 'reserveInventory',
    tag: 'commands',
    summary: 'Reserve stock in the warehouse system (sync)',
    description:
      'Reserves stock. Synchronous: the warehouse system (WMS) decides. The body is the ' +
      '`inventory.reservation.created` data without `reservationId`, which the WMS assigns (a body setting it ' +
      'is refused). The hub checks the body against the schema, then POSTs it to the system of record ' +
      "configured as `commands.inventory-reservation` (with the connector's timeout and circuit breaker, and " +
      "the `x-conveyor-client` header and a `traceparent` in the request's trace with a span id of its own).\n\n" +
      'When the WMS answers 2xx with a `reservationId`, the hub publishes `inventory.reservation.created` ' +
      "(subject: that id) and answers `201` with the WMS's answer in `result`; the event is durable by then. A " +
      `2xx without a \`reservationId\` is \`503 system-of-record-unavailable\`. ${SYSTEM_OF_RECORD_ANSWERS}\n\n` +
      "A plant-bound client may only reserve at its plants (the body's `plant`).",
    scope: 'commands:inventory-reservation',
    requestBody: jsonBody('InventoryReservationRequest', {
      reservation: {
        summary: '420 kg of coil for order 100004711',
        value: {
          plant: 'P1',
          material: 'STL-COIL-1.5',
          quantity: { value: 420, uom: 'KG' },
          orderId: '100004711',
        },
      },
    }),
    responses: {
      '201': ok(
        'The WMS made the reservation and the event is durably in the log.',
        ref('SystemOfRecordAccepted'),
      ),
    },
    problems: [
      ...BODY_PROBLEMS,
      'forbidden',
      'validation-failed',
      'refused-by-system-of-record',
      'system-of-record-unavailable',
    ],
  },
  {
    method: 'POST',
    path: '/v1/shipments/{shipmentId}/confirmation',
    operationId: 'confirmShipment',
    tag: 'commands',
    summary: 'Confirm a shipment (sync, checks quality holds)',
    description:
      'Confirms that a shipment left the plant. Synchronous. The body is the `logistics.shipment.confirmed` ' +
      "data; `shipmentId` is the path's (in the body it must be equal or left out) and `shippedAt` defaults to " +
      'the time of the request.\n\n' +
      'After checking the body against the schema, the hub checks every lot of every line against the quality ' +
      'holds of that plant: a lot under a hold that is active, or was dispositioned `scrap` or ' +
      '`return-to-supplier`, is `409 shipment-blocked-by-quality-hold`, whose `holds[]` names each hold with ' +
      'its blocked `lots`, `reason`, `status` and `disposition`. Then it POSTs the event data to the system of ' +
      'record configured as `commands.shipment-confirmation` (its path may use `{shipmentId}`). Once that ' +
      'answers 2xx, the hub publishes `logistics.shipment.confirmed` (subject: the shipment id) and answers ' +
      `\`201\` with the system's answer in \`result\`; the event is durable by then. ${SYSTEM_OF_RECORD_ANSWERS}\n\n` +
      "A plant-bound client may only confirm shipments of its plants (the body's `plant`).",
    scope: 'commands:shipment-confirmation',
    parameters: [param('shipmentId')],
    requestBody: jsonBody('ShipmentConfirmationRequest', {
      shipment: {
        summary: 'One line of 240 EA from lot L24-0611-03',
        value: {
          plant: 'P1',
          lines: [{ material: 'BRK-CAL-2200', quantity: { value: 240, uom: 'EA' }, lots: ['L24-0611-03'] }],
        },
      },
    }),
    responses: {
      '201': ok(
        'The system of record confirmed the shipment and the event is durably in the log.',
        ref('SystemOfRecordAccepted'),
      ),
    },
    problems: [
      ...BODY_PROBLEMS,
      'forbidden',
      'validation-failed',
      'shipment-blocked-by-quality-hold',
      'refused-by-system-of-record',
      'system-of-record-unavailable',
    ],
  },
  {
    method: 'POST',
    path: '/v1/suppliers',
    operationId: 'onboardSupplier',
    tag: 'commands',
    summary: 'Onboard a supplier and create its credential',
    description:
      'Registers a supplier: `supplierId`, `name` and the `plants` it delivers to (other fields are kept in ' +
      'the event data). An onboarded supplier id is `409 conflict`. When `commands.supplier-onboarding` names ' +
      'a supplier master (ERP), it is asked first (errors as for the sync commands) and its answer is in ' +
      "`result`; without one, the hub's record is the master.\n\n" +
      'The hub stores the supplier, creates the client `supplier-<supplierId>` with the one scope ' +
      "`commands:supplier-asn`, bound to the supplier's plants and to the supplier itself, and publishes " +
      '`supplier.onboarded` (subject: the supplier id). A `201` means all of it is durable. The API key in ' +
      '`credential.key` is shown only in this answer: a replay under the same `Idempotency-Key` answers ' +
      '`key: null`, since the hub never keeps the key in the clear.\n\n' +
      'A plant-bound client may only onboard suppliers for its plants (every entry of `plants`).',
    scope: 'commands:supplier-onboarding',
    requestBody: jsonBody('SupplierOnboardingRequest', {
      supplier: {
        summary: 'A coil supplier delivering to P1',
        value: { supplierId: 'V-20417', name: 'Nordstahl Coils GmbH', plants: ['P1'] },
      },
    }),
    responses: {
      '201': ok('The supplier, its credential and the event are durable.', ref('SupplierOnboardingResult')),
    },
    problems: [
      ...BODY_PROBLEMS,
      'forbidden',
      'conflict',
      'validation-failed',
      'refused-by-system-of-record',
      'system-of-record-unavailable',
    ],
  },
  {
    method: 'POST',
    path: '/v1/suppliers/{supplierId}/asns',
    operationId: 'receiveAsn',
    tag: 'commands',
    summary: "Send a supplier's advance ship notice (JSON, X12 856, EDIFACT DESADV)",
    description:
      'Takes an advance ship notice of an onboarded supplier (`404` otherwise), in the form `Content-Type` ' +
      'names:\n\n' +
      '| content type | body |\n| --- | --- |\n' +
      "| `application/json` | the `supplier.asn.received` data; `supplierId` is the path's (in the body it must be equal or left out) |\n" +
      '| `application/edi-x12` | an X12 856 interchange |\n' +
      '| `application/edifact` | an EDIFACT DESADV interchange |\n\n' +
      'An interchange may carry several notices; each becomes one event. For EDI, the receiving plant is ' +
      "`?plant=`, else the supplier's only plant, else each notice's ship-to party; `?utcOffset=` keeps ship " +
      "times sent without a zone. The supplier is always the path's; a different ship-from party in the " +
      'document is kept as `partnerId`. An unreadable interchange is `422 invalid-edi` naming the segment ' +
      '(`errors[]`, `ediCode`, `format`).\n\n' +
      "Every notice's plant must be one the supplier delivers to, and one of the client's plants if it is " +
      "plant-bound (`403` otherwise). A supplier's own credential may only send that supplier's notices.\n\n" +
      'Publishes one `supplier.asn.received` per notice (subject: the ASN id). Asynchronous: a `202` means ' +
      'every event is durably in the log; `warnings` lists what the EDI mapping skipped or assumed.',
    scope: 'commands:supplier-asn',
    parameters: [
      param('supplierId'),
      {
        name: 'plant',
        in: 'query',
        description:
          "EDI bodies: the receiving plant, overriding the document's ship-to party. Default: the supplier's only plant, if it has one.",
        schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$' },
      },
      {
        name: 'utcOffset',
        in: 'query',
        description:
          "EDI bodies: the partner's offset from UTC, to keep ship times sent without a zone (without it such times are dropped and the date is kept). A malformed offset is `400 bad-request`.",
        schema: { type: 'string', pattern: '^(Z|[+-]\\d{2}:\\d{2})$' },
        example: '+01:00',
      },
    ],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: ref('AsnRequest'),
          examples: {
            asn: {
              summary: 'One line of 5,000 EA from lot NS-77812',
              value: {
                asnId: 'ASN-0098231',
                plant: 'P1',
                shipDate: '2026-06-10',
                lines: [{ material: 'PIN-M8', quantity: { value: 5000, uom: 'EA' }, lots: ['NS-77812'] }],
              },
            },
          },
        },
        'application/edi-x12': {
          schema: { type: 'string', description: 'An X12 004010 interchange of 856 ship notices.' },
          examples: { asn: { summary: 'The same notice as X12 856', value: X12_856_EXAMPLE } },
        },
        'application/edifact': {
          schema: { type: 'string', description: 'An EDIFACT interchange of DESADV messages.' },
          examples: { asn: { summary: 'The same notice as EDIFACT DESADV', value: DESADV_EXAMPLE } },
        },
      },
    },
    responses: { '202': ok('Every notice is durably in the log.', ref('AsnAccepted')) },
    problems: [...BODY_PROBLEMS, 'forbidden', 'not-found', 'validation-failed', 'invalid-edi'],
  },
];

/** Clients, their keys and the audit trail. */
const ADMIN_OPERATIONS: readonly OperationSpec[] = [
  {
    method: 'GET',
    path: '/v1/clients',
    operationId: 'listClients',
    tag: 'admin',
    summary: 'List clients',
    description:
      'Every client, active and revoked, with its scopes, plants, rate limit and supplier binding (one page). ' +
      'Keys are never shown: the hub keeps only their hash.',
    scope: 'admin',
    responses: { '200': ok('Every client (one page).', ref('ClientPage')) },
    problems: ['forbidden'],
  },
  {
    method: 'POST',
    path: '/v1/clients',
    operationId: 'createClient',
    tag: 'admin',
    summary: 'Create a client and its API key',
    description:
      'Creates a client with its scopes, optionally bound to plants (left out or `null`: every plant) and ' +
      'limited to a request rate (`rateLimit`; over it, `429 rate-limited` with `Retry-After`). The API key is ' +
      'in the answer, once: a replay under the same `Idempotency-Key` answers `key: null`. A name taken by an active client is `409 conflict` (revoke it first to re-key it); ' +
      "a revoked client's name gets a new key. A client the configuration's `clients[]` names gets the " +
      'configured scopes and plants whatever it is created with. Recorded in the audit trail (`client.create`).',
    scope: 'admin',
    requestBody: jsonBody('CreateClientRequest', {
      mes: {
        summary: 'An MES at plant P1, limited to 50 requests/s',
        value: {
          name: 'mes-p1',
          scopes: ['events:publish:production', 'commands:material-consumption'],
          plants: ['P1'],
          rateLimit: { perSecond: 50 },
        },
      },
    }),
    responses: { '201': ok('The client exists; its key is shown this once.', ref('CreatedClient')) },
    problems: [...BODY_PROBLEMS, 'forbidden', 'conflict', 'validation-failed'],
  },
  {
    method: 'DELETE',
    path: '/v1/clients/{name}',
    operationId: 'revokeClient',
    tag: 'admin',
    summary: 'Revoke a client',
    description:
      'Revokes the client: its key stops working at once. A client cannot revoke itself (`409 conflict`); ' +
      '`404` when no active client has the name. Recorded in the audit trail (`client.revoke`).',
    scope: 'admin',
    parameters: [param('clientName')],
    responses: { '200': ok('The client is revoked.', ref('RevokedClient')) },
    problems: ['forbidden', 'not-found', 'conflict'],
  },
  {
    method: 'GET',
    path: '/v1/audit',
    operationId: 'listAuditEntries',
    tag: 'admin',
    summary: 'Read the audit trail',
    description:
      'Oldest first. Records every state-changing catalog, delivery and admin call (schema life cycle, ' +
      'replays, discards, clients) and every request refused with `401` or `403`, with the acting client, ' +
      'the action, its target, the outcome and the address the request came from. Filters match exactly.',
    scope: 'admin',
    parameters: [
      {
        name: 'actor',
        in: 'query',
        description: 'Client name (`anonymous` for a 401).',
        schema: { type: 'string' },
      },
      {
        name: 'action',
        in: 'query',
        description: 'E.g. `client.create`, `schema.approve`, `dlq.replay`, `request.denied`, `auth.denied`.',
        schema: { type: 'string' },
      },
      {
        name: 'outcome',
        in: 'query',
        description: '`done`, `accepted`, `refused` or `denied`.',
        schema: { type: 'string' },
      },
      { name: 'target', in: 'query', schema: { type: 'string' } },
      {
        name: 'since',
        in: 'query',
        description: 'From this time (inclusive).',
        schema: { type: 'string', format: 'date-time' },
      },
      {
        name: 'until',
        in: 'query',
        description: 'Up to this time (exclusive).',
        schema: { type: 'string', format: 'date-time' },
      },
      ...paging,
    ],
    responses: { '200': ok('A page of audit entries.', ref('AuditPage')) },
    problems: ['bad-request', 'forbidden'],
  },
];

const MILESTONE_EVENT_SCHEMA = {
  type: 'object',
  required: ['id', 'type', 'sequence', 'time', 'role'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string' },
    sequence: { type: 'integer' },
    time: { type: 'string', format: 'date-time' },
    role: { type: 'string', enum: ['start', 'end'] },
  },
};

/** A milestone as `GET /v1/milestones` lists it. */
const MILESTONE_SCHEMA = {
  type: 'object',
  required: [
    'id',
    'name',
    'correlation',
    'plant',
    'status',
    'startedAt',
    'dueAt',
    'endedAt',
    'ageSeconds',
    'late',
    'events',
  ],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    correlation: { type: 'string', description: 'The business key its start and end share.' },
    plant: { type: ['string', 'null'] },
    status: { type: 'string', enum: ['open', 'late', 'met'] },
    startedAt: { type: 'string', format: 'date-time' },
    dueAt: { type: 'string', format: 'date-time' },
    endedAt: { type: ['string', 'null'], format: 'date-time' },
    ageSeconds: { type: 'integer', description: 'From the start to the end, or to now while not met.' },
    late: { type: 'boolean', description: 'Whether it was (or is) past due without its end.' },
    events: { type: 'array', items: MILESTONE_EVENT_SCHEMA },
  },
};

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
      'publish events of its plants. `conveyor.*` events are raised by the hub alone and are refused.\n\n' +
      "Trace context: an event without its own `traceparent` attribute takes the request's `traceparent` " +
      '(and `tracestate`) header, else a trace the hub starts; every delivery of it carries that trace ' +
      '(docs/tracing.md).',
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
      {
        name: 'from',
        in: 'query',
        description:
          'Only events the hub appended at or after this time (RFC 3339). With `to`, the range may span at most 31 days.',
        schema: { type: 'string', format: 'date-time' },
      },
      {
        name: 'to',
        in: 'query',
        description: 'Only events the hub appended before this time (RFC 3339); later than `from`.',
        schema: { type: 'string', format: 'date-time' },
      },
      ...paging,
    ],
    responses: { '200': ok('A page of events.', ref('EventPage')) },
    problems: ['bad-request', 'forbidden'],
  },
  {
    method: 'GET',
    path: '/v1/trace/{subject}',
    operationId: 'traceSubject',
    tag: 'events',
    summary: 'Trace a business object through the log and its deliveries',
    description:
      'The story of one business object (an order, lot, hold or shipment): every event with that `subject` ' +
      'the client may read, in log order (at most 1,000; `truncated` says when there are more), and for each ' +
      'the routes it goes to and how far each is: `pending`, `done`, `dead-lettered` (with the dead letter) ' +
      "or `filtered-out` by the route's filter. Reads the domains of the client's `events:read:<domain>` " +
      "scopes; a plant-bound client sees only its plants' events. `404` when there is no such event.",
    scope: 'events:read:<domain>',
    parameters: [
      {
        name: 'subject',
        in: 'path',
        required: true,
        description: 'The business key, e.g. an order id.',
        schema: { type: 'string', minLength: 1, maxLength: 128 },
        example: '100004711',
      },
    ],
    responses: { '200': ok('The events and their deliveries.', ref('Trace')) },
    problems: ['forbidden', 'not-found'],
  },
  ...COMMAND_OPERATIONS,
  {
    method: 'GET',
    path: '/v1/connectors',
    operationId: 'listConnectors',
    tag: 'ops',
    summary: 'List connectors and their health',
    description:
      'Every connector of the configuration. Sources (MQTT, files, REST polling ...) show their health ' +
      '(`connecting`, `up`, `degraded` or `down` with the reason; `standby` where another hub instance runs it), messages read, events appended, messages ' +
      'dead-lettered and the last error; sinks show the routes and commands that use them.',
    scope: 'ops',
    responses: { '200': ok('Every connector (one page).', { type: 'object', required: ['items', 'next'] }) },
    problems: ['forbidden'],
  },
  {
    method: 'GET',
    path: '/v1/cluster',
    operationId: 'getCluster',
    tag: 'ops',
    summary: 'Hub instances and the work each runs',
    description:
      'The hub instances sharing the state store (live heartbeat leases) and which instance runs each ' +
      'route (`route:<name>`), source connector (`source:<name>`) and the retention job, with when each lease ' +
      'lapses unless renewed. Any instance answers the same.',
    scope: 'ops',
    responses: {
      '200': ok('Instances and work.', { type: 'object', required: ['answeredBy', 'instances', 'work'] }),
    },
    problems: ['forbidden'],
  },
  {
    method: 'GET',
    path: '/v1/milestones',
    operationId: 'listMilestones',
    tag: 'ops',
    summary: 'List business milestones',
    description:
      'Business milestones (conveyor.yaml `milestones`): each opened by a start event, due `within` after it, ' +
      'met by its end event or delivery, late when its due time passed first (a late one can still be met). ' +
      "In the order they were opened, filtered and paged. A plant-bound client sees its plants' milestones only.",
    scope: 'ops',
    parameters: [
      { name: 'status', in: 'query', schema: { type: 'string', enum: ['open', 'late', 'met'] } },
      { name: 'name', in: 'query', description: 'The milestone name.', schema: { type: 'string' } },
      { name: 'plant', in: 'query', schema: { type: 'string' } },
      ...paging,
    ],
    responses: {
      '200': ok('A page of milestones.', {
        type: 'object',
        required: ['items', 'next'],
        properties: {
          items: { type: 'array', items: MILESTONE_SCHEMA },
          next: { type: ['string', 'null'] },
        },
      }),
    },
    problems: ['bad-request', 'forbidden'],
  },
  {
    method: 'GET',
    path: '/v1/milestones/summary',
    operationId: 'summarizeMilestones',
    tag: 'ops',
    summary: 'Count milestones by name and plant',
    description:
      "How many milestones of each name and plant are open, late and met. A plant-bound client counts its plants' only.",
    scope: 'ops',
    responses: {
      '200': ok('The counts.', {
        type: 'object',
        required: ['items'],
        properties: {
          items: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'plant', 'open', 'late', 'met'],
              properties: {
                name: { type: 'string' },
                plant: { type: ['string', 'null'] },
                open: { type: 'integer', minimum: 0 },
                late: { type: 'integer', minimum: 0 },
                met: { type: 'integer', minimum: 0 },
              },
            },
          },
        },
      }),
    },
    problems: ['forbidden'],
  },
  {
    method: 'GET',
    path: '/v1/overview',
    operationId: 'getOverview',
    tag: 'ops',
    summary: "This hub instance's live rates, lag, dead letters, circuits and sources",
    description:
      'What the console shows on its overview, in one call: ingest (events this instance appended through the ' +
      'API, commands and sources), deliveries and failed attempts, each per second (sampled every 2 s) and in ' +
      'total since the instance started, with a series of the last 10 minutes; open dead letters; the lag of ' +
      'each route (events and seconds); the circuit of each endpoint; and the health of the source connectors. ' +
      "Rates and totals are this instance's (`instance`); other instances sharing the store keep their own.",
    scope: 'ops',
    responses: {
      '200': ok('The overview.', {
        type: 'object',
        required: [
          'at',
          'instance',
          'ingest',
          'deliveries',
          'dlqOpen',
          'lag',
          'series',
          'routes',
          'connectors',
          'circuits',
        ],
        properties: {
          at: { type: 'string', format: 'date-time' },
          instance: { type: 'string' },
          intervalSeconds: { type: 'number' },
          windowSeconds: { type: 'number' },
          ingest: {
            type: 'object',
            required: ['perSecond', 'total'],
            properties: { perSecond: { type: 'number' }, total: { type: 'integer' } },
          },
          deliveries: {
            type: 'object',
            required: ['perSecond', 'failedPerSecond', 'total'],
            properties: {
              perSecond: { type: 'number' },
              failedPerSecond: { type: 'number' },
              total: { type: 'integer' },
              failedTotal: { type: 'integer' },
            },
          },
          dlqOpen: { type: 'integer', minimum: 0 },
          lag: {
            type: 'object',
            required: ['events', 'seconds'],
            properties: { events: { type: 'integer' }, seconds: { type: 'number' } },
          },
          series: {
            type: 'array',
            items: {
              type: 'object',
              required: ['t', 'ingest', 'delivered', 'failed'],
              properties: {
                t: { type: 'string', format: 'date-time' },
                ingest: { type: 'number' },
                delivered: { type: 'number' },
                failed: { type: 'number' },
              },
            },
          },
          routes: { type: 'array', items: { type: 'object' } },
          connectors: { type: 'array', items: { type: 'object' } },
          circuits: {
            type: 'array',
            items: {
              type: 'object',
              required: ['endpoint', 'state', 'routes'],
              properties: {
                endpoint: { type: 'string' },
                sink: { type: 'string' },
                state: { type: 'string', enum: ['closed', 'open', 'half-open'] },
                routes: { type: 'array', items: { type: 'string' } },
              },
            },
          },
        },
      }),
    },
    problems: ['forbidden'],
  },
  {
    method: 'GET',
    path: '/v1/quality/holds',
    operationId: 'listQualityHolds',
    tag: 'commands',
    summary: 'List quality holds',
    description:
      'The quality holds the hub enforces on shipment confirmations, by hold id, as its projection of the ' +
      '`quality.*` events has them (including events appended just before the call). Needs `ops` or ' +
      "`commands:quality-hold`; a plant-bound client sees only its plants' holds, and `plant=` naming another " +
      'plant is `403`.',
    scope: 'ops',
    parameters: [
      {
        name: 'status',
        in: 'query',
        description:
          '`active` (blocks its lots), `released`, or `dispositioned` (scrap or return: the lots stay blocked).',
        schema: { type: 'string', enum: ['active', 'released', 'dispositioned'] },
      },
      {
        name: 'plant',
        in: 'query',
        description: 'Plant code.',
        schema: { type: 'string', pattern: PLANT_CODE },
      },
      {
        name: 'after',
        in: 'query',
        description: 'The `next` of the previous page (a hold id).',
        schema: { type: 'string', maxLength: 256 },
      },
      param('limit'),
    ],
    responses: {
      '200': ok('A page of holds.', {
        type: 'object',
        required: ['items', 'next'],
        properties: {
          items: {
            type: 'array',
            items: {
              type: 'object',
              required: [
                'holdId',
                'plant',
                'material',
                'lots',
                'reason',
                'placedAt',
                'status',
                'disposition',
                'updatedAt',
              ],
              properties: {
                holdId: { type: 'string' },
                plant: { type: 'string' },
                material: { type: 'string' },
                lots: { type: 'array', items: { type: 'string' } },
                reason: { type: 'string' },
                placedAt: { type: 'string', format: 'date-time' },
                status: { type: 'string', enum: ['active', 'released', 'dispositioned'] },
                disposition: { type: ['string', 'null'] },
                updatedAt: { type: 'string', format: 'date-time' },
              },
            },
          },
          next: {
            type: ['string', 'null'],
            description: 'Pass as `after` to get the next page; `null` on the last page.',
          },
        },
      }),
    },
    problems: ['bad-request', 'forbidden'],
  },
  {
    method: 'GET',
    path: '/v1/reconciliation',
    operationId: 'getReconciliation',
    tag: 'ops',
    summary: 'Plant reports against what each system of record acknowledged',
    description:
      'Per order (the `data.orderId`, else the `subject`, of `production.*` events) and UTC day of the event ' +
      'time: what the plant reported (events by type, quantity totals) and, for every route receiving those ' +
      'events, how many were expected, delivered, pending, dead-lettered (`dlq`), rejected, discarded ' +
      '(`missing`) or filtered out, plus where configured (`reconciliation.systems`) what the system of record ' +
      'itself holds. `differences` lists each `missing`, `dlq`, `retrying` or `rejected` set (at most 20 ids). ' +
      '`format=csv` or `Accept: text/csv` answers a CSV download (every matching order unless `limit` is given). ' +
      "A plant-bound client sees only its plants' orders. A query that would read more than 200,000 events is " +
      'refused (`422 query-too-broad`). See docs/analytics.md.',
    scope: 'ops',
    parameters: [
      {
        name: 'day',
        in: 'query',
        description: 'The UTC day (required unless from/to).',
        schema: { type: 'string', format: 'date' },
        example: '2026-03-01',
      },
      {
        name: 'from',
        in: 'query',
        description: 'First UTC day of a range of at most 7 days.',
        schema: { type: 'string', format: 'date' },
      },
      {
        name: 'to',
        in: 'query',
        description: 'Last UTC day of the range (inclusive).',
        schema: { type: 'string', format: 'date' },
      },
      {
        name: 'plant',
        in: 'query',
        description: 'Plant code; a plant-bound client may name only its own.',
        schema: { type: 'string', pattern: PLANT_CODE },
      },
      { name: 'order', in: 'query', description: 'One order id.', schema: { type: 'string' } },
      { name: 'route', in: 'query', description: 'Only this route.', schema: { type: 'string' } },
      {
        name: 'difference',
        in: 'query',
        description: 'Only orders with any difference, with none, or with one of this kind.',
        schema: { type: 'string', enum: ['any', 'none', 'missing', 'dlq', 'retrying', 'rejected'] },
      },
      {
        name: 'format',
        in: 'query',
        description: 'json (default) or csv.',
        schema: { type: 'string', enum: ['json', 'csv'] },
      },
      {
        name: 'after',
        in: 'query',
        description: 'The `next` of the previous page.',
        schema: { type: 'string' },
      },
      param('limit'),
    ],
    responses: {
      '200': {
        description: 'A page of orders, or the CSV download (one row per order and route).',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['items', 'next'],
              properties: {
                items: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['day', 'plant', 'order', 'reported', 'systems', 'differences'],
                    properties: {
                      day: { type: 'string', format: 'date' },
                      plant: { type: 'string' },
                      order: { type: 'string' },
                      reported: { type: 'object', required: ['events', 'byType', 'totals'] },
                      systems: {
                        type: 'array',
                        items: {
                          type: 'object',
                          required: [
                            'route',
                            'sink',
                            'expected',
                            'delivered',
                            'pending',
                            'dlq',
                            'rejected',
                            'missing',
                            'filteredOut',
                          ],
                        },
                      },
                      differences: {
                        type: 'array',
                        items: { type: 'object', required: ['route', 'kind', 'count', 'eventIds'] },
                      },
                    },
                  },
                },
                next: { type: ['string', 'null'] },
              },
            },
          },
          'text/csv': { schema: { type: 'string' } },
        },
        headers: {
          'Content-Disposition': {
            description: 'For CSV: `attachment; filename="reconciliation-<day>.csv"`.',
            schema: { type: 'string' },
          },
        },
      },
    },
    problems: ['bad-request', 'forbidden', 'query-too-broad'],
  },
  {
    method: 'GET',
    path: '/v1/analytics/oee',
    operationId: 'getOee',
    tag: 'ops',
    summary: 'OEE per machine: availability, performance, quality',
    description:
      'Per machine (`plant`, `equipmentId`) over a window (default the last 8 h, at most 7 days), from ' +
      '`telemetry.machine.state` (run vs planned time), `maintenance.downtime.*` (planned downtime leaves the ' +
      'planned time; reasons), and the good/scrap counters of `telemetry.machine.counter` (cumulative: deltas, ' +
      'resets counted from 0). Performance needs the ideal rate (`analytics.idealRates`); without it performance ' +
      'and oee are null. `bucket` (e.g. 1h, at most 500 buckets) adds per-bucket figures. A plant-bound client ' +
      'sees only its plants. Needs `analytics:read` or `ops`. See docs/analytics.md.',
    scope: 'analytics:read',
    parameters: [
      {
        name: 'plant',
        in: 'query',
        description: 'Plant code; a plant-bound client may name only its own.',
        schema: { type: 'string', pattern: PLANT_CODE },
      },
      { name: 'equipment', in: 'query', description: 'One equipment id.', schema: { type: 'string' } },
      { name: 'from', in: 'query', description: 'RFC 3339 time or UTC day.', schema: { type: 'string' } },
      {
        name: 'to',
        in: 'query',
        description: 'RFC 3339 time or UTC day (default now).',
        schema: { type: 'string' },
      },
      {
        name: 'bucket',
        in: 'query',
        description: 'Bucket length, e.g. 15m or 1h.',
        schema: { type: 'string' },
      },
    ],
    responses: {
      '200': ok('The figures per machine.', {
        type: 'object',
        required: ['items'],
        properties: {
          items: {
            type: 'array',
            items: {
              type: 'object',
              required: [
                'plant',
                'equipmentId',
                'from',
                'to',
                'availability',
                'performance',
                'quality',
                'oee',
                'goodCount',
                'scrapCount',
                'runSeconds',
                'plannedSeconds',
                'downtimeSeconds',
                'idealRatePerMinute',
                'throughputPerHour',
              ],
              properties: {
                availability: { type: ['number', 'null'], minimum: 0, maximum: 1 },
                performance: { type: ['number', 'null'], minimum: 0, maximum: 1 },
                quality: { type: ['number', 'null'], minimum: 0, maximum: 1 },
                oee: { type: ['number', 'null'], minimum: 0, maximum: 1 },
                buckets: { type: 'array', items: { type: 'object' } },
              },
            },
          },
        },
      }),
    },
    problems: ['bad-request', 'forbidden', 'query-too-broad'],
  },
  {
    method: 'GET',
    path: '/v1/analytics/throughput',
    operationId: 'getThroughput',
    tag: 'ops',
    summary: 'Completed operations and quantities per plant and hour',
    description:
      'Per plant over a window (default the last 8 h, at most 7 days), from `production.operation.completed` ' +
      '(by `completedAt`): operations, operations per hour, good and scrap quantities per unit of measure, ' +
      'operations per work center, and with `bucket` the same per bucket. Needs `analytics:read` or `ops`.',
    scope: 'analytics:read',
    parameters: [
      {
        name: 'plant',
        in: 'query',
        description: 'Plant code; a plant-bound client may name only its own.',
        schema: { type: 'string', pattern: PLANT_CODE },
      },
      { name: 'from', in: 'query', description: 'RFC 3339 time or UTC day.', schema: { type: 'string' } },
      {
        name: 'to',
        in: 'query',
        description: 'RFC 3339 time or UTC day (default now).',
        schema: { type: 'string' },
      },
      { name: 'bucket', in: 'query', description: 'Bucket length, e.g. 1h.', schema: { type: 'string' } },
    ],
    responses: {
      '200': ok('The figures per plant.', {
        type: 'object',
        required: ['items'],
        properties: {
          items: {
            type: 'array',
            items: {
              type: 'object',
              required: ['plant', 'from', 'to', 'operations', 'operationsPerHour', 'quantities'],
            },
          },
        },
      }),
    },
    problems: ['bad-request', 'forbidden', 'query-too-broad'],
  },
  {
    method: 'GET',
    path: '/v1/connectors/{name}/dead-letters',
    operationId: 'listSourceDeadLetters',
    tag: 'ops',
    summary: "A source connector's dead letters",
    description:
      'Native messages the connector read but could not turn into valid canonical events (undecodable, ' +
      'unmapped, or invalid against the catalog), oldest first, with the reason, where they came from and ' +
      "the raw bytes (base64, at most 64 KiB). A plant-bound client sees only its plants' entries.",
    scope: 'ops',
    parameters: [
      {
        name: 'name',
        in: 'path',
        required: true,
        description: 'The connector name.',
        schema: { type: 'string' },
      },
      ...paging,
    ],
    responses: { '200': ok('One page.', { type: 'object', required: ['items', 'next'] }) },
    problems: ['forbidden', 'not-found', 'bad-request'],
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
  ...ADMIN_OPERATIONS,
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
    path: '/',
    operationId: 'getConsole',
    tag: 'ops',
    summary: 'The web console (web page)',
    description:
      'The operations console: live rates, business milestones and holds, the event explorer and traces, ' +
      'subscriptions, the dead-letter queue and the catalog. The page and its bundles (under `/assets/`) are ' +
      'public; it asks for an API key and sends it with every API call. Any other page path a browser asks for ' +
      '(`Accept: text/html`, outside `/v1`, `/docs`, `/metrics` and the probes) answers the same page. `503` ' +
      'until the console is built (`npm run build`).',
    scope: null,
    public: true,
    responses: {
      '200': { description: 'The console page.', content: { 'text/html': { schema: { type: 'string' } } } },
    },
    problems: ['unavailable'],
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
        'Every endpoint except the probes and this reference page needs `Authorization: Bearer <api key or ' +
        'JWT>`; each operation names the scope it needs in `x-required-scope` (`admin` holds every scope), and ' +
        'a client bound to plants acts only on those. Every authenticated call may answer `429 rate-limited` ' +
        'when the client is over its `rateLimit`. Every POST and DELETE takes an `Idempotency-Key`. Errors are ' +
        'RFC 9457 `application/problem+json` (see the `Problem` schema). Lists answer `{items, next}`; pass ' +
        '`after=<next>` for the next page.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: input.serverUrl ?? '/', description: 'The Conveyor hub.' }],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'events', description: 'CloudEvents ingress and queries over the log.' },
      {
        name: 'commands',
        description:
          'Governed commands: each checks its request (schema, plant, business rules, or a system of record), ' +
          'then publishes canonical events.',
      },
      { name: 'delivery', description: 'Subscriptions (routes), replay and the dead-letter queue.' },
      { name: 'catalog', description: 'Event types, schema versions and their life cycle, dependencies.' },
      { name: 'admin', description: 'Clients, their API keys, and the audit trail.' },
      { name: 'ops', description: 'Probes, metrics and the API reference.' },
    ],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: BEARER_AUTH,
        },
      },
      parameters: parameters(),
      headers: {
        'Retry-After': {
          description: 'Seconds to wait before retrying.',
          schema: { type: 'integer', minimum: 1 },
        },
        'Idempotent-Replayed': {
          description:
            'Set on a stored answer replayed for a repeated `Idempotency-Key`; the request did not run again.',
          schema: { type: 'string', const: 'true' },
        },
      },
      schemas: { ...fixedSchemas(input.schemas), ...commandSchemas(input.schemas), ...dataSchemas },
    },
  };
}

function operationObject(op: OperationSpec): Json {
  const scopeNote = op.public
    ? 'No credentials needed.'
    : op.scope === null
      ? 'Scope: any valid credential.'
      : `Scope: \`${op.scope}\`.`;
  const changesState = op.method !== 'GET';
  const problems: ErrorCode[] = [...op.problems];
  if (!op.public) problems.push('unauthorized', 'rate-limited');
  if (changesState) problems.push('bad-request', 'idempotency-key-reused', 'request-in-progress');
  problems.push('internal');
  const parameters = [...(op.parameters ?? []), ...(changesState ? [param('Idempotency-Key')] : [])];
  const responses: Json = {};
  for (const [status, response] of Object.entries(op.responses)) {
    const r = response as Json;
    responses[status] =
      changesState && status.startsWith('2')
        ? {
            ...r,
            headers: {
              ...(r.headers as Json | undefined),
              'Idempotent-Replayed': { $ref: componentRef('headers', 'Idempotent-Replayed') },
            },
          }
        : r;
  }
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    description: `${op.description}\n\n${scopeNote}`,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.requestBody ? { requestBody: op.requestBody } : {}),
    responses: { ...responses, ...problemResponses(problems) },
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
    ...(code === 'shipment-blocked-by-quality-hold'
      ? {
          holds: [
            {
              holdId: 'QH-2024-0117',
              lots: ['L24-0611-03'],
              reason: 'Burr on bore, customer complaint 4471',
              status: 'active',
            },
          ],
        }
      : {}),
    ...(code === 'refused-by-system-of-record'
      ? { upstream: { status: 409, body: { error: 'insufficient stock for STL-COIL-1.5' } } }
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
    clientName: {
      name: 'name',
      in: 'path',
      required: true,
      description: 'The client name.',
      schema: { type: 'string', pattern: CLIENT_NAME },
    },
    orderId: {
      name: 'orderId',
      in: 'path',
      required: true,
      description: 'The production order id (the `orderId` of the event).',
      schema: { type: 'string', minLength: 1, maxLength: 128 },
      example: '100004711',
    },
    holdId: {
      name: 'holdId',
      in: 'path',
      required: true,
      description: 'The quality hold id.',
      schema: { type: 'string', minLength: 1, maxLength: 128 },
      example: 'QH-2024-0117',
    },
    shipmentId: {
      name: 'shipmentId',
      in: 'path',
      required: true,
      description: 'The shipment (outbound delivery) id.',
      schema: { type: 'string', minLength: 1, maxLength: 128 },
      example: '80012345',
    },
    supplierId: {
      name: 'supplierId',
      in: 'path',
      required: true,
      description: 'An onboarded supplier id.',
      schema: { type: 'string', pattern: SUPPLIER_ID },
      example: 'V-20417',
    },
    'Idempotency-Key': {
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'Makes the call safe to retry. Keys are per client; for 24 h the first 2xx answer to a key is stored ' +
        'and replayed, with `Idempotent-Replayed: true`, to a request with the same method, path, query, ' +
        'content type and body. The same key with a different request is `409 idempotency-key-reused`; while ' +
        'the first request runs, `409 request-in-progress` with `Retry-After` the wait until its claim could be taken ' +
        'over (a claim whose hub process died is taken over at once). Answers other than 2xx are not stored, so a ' +
        'refused request can be fixed and sent again with the same key. Commands derive their event ids from ' +
        'the key, so even a retry after 24 h is de-duplicated by the log (while it holds the events). A key that is not 1 to 255 ' +
        'printable ASCII characters is `400 bad-request`.',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7e]{1,255}$' },
      example: '2d9f4c1e-8b7a-4f0e-9c35-6a1b7e0d5f42',
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
        holds: {
          type: 'array',
          description: '`shipment-blocked-by-quality-hold`: each hold blocking the shipment.',
          items: {
            type: 'object',
            required: ['holdId', 'lots', 'reason', 'status'],
            properties: {
              holdId: { type: 'string' },
              lots: { type: 'array', items: { type: 'string' }, description: 'The shipped lots it holds.' },
              reason: { type: 'string' },
              status: { type: 'string', enum: ['active', 'dispositioned'] },
              disposition: {
                type: 'string',
                description: 'Set once dispositioned (`scrap`, `return-to-supplier`).',
              },
            },
          },
        },
        upstream: {
          type: 'object',
          description:
            '`refused-by-system-of-record`: the status and answer of the system of record (for a `503` after a ' +
            '2xx lacking what the hub needs: the command and the status).',
          properties: { status: { type: 'integer' }, body: {}, system: { type: 'string' } },
        },
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
        id: {
          type: ['string', 'null'],
          description:
            "The event's `id`; `null` for a rejected event whose `id` was missing or not a string.",
        },
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
        state: { type: 'string', enum: ['running', 'stopped', 'replaying', 'standby'] },
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

/**
 * A command's request body: the data schema of the event it publishes, field by field, each a
 * reference into that schema, so the document shows exactly what the hub checks (the latest approved
 * version). `omit` are the fields the hub sets itself; `optional` those it fills in when left out.
 */
function commandBody(
  dataSchemas: ReadonlyMap<string, object>,
  type: string,
  spec: {
    readonly description: string;
    readonly omit?: readonly string[];
    readonly optional?: readonly string[];
    readonly properties?: Json;
  },
): Json {
  const schema = dataSchemas.get(type) as { properties?: Json; required?: string[] } | undefined;
  const omit = new Set(spec.omit ?? []);
  const optional = new Set(spec.optional ?? []);
  const properties: Json = {};
  for (const field of Object.keys(schema?.properties ?? {})) {
    if (!omit.has(field))
      properties[field] = { $ref: `${componentRef('schemas', type)}/properties/${escapePointer(field)}` };
  }
  Object.assign(properties, spec.properties);
  const required = (schema?.required ?? []).filter((field) => !omit.has(field) && !optional.has(field));
  return {
    type: 'object',
    description: schema
      ? `${spec.description} Other fields are kept in the event data.`
      : `${spec.description} (The catalog has no \`${type}\` schema, so every such command is refused.)`,
    ...(required.length > 0 ? { required } : {}),
    properties,
  };
}

/** The request and answer shapes of the commands and of the admin calls. */
function commandSchemas(dataSchemas: ReadonlyMap<string, object>): Json {
  const events = {
    type: 'array',
    items: ref('PublishedEvent'),
    description: 'The events the command published, in log order.',
  };
  const time = { type: 'string', format: 'date-time' };
  return {
    ProductionOrderReleaseRequest: commandBody(dataSchemas, 'production.order.released', {
      description:
        'The `production.order.released` data without `routing` and `bom`, which the hub adds from ' +
        "`referenceData.routings` and refuses in the body. `orderId` may be left out: it is the path's.",
      omit: ['routing', 'bom'],
      optional: ['orderId'],
    }),
    MaterialConsumptionRequest: commandBody(dataSchemas, 'production.material.consumed', {
      description:
        'The `production.material.consumed` data; `consumedAt` defaults to the time of the request.',
      optional: ['consumedAt'],
    }),
    QualityHoldRequest: commandBody(dataSchemas, 'quality.hold.placed', {
      description:
        'The `quality.hold.placed` data. `holdId` is generated when left out, `placedAt` defaults to the time ' +
        'of the request, and `status` is refused.',
      optional: ['holdId', 'placedAt'],
    }),
    QualityDispositionRequest: commandBody(dataSchemas, 'quality.disposition.decided', {
      description:
        "The `quality.disposition.decided` data. `holdId` and `plant` are the hold's and may be left out; " +
        '`decidedAt` defaults to the time of the request.',
      optional: ['holdId', 'plant', 'decidedAt'],
    }),
    InventoryReservationRequest: commandBody(dataSchemas, 'inventory.reservation.created', {
      description:
        'The `inventory.reservation.created` data without `reservationId`, which the WMS assigns; a body ' +
        'setting it is refused. The WMS receives this body as it is.',
      omit: ['reservationId'],
    }),
    ShipmentConfirmationRequest: commandBody(dataSchemas, 'logistics.shipment.confirmed', {
      description:
        "The `logistics.shipment.confirmed` data. `shipmentId` is the path's and may be left out; `shippedAt` " +
        'defaults to the time of the request.',
      optional: ['shipmentId', 'shippedAt'],
    }),
    SupplierOnboardingRequest: commandBody(dataSchemas, 'supplier.onboarded', {
      description: 'The `supplier.onboarded` data. Repeated plants count once.',
      properties: {
        supplierId: {
          type: 'string',
          pattern: SUPPLIER_ID,
          description: 'The supplier id: letters, digits, `.`, `_` or `-`, at most 64 characters.',
          examples: ['V-20417'],
        },
      },
    }),
    AsnRequest: commandBody(dataSchemas, 'supplier.asn.received', {
      description: "The `supplier.asn.received` data. `supplierId` is the path's and may be left out.",
      optional: ['supplierId'],
    }),
    PublishedEvent: {
      type: 'object',
      required: ['id', 'type', 'subject', 'sequence'],
      properties: {
        id: {
          type: 'string',
          description:
            'The event id (its `source` is `/clients/<client>`). Derived from the `Idempotency-Key` when one was sent.',
        },
        type: { type: 'string' },
        subject: { type: 'string' },
        sequence: { type: 'integer', minimum: 1, description: "The event's log position." },
      },
    },
    CommandAccepted: { type: 'object', required: ['events'], properties: { events } },
    ProductionOrderReleaseAccepted: {
      type: 'object',
      required: ['orderId', 'events'],
      properties: { orderId: { type: 'string' }, events },
    },
    QualityHoldAccepted: {
      type: 'object',
      required: ['holdId', 'events'],
      properties: { holdId: { type: 'string' }, events },
    },
    SystemOfRecordAccepted: {
      type: 'object',
      required: ['result', 'events'],
      properties: {
        result: {
          description:
            "The system of record's answer as it sent it: its JSON, `{text}` when it was not JSON, `null` when empty.",
        },
        events,
      },
    },
    SupplierOnboardingResult: {
      type: 'object',
      required: ['supplierId', 'name', 'plants', 'credential', 'events'],
      properties: {
        supplierId: { type: 'string' },
        name: { type: 'string' },
        plants: { type: 'array', items: { type: 'string' } },
        credential: {
          type: 'object',
          description:
            "The supplier's own credential: it may send only this supplier's ASNs, for its plants.",
          required: ['client', 'key', 'scopes'],
          properties: {
            client: { type: 'string', description: '`supplier-<supplierId>`.' },
            key: {
              type: ['string', 'null'],
              description:
                'The API key, shown only in the first answer; `null` in a replay under the same `Idempotency-Key` (the hub never keeps it in the clear).',
            },
            scopes: { type: 'array', items: { type: 'string', const: 'commands:supplier-asn' } },
            note: { type: 'string', description: 'In a replay: why `key` is `null`.' },
          },
        },
        result: { description: "The supplier master's answer, when one is configured." },
        events,
      },
    },
    AsnAccepted: {
      type: 'object',
      required: ['supplierId', 'events'],
      properties: {
        supplierId: { type: 'string' },
        events,
        warnings: {
          type: 'array',
          items: { type: 'string' },
          description: 'What the EDI mapping skipped or assumed; absent when nothing.',
        },
      },
    },
    RateLimit: {
      type: 'object',
      required: ['perSecond'],
      properties: {
        perSecond: { type: 'number', exclusiveMinimum: 0, description: 'Requests per second, sustained.' },
        burst: {
          type: 'integer',
          minimum: 1,
          description: 'Requests at once; default twice `perSecond`, rounded up.',
        },
      },
    },
    Client: {
      type: 'object',
      required: ['name', 'scopes', 'plants', 'rateLimit', 'supplierId', 'createdAt', 'revokedAt'],
      properties: {
        name: { type: 'string' },
        scopes: { type: 'array', items: { type: 'string' } },
        plants: { type: ['array', 'null'], items: { type: 'string' }, description: '`null`: every plant.' },
        rateLimit: { oneOf: [ref('RateLimit'), { type: 'null' }] },
        supplierId: {
          type: ['string', 'null'],
          description: "Set for a supplier's credential: it acts only on that supplier's ASNs.",
        },
        createdAt: time,
        revokedAt: { type: ['string', 'null'], format: 'date-time' },
      },
    },
    ClientPage: listOf('Client'),
    CreateClientRequest: {
      type: 'object',
      required: ['name', 'scopes'],
      properties: {
        name: {
          type: 'string',
          pattern: CLIENT_NAME,
          description: 'Letters, digits, `.`, `_` or `-`, at most 64 characters.',
        },
        scopes: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'string',
            pattern:
              '^(admin|ops|catalog:write|catalog:approve|events:(publish|read):[a-z][a-z0-9-]*|commands:[a-z][a-z0-9-]*)$',
          },
          description:
            '`admin`, `ops`, `catalog:write`, `catalog:approve`, `events:publish:<domain>`, ' +
            '`events:read:<domain>` or `commands:<name>`. Repeats count once.',
        },
        plants: {
          type: ['array', 'null'],
          minItems: 1,
          items: { type: 'string', pattern: PLANT_CODE },
          description: 'The plants the client may act for; left out or `null`: every plant.',
        },
        rateLimit: {
          oneOf: [ref('RateLimit'), { type: 'null' }],
          description: 'Left out or `null`: no limit.',
        },
      },
    },
    CreatedClient: {
      type: 'object',
      required: ['name', 'key'],
      properties: {
        name: { type: 'string' },
        key: {
          type: ['string', 'null'],
          description:
            'The API key, shown only in the first answer (the hub keeps its hash); `null` in a replay under the same `Idempotency-Key`.',
        },
        note: { type: 'string', description: 'In a replay: why `key` is `null`.' },
      },
    },
    RevokedClient: {
      type: 'object',
      required: ['name', 'status'],
      properties: { name: { type: 'string' }, status: { type: 'string', const: 'revoked' } },
    },
    AuditEntry: {
      type: 'object',
      required: ['position', 'at', 'actor', 'action', 'target', 'outcome'],
      properties: {
        position: { type: 'integer', minimum: 1 },
        at: time,
        actor: { type: 'string', description: 'The client; `anonymous` when no credential was valid.' },
        action: {
          type: 'string',
          examples: ['client.create', 'schema.approve', 'dlq.replay', 'request.denied'],
        },
        target: {
          type: 'string',
          description: 'What was acted on, e.g. a client name, `<type>:<version>`, or `<METHOD> <path>`.',
        },
        outcome: { type: 'string', examples: ['done', 'accepted', 'refused', 'denied'] },
        ip: { type: 'string', description: 'The address the request came from.' },
        detail: {
          type: 'object',
          description: 'Action-specific details, e.g. the status of a denied request.',
        },
      },
    },
    AuditPage: listOf('AuditEntry'),
    Trace: {
      type: 'object',
      required: ['subject', 'items', 'truncated'],
      properties: {
        subject: { type: 'string' },
        items: {
          type: 'array',
          items: {
            type: 'object',
            required: ['event', 'deliveries'],
            properties: {
              event: ref('StoredCloudEvent'),
              deliveries: {
                type: 'array',
                description: 'One entry per route whose types match the event.',
                items: {
                  type: 'object',
                  required: ['route', 'sink', 'state'],
                  properties: {
                    route: { type: 'string' },
                    sink: { type: 'string', description: 'The connector.' },
                    state: { type: 'string', enum: ['pending', 'done', 'dead-lettered', 'filtered-out'] },
                    deadLetter: {
                      type: 'object',
                      required: ['id', 'reason', 'status'],
                      properties: {
                        id: { type: 'string' },
                        reason: ref('DeadLetterReason'),
                        status: ref('DeadLetterStatus'),
                      },
                    },
                  },
                },
              },
            },
          },
        },
        truncated: {
          type: 'boolean',
          description: 'More than 1,000 events have this subject; the first are shown.',
        },
      },
    },
  };
}
