/**
 * Canonical production data to B2MML V0600: released orders become a `SyncProductionSchedule`,
 * completions, consumptions and scrap become a `SyncProductionPerformance`. The documents follow the
 * element order of the V0600 schemas and read back through `b2mmlToCanonical` to the same data.
 *
 * Layout chosen so that reading back is unambiguous:
 * - Schedule: per order a `ProductionRequest` with the plant as `HierarchyScope` at `Site` level, the
 *   due date as `EndTime` (a calendar date as a zone-less midnight), a first `SegmentRequirement` without
 *   an ID holding the `MaterialProducedRequirement` and the `MaterialConsumedRequirement`s (the BOM), then
 *   one `SegmentRequirement` per routing step with its work center as `EquipmentRequirement`.
 * - Performance: per order a `ProductionResponse`. Each operation is a `SegmentResponse` (with the
 *   consumptions dated at its end); other consumptions are grouped into `SegmentResponse`s by time; scrap
 *   reports are `MaterialActual`s with `MaterialUse` Other / Scrap and a ReasonCode property. A completed
 *   order gets `ResponseState` Completed, its `EndTime`, and one top-level `SegmentResponse` carrying its
 *   good and scrap totals (`MaterialProducedActual`, scrap flagged by a Scrap property) with every other
 *   segment response nested inside, so they are not counted into the totals again.
 *
 * Optional fields beyond those the canonical schemas define have no place in these documents and are
 * not written.
 */
import { XMLBuilder } from 'fast-xml-parser';
import type { CanonicalDataV1, ProductionOrderReleasedData } from '../model/schemas/index.js';
import { createDataValidator, type DataValidator } from '../model/schemas/validator.js';
import { B2mmlError } from './b2mml-error.js';
import { B2MML_NAMESPACES } from './parse.js';

/** Event types that go into a production performance document. */
export const PERFORMANCE_EVENT_TYPES = [
  'production.operation.completed',
  'production.material.consumed',
  'production.scrap.reported',
  'production.order.completed',
] as const;

/** An event type that goes into a production performance document. */
export type PerformanceEventType = (typeof PERFORMANCE_EVENT_TYPES)[number];

/** A canonical event for a production performance: its type and data (other members are ignored). */
export type PerformanceEvent = {
  [T in PerformanceEventType]: { readonly type: T; readonly data: CanonicalDataV1[T] };
}[PerformanceEventType];

/** Transaction header values of a generated document. */
export interface B2mmlWriteOptions {
  /**
   * `ApplicationArea/CreationDateTime`.
   * @default the current time
   */
  readonly creationDateTime?: string;
  /**
   * `ApplicationArea/Sender/LogicalID`: the system the document comes from.
   * @default 'conveyor'
   */
  readonly sender?: string;
  /** `ApplicationArea/BODID`: an id for the document, for the receiver to de-duplicate. */
  readonly bodId?: string;
}

// Nodes for the builder: element content in schema order; `@_` attributes; arrays repeat an element.
type Node = string | { [name: string]: Node | Node[] | undefined };

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: true,
});

let sharedValidator: DataValidator | undefined;

