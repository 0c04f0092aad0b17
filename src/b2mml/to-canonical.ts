/**
 * B2MML production documents to canonical production events.
 *
 * - A `ProductionSchedule` gives one `production.order.released` per `ProductionRequest`.
 * - A `ProductionPerformance` gives, per `ProductionResponse`, one `production.operation.completed` per
 *   completed `SegmentResponse`, one `production.material.consumed` per consumed material actual, one
 *   `production.scrap.reported` per scrap actual that names its reason, and a `production.order.completed`
 *   when the response is complete.
 *
 * Every element of the document is either mapped or named in a warning: the mapper reads through an
 * {@link ElementReader} that remembers what was used, and whatever nobody used is reported at the end.
 * Every event returned is valid against its canonical schema; an event that would not be is reported
 * as a warning instead.
 */
import { PLANT_CODE_PATTERN } from '../model/schemas/building-blocks.js';
import type { CanonicalDataV1 } from '../model/schemas/index.js';
import { createDataValidator, type DataValidator } from '../model/schemas/validator.js';
import { B2mmlError } from './b2mml-error.js';
import { describeUnmapped, ElementReader } from './element-reader.js';
import { type B2mmlDocument, type B2mmlVersion, parseB2mml } from './parse.js';
import {
  properties,
  type Quantity,
  type Read,
  readDateTime,
  readDueDate,
  readFirstQuantity,
  readScope,
  siteOf,
  type TimeContext,
  useProperty,
  workCenterOf,
} from './values.js';

/** The canonical event types a B2MML document can describe. */
export const PRODUCTION_EVENT_TYPES = [
  'production.order.released',
  'production.operation.completed',
  'production.order.completed',
  'production.material.consumed',
  'production.scrap.reported',
] as const;

/** A canonical event type a B2MML document can describe. */
export type ProductionEventType = (typeof PRODUCTION_EVENT_TYPES)[number];

/** A canonical production event: its type, its data and its subject (the order id). */
export type ProductionEvent = {
  [T in ProductionEventType]: {
    readonly type: T;
    readonly data: CanonicalDataV1[T];
    readonly subject: string;
  };
}[ProductionEventType];

/** Options of {@link b2mmlToCanonical}. */
export interface B2mmlToCanonicalOptions {
  /**
   * The plant of requests and responses whose hierarchy (`HierarchyScope` / `Location`) names no
   * equipment at the `Site` level. A site the document names wins over it.
   */
  readonly plant?: string;
  /**
   * The sender's UTC offset (`Z` or `±HH:MM`) for times written without one. Without it such times
   * are read as UTC, and a warning says so.
   */
  readonly utcOffset?: string;
}

/** What the transaction header (`ApplicationArea`) and root element say about the document. */
export interface B2mmlHeader {
  readonly version: B2mmlVersion;
  /** Local name of the root element, e.g. `SyncProductionPerformance`. */
  readonly transaction: string;
  /** The transaction verb; absent for a bare `ProductionSchedule` / `ProductionPerformance`. */
  readonly verb?: 'Sync' | 'Process';
  readonly noun: 'ProductionSchedule' | 'ProductionPerformance';
  /** `ApplicationArea/Sender/LogicalID`: the sending system. */
  readonly sender?: string;
  /** `ApplicationArea/CreationDateTime` as written. */
  readonly creationDateTime?: string;
  /** `ApplicationArea/BODID`: the sender's id of this document. */
  readonly bodId?: string;
}

/** The result of mapping one document. */
export interface B2mmlMapping {
  readonly header: B2mmlHeader;
  /** The events, in document order. */
  readonly events: ProductionEvent[];
  /** One sentence per element or value that was not mapped, or per assumption made, starting with where. */
  readonly warnings: string[];
}

const VERBS = ['Get', 'Show', 'Process', 'Acknowledge', 'Change', 'Respond', 'Cancel', 'Sync'] as const;
const NOUNS = ['ProductionSchedule', 'ProductionPerformance'] as const;
const MAPPED_VERBS = new Set(['Sync', 'Process']);

/**
 * A produced actual is scrap when its `MaterialUse` is `Other` with an `OtherValue` of Scrap or Reject
 * (B2MML has no scrap code of its own), or when it carries a property named Scrap / Reject whose value is
 * true, 1 or yes. The reason of a scrap actual is its property named ReasonCode, ScrapReason or Reason.
 */
const SCRAP_WORD = /^(scrap|scrapped|reject|rejected)$/i;
const TRUE_WORD = /^(true|1|yes|y)$/i;
const REASON_PROPERTY = /^(reasoncode|scrapreason|scrapreasoncode|reason)$/i;

let sharedValidator: DataValidator | undefined;

/** The validator every mapped event passes through, compiled once. */
function validator(): DataValidator {
  sharedValidator ??= createDataValidator();
  return sharedValidator;
}

/**
 * Maps a B2MML production schedule or production performance to canonical production events.
 *
 * @param input - The document (text or bytes), or one already read by `parseB2mml`.
 * @throws B2mmlError for input that cannot be read (see `parseB2mml`), `unsupported-document` for B2MML
 *   other than a production schedule or performance, `unsupported-verb` for Get/Show/Change/Cancel/
 *   Acknowledge/Respond transactions (and Sync with a Delete action), `missing-data-area` for a
 *   transaction without its noun.
 */
export function b2mmlToCanonical(
  input: string | Uint8Array | B2mmlDocument,
  options: B2mmlToCanonicalOptions = {},
): B2mmlMapping {
  if (options.utcOffset !== undefined && !/^(Z|[+-]\d{2}:\d{2})$/.test(options.utcOffset)) {
    throw new RangeError(`utcOffset must be "Z" or "±HH:MM", not ${JSON.stringify(options.utcOffset)}`);
  }
  if (options.plant !== undefined && !new RegExp(PLANT_CODE_PATTERN).test(options.plant)) {
    throw new RangeError(`plant must match ${PLANT_CODE_PATTERN}, not ${JSON.stringify(options.plant)}`);
  }
  const document = typeof input === 'string' || input instanceof Uint8Array ? parseB2mml(input) : input;
  const { verb, noun } = splitRoot(document.root);
  const root = new ElementReader(document.element, `/${document.root}`);

  let header: B2mmlHeader = { version: document.version, transaction: document.root, noun };
  let nouns: ElementReader[];
  if (verb === undefined) {
    nouns = [root];
  } else {
    const applicationArea = root.one('ApplicationArea');
    if (applicationArea) {
      // The transport header goes to `header`, not to events; none of it is business data.
      const sender = applicationArea.one('Sender')?.peekText('LogicalID');
      const creationDateTime = applicationArea.peekText('CreationDateTime');
      const bodId = applicationArea.peekText('BODID');
      header = {
        ...header,
        verb,
        ...(sender !== undefined ? { sender } : {}),
        ...(creationDateTime !== undefined ? { creationDateTime } : {}),
        ...(bodId !== undefined ? { bodId } : {}),
      };
      applicationArea.settle();
    } else {
      header = { ...header, verb };
    }
    const dataArea = root.one('DataArea');
    const verbElement = dataArea?.one(verb);
    if (verbElement) refuseDeleteActions(verbElement, document.root);
    nouns = dataArea?.all(noun) ?? [];
    if (nouns.length === 0) {
      throw new B2mmlError(
        'missing-data-area',
        `The ${document.root} transaction has no DataArea/${noun}; there is nothing to map.`,
      );
    }
  }

  const mapping = new Mapper(options, header.creationDateTime);
  for (const element of nouns) {
    if (noun === 'ProductionSchedule') mapSchedule(element, mapping);
    else mapPerformance(element, mapping);
  }
  for (const item of root.unmapped()) mapping.warn(describeUnmapped(item));
  mapping.finish();
  return { header, events: mapping.events, warnings: mapping.warnings };
}

function splitRoot(root: string): { verb?: 'Sync' | 'Process'; noun: (typeof NOUNS)[number] } {
  for (const noun of NOUNS) {
    if (root === noun) return { noun };
    const verb = root.endsWith(noun) ? root.slice(0, -noun.length) : undefined;
    if (verb !== undefined && (VERBS as readonly string[]).includes(verb)) {
      if (!MAPPED_VERBS.has(verb)) {
        throw new B2mmlError(
          'unsupported-verb',
          `${root} is a ${verb} transaction, which does not report a released order or production that ` +
            `happened; only Sync${noun} and Process${noun} (or a bare ${noun}) become production events.`,
        );
      }
      return { verb: verb as 'Sync' | 'Process', noun };
    }
  }
  throw new B2mmlError(
    'unsupported-document',
    `The document is a B2MML <${root}>; only production schedules and production performances (for example ` +
      'SyncProductionSchedule or SyncProductionPerformance) describe production events.',
  );
}