function check(type: string, data: unknown, where: string): void {
  sharedValidator ??= createDataValidator();
  const problems = sharedValidator.validate(type, 1, data);
  if (problems.length > 0) {
    throw new B2mmlError(
      'invalid-canonical-data',
      `${where} is not valid ${type} data: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
    );
  }
}

/**
 * Builds a B2MML V0600 `SyncProductionSchedule` with one `ProductionRequest` per order.
 *
 * @throws B2mmlError `invalid-canonical-data` when an order is not valid `production.order.released` data.
 */
export function productionScheduleXml(
  orders: readonly ProductionOrderReleasedData[],
  options: B2mmlWriteOptions = {},
): string {
  orders.forEach((order, i) => {
    check('production.order.released', order, `order ${i + 1}`);
  });
  const requests = orders.map((order): Node => {
    const materials: Node = {
      MaterialProducedRequirement: [
        { MaterialDefinitionID: order.material, Quantity: quantity(order.quantity) },
      ],
      MaterialConsumedRequirement: (order.bom ?? []).map((line) => ({
        MaterialDefinitionID: line.material,
        Quantity: quantity(line.quantity),
      })),
    };
    const steps = (order.routing ?? []).map(
      (step): Node => ({
        ID: step.operation,
        ProcessSegmentID: step.operation,
        EquipmentRequirement: [{ EquipmentID: step.workCenter }],
      }),
    );
    return {
      ID: order.orderId,
      HierarchyScope: site(order.plant),
      EndTime: /^\d{4}-\d{2}-\d{2}$/.test(order.dueDate)
        ? `${order.dueDate}T00:00:00`
        : xsdDateTime(order.dueDate),
      SegmentRequirement: [materials, ...steps],
    };
  });
  return transaction(
    'SyncProductionSchedule',
    'ProductionSchedule',
    { ProductionRequest: requests },
    options,
  );
}

/**
 * Builds a B2MML V0600 `SyncProductionPerformance` with one `ProductionResponse` per order (and plant).
 *
 * @throws B2mmlError `invalid-canonical-data` when an event is of another type, its data is not valid, or
 *   an order is completed twice.
 */
export function productionPerformanceXml(
  events: readonly PerformanceEvent[],
  options: B2mmlWriteOptions = {},
): string {
  const orders = new Map<string, OrderEvents>();
  events.forEach((event, i) => {
    const where = `event ${i + 1}`;
    if (!(PERFORMANCE_EVENT_TYPES as readonly string[]).includes(event.type)) {
      throw new B2mmlError(
        'invalid-canonical-data',
        `${where} is a ${String(event.type)}, which has no place in a production performance ` +
          `(expected ${PERFORMANCE_EVENT_TYPES.join(', ')})`,
      );
    }
    check(event.type, event.data, where);
    const { orderId, plant } = event.data;
    const key = JSON.stringify([orderId, plant]);
    let order = orders.get(key);
    if (order === undefined) {
      order = { orderId, plant, operations: [], consumptions: [], scrap: [] };
      orders.set(key, order);
    }
    switch (event.type) {
      case 'production.operation.completed':
        order.operations.push(event.data);
        break;
      case 'production.material.consumed':
        order.consumptions.push(event.data);
        break;
      case 'production.scrap.reported':
        order.scrap.push(event.data);
        break;
      case 'production.order.completed':
        if (order.completion !== undefined) {
          throw new B2mmlError(
            'invalid-canonical-data',
            `${where} completes order ${orderId} in plant ${plant} a second time; send one completion per order`,
          );
        }
        order.completion = event.data;
        break;
    }
  });
  const responses = [...orders.values()].map(productionResponse);
  return transaction(
    'SyncProductionPerformance',
    'ProductionPerformance',
    { ProductionResponse: responses },
    options,
  );
}

interface OrderEvents {
  readonly orderId: string;
  readonly plant: string;
  readonly operations: CanonicalDataV1['production.operation.completed'][];
  readonly consumptions: CanonicalDataV1['production.material.consumed'][];
  readonly scrap: CanonicalDataV1['production.scrap.reported'][];
  completion?: CanonicalDataV1['production.order.completed'];
}

function productionResponse(order: OrderEvents): Node {
  const pending = [...order.consumptions];
  // Consumptions dated at an operation's end are reported with that operation.
  const takeConsumptions = (at: string): Node[] => {
    const taken = pending.filter((c) => c.consumedAt === at);
    for (const c of taken) pending.splice(pending.indexOf(c), 1);
    return taken.map(consumedActual);
  };
  const segments: Node[] = order.operations.map((op) => ({
    ProcessSegmentID: [op.operation],
    ActualEndTime: xsdDateTime(op.completedAt),
    EquipmentActual: [{ EquipmentID: [op.workCenter] }],
    MaterialProducedActual: [{ Quantity: quantity(op.quantityGood) }],
    MaterialConsumedActual: takeConsumptions(op.completedAt),
    SegmentState: 'Completed',
  }));
  const times = [...new Set(pending.map((c) => c.consumedAt))];
  for (const at of times) {
    segments.push({ ActualEndTime: xsdDateTime(at), MaterialConsumedActual: takeConsumptions(at) });
  }
  if (order.scrap.length > 0) {
    segments.push({
      MaterialActual: order.scrap.map((s) => ({
        MaterialDefinitionID: [s.material],
        MaterialUse: { '@_OtherValue': 'Scrap', '#text': 'Other' },
        Quantity: quantity(s.quantity),
        MaterialActualProperty: [property('ReasonCode', s.reasonCode)],
      })),
    });
  }
  const completion = order.completion;
  const top: Node[] =
    completion === undefined
      ? segments
      : [
          {
            MaterialProducedActual: [
              { Quantity: quantity(completion.quantityGood) },
              {
                Quantity: quantity(completion.quantityScrap),
                MaterialProducedActualProperty: [property('Scrap', 'true')],
              },
            ],
            SegmentResponse: segments,
          },
        ];
  return {
    ID: order.orderId,
    ProductionRequestID: order.orderId,
    HierarchyScope: site(order.plant),
    EndTime: completion === undefined ? undefined : xsdDateTime(completion.completedAt),
    SegmentResponse: top,
    ResponseState: completion === undefined ? undefined : 'Completed',
  };
}

function consumedActual(c: CanonicalDataV1['production.material.consumed']): Node {
  return {
    MaterialDefinitionID: [c.material],
    MaterialLotID: c.lot === undefined ? undefined : [c.lot],
    Quantity: quantity(c.quantity),
  };
}

/** RFC 3339 allows a lower-case `t`/`z` and a space before the time; `xsd:dateTime` does not. */
function xsdDateTime(value: string): string {
  return value.replace(/^(\d{4}-\d{2}-\d{2})[tT ]/, '$1T').replace(/z$/, 'Z');
}

function quantity(q: { value: number; uom: string }): Node[] {
  return [{ QuantityString: String(q.value), DataType: 'decimal', UnitOfMeasure: q.uom }];
}

function site(plant: string): Node {
  return { EquipmentID: plant, EquipmentElementLevel: 'Site' };
}

function property(id: string, value: string): Node {
  return { ID: id, Value: [{ ValueString: value, DataType: 'string' }] };
}

function transaction(root: string, noun: string, content: Node, options: B2mmlWriteOptions): string {
  const applicationArea: Node = {
    Sender: { LogicalID: options.sender ?? 'conveyor' },
    CreationDateTime: options.creationDateTime ?? new Date().toISOString(),
    BODID: options.bodId,
  };
  const tree = {
    [root]: {
      '@_xmlns': B2MML_NAMESPACES.V0600,
      '@_releaseID': 'V0600',
      ApplicationArea: applicationArea,
      DataArea: { Sync: '', [noun]: content },
    },
  };
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build(prune(tree))}`;
}

/** Whether a string holds a character XML 1.0 cannot carry at all, even escaped. */
function hasNonXmlCharacter(value: string): boolean {
  // Iterating a string yields code points; a lone surrogate comes out on its own.
  for (const char of value) {
    const c = char.codePointAt(0) ?? 0;
    if (c < 0x20 && c !== 0x9 && c !== 0xa && c !== 0xd) return true;
    if (c === 0xfffe || c === 0xffff || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}

/** Drops undefined members and empty arrays, so optional elements are simply absent. */
function prune(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(prune);
  if (typeof node === 'string' && hasNonXmlCharacter(node)) {
    throw new B2mmlError(
      'invalid-canonical-data',
      `The value ${JSON.stringify(node)} holds a control character that XML cannot carry`,
    );
  }
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    out[key] = prune(value);
  }
  return out;
}