/** OAGIS action criteria can turn a Sync into a delete, which must not become "released" or "completed". */
function refuseDeleteActions(verb: ElementReader, root: string): void {
  for (const criteria of verb.all('ActionCriteria')) {
    for (const expression of criteria.all('ActionExpression')) {
      const code = expression.attribute('actionCode');
      if (code !== undefined && /^delete$/i.test(code)) {
        throw new B2mmlError(
          'unsupported-verb',
          `${root} carries an ActionExpression with actionCode Delete; deletions do not become production events.`,
        );
      }
    }
  }
  // The remaining action criteria (Add, Change, Replace) only say how to apply the data.
  verb.settle();
}

/** Collects events and warnings, and knows how to read times for one document. */
class Mapper {
  readonly events: ProductionEvent[] = [];
  readonly warnings: string[] = [];
  readonly time: TimeContext;
  readonly #zoneless: string[] = [];

  constructor(
    readonly options: B2mmlToCanonicalOptions,
    readonly creationDateTime: string | undefined,
  ) {
    this.time = {
      ...(options.utcOffset !== undefined ? { utcOffset: options.utcOffset } : {}),
      onMissingOffset: (text) => this.#zoneless.push(text),
    };
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  /** Reads a date-time; a value that is not one is warned about and comes back undefined. */
  dateTime(text: string | undefined, where: string, what: string): string | undefined {
    if (text === undefined) return undefined;
    const read = readDateTime(text, this.time);
    if (read.ok) return read.value;
    this.warn(`${where}: ${what} not mapped: ${read.problem}`);
    return undefined;
  }

  /** The document's CreationDateTime as a canonical date-time, when it has a usable one. */
  creationTime(): string | undefined {
    if (this.creationDateTime === undefined) return undefined;
    const read = readDateTime(this.creationDateTime, this.time);
    return read.ok ? read.value : undefined;
  }

  /** Adds an event if its data is valid for its type; otherwise says why it was left out. */
  emit<T extends ProductionEventType>(type: T, data: CanonicalDataV1[T], where: string): boolean {
    const problems = validator().validate(type, 1, data);
    if (problems.length > 0) {
      const detail = problems.map((p) => `${p.path} ${p.message}`).join('; ');
      this.warn(`${where}: not mapped: the ${type} it describes is not valid canonical data (${detail})`);
      return false;
    }
    this.events.push({ type, data, subject: data.orderId } as ProductionEvent);
    return true;
  }

  /** Adds the one warning about zone-less times, once every time has been read. */
  finish(): void {
    const distinct = [...new Set(this.#zoneless)];
    if (distinct.length === 0) return;
    const zone = this.options.utcOffset ?? 'Z';
    this.warn(
      `${distinct.length} time(s) have no UTC offset (${distinct.slice(0, 3).join(', ')}); they were read as ${zone}` +
        (this.options.utcOffset === undefined ? ". Pass utcOffset to give the sender's zone." : '.'),
    );
  }
}

/** The first MaterialDefinitionID of a material element; further ones are warned about. */
function materialOf(element: ElementReader, mapping: Mapper): string | undefined {
  const [first, ...others] = element.texts('MaterialDefinitionID');
  if (others.length > 0) {
    mapping.warn(
      `${element.label}: MaterialDefinitionID ${others.join(', ')} not mapped: only the first (${first}) is`,
    );
  }
  return first;
}

/** The operation of a segment: its ProcessSegmentID, else its ID. What that leaves unused is warned about. */
function operationOf(segment: ElementReader, mapping: Mapper): string | undefined {
  const [processSegment, ...others] = segment.texts('ProcessSegmentID');
  const id = segment.text('ID');
  if (others.length > 0) {
    mapping.warn(
      `${segment.label}: ProcessSegmentID ${others.join(', ')} not mapped: the operation is ${processSegment}`,
    );
  }
  if (processSegment !== undefined && id !== undefined && id !== processSegment) {
    mapping.warn(
      `${segment.label}: ID ${id} not mapped: the operation is its ProcessSegmentID ${processSegment}`,
    );
  }
  return processSegment ?? id;
}

function sum(quantities: readonly Quantity[], what = 'the quantities'): Read<Quantity> {
  const first = quantities[0];
  if (first === undefined) return { ok: false, problem: 'there is no quantity' };
  const units = [...new Set(quantities.map((q) => q.uom))];
  if (units.length > 1) return { ok: false, problem: `${what} are in different units (${units.join(', ')})` };
  if (quantities.length === 1) return { ok: true, value: first };
  // Rounded to 15 significant digits so that 0.1 + 0.2 is 0.3, as the sender meant.
  const value = Number(quantities.reduce((total, q) => total + q.value, 0).toPrecision(15));
  return { ok: true, value: { value, uom: first.uom } };
}

function latest(times: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const t of times) if (best === undefined || Date.parse(t) > Date.parse(best)) best = t;
  return best;
}

// ---------------------------------------------------------------------------------------------------
// ProductionSchedule → production.order.released

interface ScheduleContext {
  readonly site: string | undefined;
  readonly endTime: string | undefined;
  readonly endTimeWhere: string;
}

function mapSchedule(schedule: ElementReader, mapping: Mapper): void {
  const context: ScheduleContext = {
    site: siteOf(readScope(schedule)),
    endTime: schedule.text('EndTime'),
    endTimeWhere: `${schedule.path}/EndTime`,
  };
  for (const request of schedule.all('ProductionRequest')) mapRequest(request, context, mapping);
}

interface RoutingStep {
  readonly segment: ElementReader;
  readonly operation: string;
  readonly workCenter: string | undefined;
}

function mapRequest(request: ElementReader, context: ScheduleContext, mapping: Mapper): void {
  const orderId = request.text('ID');
  if (orderId === undefined) {
    mapping.warn(`${request.path}: not mapped: the request has no ID, so there is no order to release`);
    request.settle();
    return;
  }
  const state = request.text('RequestState');
  if (state !== undefined && /^forecast$/i.test(state.trim())) {
    mapping.warn(
      `${request.label}: not mapped: RequestState Forecast is a planned order, not a released one`,
    );
    request.settle();
    return;
  }
  const plant = siteOf(readScope(request)) ?? context.site ?? mapping.options.plant;
  if (plant === undefined) {
    mapping.warn(
      `${request.label}: not mapped: no plant; neither the request nor its schedule names a Site in its ` +
        'HierarchyScope or Location, and no default plant was given',
    );
    request.settle();
    return;
  }

  const segments = request.all('SegmentRequirement');
  const produced: { reader: ElementReader; depth: number }[] = [];
  const consumed: ElementReader[] = [];
  const visit = (segment: ElementReader, depth: number): void => {
    for (const requirement of segment.all('MaterialRequirement')) {
      const use = requirement.text('MaterialUse')?.trim();
      if (use !== undefined && /^produced$/i.test(use)) produced.push({ reader: requirement, depth });
      else if (use !== undefined && /^consumed$/i.test(use)) consumed.push(requirement);
      else {
        mapping.warn(
          `${requirement.label}: not mapped: its MaterialUse is ${use === undefined ? 'missing' : `"${use}"`}, ` +
            'so it is neither the material to produce nor a BOM component',
        );
        requirement.settle();
      }
    }
    for (const requirement of segment.all('MaterialProducedRequirement'))
      produced.push({ reader: requirement, depth });
    consumed.push(...segment.all('MaterialConsumedRequirement'));
    for (const child of segment.all('SegmentRequirement')) {
      child.ignore('ID', 'ProcessSegmentID');
      mapping.warn(
        `${child.label}: not mapped as a routing step: it is a sub-segment of ${segment.label} ` +
          "(its material requirements are read with the order's)",
      );
      visit(child, depth + 1);
    }
  };
  for (const segment of segments) visit(segment, 1);

  const routing = mapRouting(segments, mapping);

  const shallowest = Math.min(...produced.map((p) => p.depth));
  const main = produced.find((p) => p.depth === shallowest);
  for (const other of produced) {
    if (other === main || main === undefined) continue;
    mapping.warn(
      `${other.reader.label}: not mapped: a further produced material; the order's material comes from ` +
        main.reader.label,
    );
    other.reader.settle();
  }
  if (main === undefined) {
    mapping.warn(
      `${request.label}: not mapped: no material to produce (a MaterialRequirement with MaterialUse Produced, ` +
        'or a MaterialProducedRequirement), which production.order.released needs',
    );
    request.settle();
    return;
  }
  const material = materialOf(main.reader, mapping);
  const quantity = readFirstQuantity(main.reader, (w) => mapping.warn(w));
  if (material === undefined || !quantity.ok) {
    const why =
      material === undefined ? 'it has no MaterialDefinitionID' : quantity.ok ? '' : quantity.problem;
    mapping.warn(
      `${request.label}: not mapped: the material to produce (${main.reader.path}) cannot be read: ${why}`,
    );
    request.settle();
    return;
  }

  const bom: { material: string; quantity: Quantity }[] = [];
  for (const component of consumed) {
    const componentMaterial = materialOf(component, mapping);
    const componentQuantity = readFirstQuantity(component, (w) => mapping.warn(w));
    if (componentMaterial === undefined || !componentQuantity.ok) {
      const why =
        componentMaterial === undefined
          ? 'it has no MaterialDefinitionID'
          : componentQuantity.ok
            ? ''
            : componentQuantity.problem;
      mapping.warn(`${component.label}: not mapped: not a BOM line because ${why}`);
      component.settle();
      continue;
    }
    bom.push({ material: componentMaterial, quantity: componentQuantity.value });
  }

  const dueDate = dueDateOf(request, context, mapping);
  if (dueDate === undefined) {
    request.settle();
    return;
  }
  mapping.emit(
    'production.order.released',
    {
      orderId,
      plant,
      material,
      quantity: quantity.value,
      dueDate,
      ...(routing !== undefined ? { routing } : {}),
      ...(bom.length > 0 ? { bom } : {}),
    },
    request.label,
  );
}

/**
 * The routing is the request's top-level segment requirements that name an operation, in order. It is
 * all or nothing: when a step names no work center the routing is left out, so the hub's enrichment
 * supplies a complete one instead of the order carrying a partial one.
 */
function mapRouting(
  segments: readonly ElementReader[],
  mapping: Mapper,
): { operation: string; workCenter: string }[] | undefined {
  const steps: RoutingStep[] = [];
  for (const segment of segments) {
    const operation = operationOf(segment, mapping);
    // A segment that names no operation only holds material requirements.
    if (operation === undefined) continue;
    const [equipment] = segment.all('EquipmentRequirement');
    let workCenter = equipment?.text('EquipmentID');
    workCenter ??= workCenterOf(readScope(segment));
    steps.push({ segment, operation, workCenter });
  }
  if (steps.length === 0) return undefined;
  const missing = steps.filter((s) => s.workCenter === undefined).length;
  if (missing === 0)
    return steps.map((s) => ({ operation: s.operation, workCenter: s.workCenter as string }));
  for (const step of steps) {
    mapping.warn(
      step.workCenter === undefined
        ? `${step.segment.label}: not mapped as a routing step: it names no work center (EquipmentRequirement/` +
            'EquipmentID, or a work center level in its HierarchyScope or Location), so the routing is left ' +
            'out for the hub to add from reference data'
        : `${step.segment.label}: not mapped as a routing step: the routing is left out because ${missing} ` +
            'other step(s) name no work center',
    );
  }
  return undefined;
}

function dueDateOf(request: ElementReader, context: ScheduleContext, mapping: Mapper): string | undefined {
  const own = request.text('EndTime');
  const [text, where] =
    own !== undefined ? [own, `${request.path}/EndTime`] : [context.endTime, context.endTimeWhere];
  if (text !== undefined) {
    const read = readDueDate(text, mapping.time);
    if (read.ok) return read.value;
    mapping.warn(`${request.label}: not mapped: ${where} cannot be the due date: ${read.problem}`);
    return undefined;
  }
  const created = mapping.creationTime();
  if (created === undefined) {
    mapping.warn(
      `${request.label}: not mapped: no due date; neither the request nor its schedule has an EndTime, and ` +
        'the document has no CreationDateTime',
    );
    return undefined;
  }
  mapping.warn(
    `${request.label}: neither the request nor its schedule has an EndTime; the due date is the document's ` +
      `CreationDateTime (${created}), i.e. the order is due as released`,
  );
  return created;
}

// ---------------------------------------------------------------------------------------------------
// ProductionPerformance → operation completed, material consumed, scrap reported, order completed

interface PerformanceContext {
  readonly site: string | undefined;
  readonly endTime: string | undefined;
}

interface ProducedActual {
  readonly reader: ElementReader;
  /** Nesting level of its segment response: 1 for a segment directly under the production response. */
  readonly depth: number;
  readonly quantity: Read<Quantity>;
  readonly scrap: boolean;
  used: boolean;
}

function mapPerformance(performance: ElementReader, mapping: Mapper): void {
  const context: PerformanceContext = {
    site: siteOf(readScope(performance)),
    endTime: mapping.dateTime(performance.text('EndTime'), performance.path, 'EndTime'),
  };
  for (const response of performance.all('ProductionResponse')) mapResponse(response, context, mapping);
}

function mapResponse(response: ElementReader, context: PerformanceContext, mapping: Mapper): void {
  // The response's own ID identifies the report; the order is the request it answers, else that ID.
  const requestId = response.text('ProductionRequestID');
  const orderId = requestId ?? response.text('ID');
  response.ignore('ID');
  if (orderId === undefined) {
    mapping.warn(`${response.path}: not mapped: the response names no order (no ProductionRequestID or ID)`);
    response.settle();
    return;
  }
  const plant = siteOf(readScope(response)) ?? context.site ?? mapping.options.plant;
  if (plant === undefined) {
    mapping.warn(
      `${response.label}: not mapped: no plant; neither the response nor its performance names a Site in its ` +
        'HierarchyScope or Location, and no default plant was given',
    );
    response.settle();
    return;
  }
  const state = response.text('ResponseState')?.trim();
  const responseEnd = mapping.dateTime(response.text('EndTime'), response.path, 'EndTime');
  const produced: ProducedActual[] = [];
  const ends: string[] = [];

  const visit = (segment: ElementReader, depth: number, enclosingEnd: string | undefined): void => {
    const end = mapping.dateTime(segment.text('ActualEndTime'), segment.path, 'ActualEndTime');
    if (end !== undefined) ends.push(end);
    const own: ProducedActual[] = [];
    const consumedAt = consumptionTime(
      segment,
      end ?? enclosingEnd ?? responseEnd ?? context.endTime,
      mapping,
    );

    for (const actual of segment.all('MaterialActual')) {
      const useElement = actual.one('MaterialUse');
      const use = useElement?.value?.trim();
      const other = useElement?.attribute('OtherValue')?.trim();
      if (use !== undefined && /^consumed$/i.test(use)) {
        mapConsumption(actual, { orderId, plant, consumedAt }, mapping);
      } else if (use !== undefined && /^produced$/i.test(use)) {
        own.push(readProduced(actual, 'MaterialActualProperty', depth, false, mapping));
      } else if (
        use !== undefined &&
        (SCRAP_WORD.test(use) || (/^other$/i.test(use) && SCRAP_WORD.test(other ?? '')))
      ) {
        own.push(readProduced(actual, 'MaterialActualProperty', depth, true, mapping));
      } else {
        const shown =
          use === undefined ? 'missing' : other !== undefined ? `"${use}" (${other})` : `"${use}"`;
        mapping.warn(
          `${actual.label}: not mapped: its MaterialUse is ${shown}; only Consumed, Produced and scrap ` +
            '(Other with OtherValue Scrap or Reject) become production events',
        );
        actual.settle();
      }
    }
    for (const actual of segment.all('MaterialProducedActual')) {
      own.push(readProduced(actual, 'MaterialProducedActualProperty', depth, false, mapping));
    }
    for (const actual of segment.all('MaterialConsumedActual')) {
      mapConsumption(actual, { orderId, plant, consumedAt }, mapping);
    }
    for (const scrap of own.filter((p) => p.scrap)) reportScrap(scrap, { orderId, plant }, mapping);
    produced.push(...own);

    const operation = operationOf(segment, mapping);
    if (operation !== undefined) {
      completeOperation(segment, { orderId, plant, operation, end, produced: own }, mapping);
    }
    for (const child of segment.all('SegmentResponse')) visit(child, depth + 1, end ?? enclosingEnd);
  };
  for (const segment of response.all('SegmentResponse')) visit(segment, 1, undefined);

  const complete = state !== undefined ? /^completed$/i.test(state) : responseEnd !== undefined;
  if (complete)
    completeOrder(response, { orderId, plant, produced, completedAt: responseEnd ?? latest(ends) }, mapping);

  for (const actual of produced) {
    if (actual.used) continue;
    const why = !actual.quantity.ok
      ? actual.quantity.problem
      : actual.scrap
        ? 'scrap that names no reason (ReasonCode property) and does not count towards a completed order'
        : 'its segment response is not a completed operation, and it does not count towards a completed order';
    mapping.warn(`${actual.reader.label}: not mapped: ${why}`);
    actual.reader.settle();
  }
}

/** When the consumptions reported in a segment response took place; warns when that is a guess. */
function consumptionTime(
  segment: ElementReader,
  known: string | undefined,
  mapping: Mapper,
): () => string | undefined {
  let warned = false;
  return () => {
    if (known !== undefined) return known;
    const created = mapping.creationTime();
    if (!warned && created !== undefined) {
      warned = true;
      mapping.warn(
        `${segment.label}: no ActualEndTime on it, an enclosing segment response or the response, so its ` +
          `consumptions are dated with the document's CreationDateTime (${created})`,
      );
    }
    return created;
  };
}

function mapConsumption(
  actual: ElementReader,
  context: { orderId: string; plant: string; consumedAt: () => string | undefined },
  mapping: Mapper,
): void {
  const material = materialOf(actual, mapping);
  const quantity = readFirstQuantity(actual, (w) => mapping.warn(w));
  const [lot, ...otherLots] = actual.texts('MaterialLotID');
  const consumedAt = context.consumedAt();
  const why =
    material === undefined
      ? 'it has no MaterialDefinitionID'
      : !quantity.ok
        ? quantity.problem
        : consumedAt === undefined
          ? 'there is no time to date it (no ActualEndTime, EndTime or CreationDateTime)'
          : undefined;
  if (why !== undefined || material === undefined || !quantity.ok || consumedAt === undefined) {
    mapping.warn(`${actual.label}: not mapped: ${why}`);
    actual.settle();
    return;
  }
  if (otherLots.length > 0) {
    mapping.warn(
      `${actual.label}: MaterialLotID ${otherLots.join(', ')} not mapped: only the first (${lot}) is`,
    );
  }
  mapping.emit(
    'production.material.consumed',
    {
      orderId: context.orderId,
      plant: context.plant,
      material,
      quantity: quantity.value,
      consumedAt,
      ...(lot !== undefined ? { lot } : {}),
    },
    actual.label,
  );
}

function readProduced(
  actual: ElementReader,
  propertyName: string,
  depth: number,
  scrapByUse: boolean,
  mapping: Mapper,
): ProducedActual {
  const found = properties(actual, propertyName);
  const flag = found.find((p) => p.id !== undefined && SCRAP_WORD.test(p.id.trim()));
  if (flag) useProperty(flag);
  // The material is the order's output; completion events carry the order, not the material again.
  actual.ignore('MaterialDefinitionID');
  return {
    reader: actual,
    depth,
    quantity: readFirstQuantity(actual, (w) => mapping.warn(w)),
    scrap: scrapByUse || (flag !== undefined && TRUE_WORD.test(flag.value?.trim() ?? '')),
    used: false,
  };
}

function reportScrap(
  scrap: ProducedActual,
  context: { orderId: string; plant: string },
  mapping: Mapper,
): void {
  const reason = properties(scrap.reader, propertyNameOf(scrap.reader)).find(
    (p) => p.id !== undefined && REASON_PROPERTY.test(p.id.trim()),
  );
  const material = scrap.reader.peekText('MaterialDefinitionID');
  if (reason?.value === undefined || material === undefined || !scrap.quantity.ok) return;
  useProperty(reason);
  const emitted = mapping.emit(
    'production.scrap.reported',
    {
      orderId: context.orderId,
      plant: context.plant,
      material,
      quantity: scrap.quantity.value,
      reasonCode: reason.value.trim(),
    },
    scrap.reader.label,
  );
  if (emitted) scrap.used = true;
}

function propertyNameOf(actual: ElementReader): string {
  const name = actual.path.slice(actual.path.lastIndexOf('/') + 1).replace(/\[\d+\]$/, '');
  return `${name}Property`;
}

function completeOperation(
  segment: ElementReader,
  context: {
    orderId: string;
    plant: string;
    operation: string;
    end: string | undefined;
    produced: readonly ProducedActual[];
  },
  mapping: Mapper,
): void {
  const state = segment.text('SegmentState')?.trim();
  const done = state !== undefined ? /^completed$/i.test(state) : context.end !== undefined;
  if (!done) {
    const why =
      state !== undefined ? `its SegmentState is ${state}` : 'it has no ActualEndTime or SegmentState';
    mapping.warn(
      `${segment.label}: no production.operation.completed: the operation is not completed (${why})`,
    );
    return;
  }
  const [equipment] = segment.all('EquipmentActual');
  const workCenter = equipment?.text('EquipmentID') ?? workCenterOf(readScope(segment));
  const good = context.produced.filter((p) => !p.scrap && p.quantity.ok);
  const quantityGood = sum(
    good.map((p) => (p.quantity as { value: Quantity }).value),
    'its good produced quantities',
  );
  const problem =
    context.end === undefined
      ? 'it has no ActualEndTime'
      : workCenter === undefined
        ? 'it names no work center (EquipmentActual/EquipmentID, or a work center level in its HierarchyScope or Location)'
        : !quantityGood.ok
          ? good.length === 0
            ? 'it reports no good produced quantity (MaterialActual with MaterialUse Produced, or MaterialProducedActual)'
            : quantityGood.problem
          : undefined;
  if (problem !== undefined || context.end === undefined || workCenter === undefined || !quantityGood.ok) {
    mapping.warn(`${segment.label}: no production.operation.completed: ${problem}`);
    return;
  }
  const emitted = mapping.emit(
    'production.operation.completed',
    {
      orderId: context.orderId,
      plant: context.plant,
      operation: context.operation,
      workCenter,
      quantityGood: quantityGood.value,
      completedAt: context.end,
    },
    segment.label,
  );
  if (emitted) for (const p of good) p.used = true;
}

/**
 * The order's totals are what its top-level segment responses produced: good and scrap quantities
 * summed over them (good in one unit, scrap in one unit, no scrap reported meaning zero). Nested segment
 * responses are parts of those and are not counted again.
 */
function completeOrder(
  response: ElementReader,
  context: {
    orderId: string;
    plant: string;
    produced: readonly ProducedActual[];
    completedAt: string | undefined;
  },
  mapping: Mapper,
): void {
  const top = context.produced.filter((p) => p.depth === 1 && p.quantity.ok);
  const quantities = (list: readonly ProducedActual[]): Quantity[] =>
    list.map((p) => (p.quantity as { value: Quantity }).value);
  const good = top.filter((p) => !p.scrap);
  const scrap = top.filter((p) => p.scrap);
  const quantityGood = sum(quantities(good), 'its good quantities');
  const quantityScrap = scrap.length === 0 ? undefined : sum(quantities(scrap), 'its scrap quantities');
  const problem =
    good.length === 0
      ? 'its top-level segment responses report no good produced quantity'
      : !quantityGood.ok
        ? quantityGood.problem
        : quantityScrap !== undefined && !quantityScrap.ok
          ? quantityScrap.problem
          : context.completedAt === undefined
            ? 'it has no EndTime and none of its segment responses has an ActualEndTime'
            : undefined;
  if (
    problem !== undefined ||
    !quantityGood.ok ||
    (quantityScrap !== undefined && !quantityScrap.ok) ||
    context.completedAt === undefined
  ) {
    mapping.warn(
      `${response.label}: no production.order.completed although the response is complete: ${problem}`,
    );
    return;
  }
  const emitted = mapping.emit(
    'production.order.completed',
    {
      orderId: context.orderId,
      plant: context.plant,
      quantityGood: quantityGood.value,
      quantityScrap: quantityScrap?.ok ? quantityScrap.value : { value: 0, uom: quantityGood.value.uom },
      completedAt: context.completedAt,
    },
    response.label,
  );
  if (emitted) for (const p of top) p.used = true;
}
