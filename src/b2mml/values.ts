/**
 * Reading B2MML values into canonical ones: quantities, date-times and the equipment hierarchy that
 * names plants and work centers.
 */
import { UOM_PATTERN } from '../model/schemas/building-blocks.js';
import type { ElementReader } from './element-reader.js';

/** A canonical quantity. */
export interface Quantity {
  readonly value: number;
  readonly uom: string;
}

/** A value read from B2MML, or why it could not be. */
export type Read<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problem: string };

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const UOM = new RegExp(UOM_PATTERN);

/**
 * Reads a B2MML `Quantity` (`QuantityString` + `UnitOfMeasure`). Units are upper-cased (`kg` → `KG`)
 * and must then be UN/CEFACT Recommendation 20 codes, as canonical quantities are.
 */
export function readQuantity(quantity: ElementReader): Read<Quantity> {
  quantity.ignore('DataType');
  const raw = quantity.text('QuantityString')?.trim();
  const unit = quantity.text('UnitOfMeasure')?.trim();
  if (raw === undefined) return { ok: false, problem: 'its Quantity has no QuantityString' };
  if (!DECIMAL.test(raw))
    return { ok: false, problem: `its QuantityString "${raw}" is not a decimal number` };
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    return { ok: false, problem: `its QuantityString "${raw}" is not a finite quantity of zero or more` };
  }
  if (unit === undefined) return { ok: false, problem: 'its Quantity has no UnitOfMeasure' };
  const uom = unit.toUpperCase();
  if (!UOM.test(uom)) {
    return {
      ok: false,
      problem: `its UnitOfMeasure "${unit}" is not a UN/CEFACT Recommendation 20 code such as EA, KG or M`,
    };
  }
  return { ok: true, value: { value, uom } };
}

/**
 * Reads the first `Quantity` of an element. Further quantities (B2MML allows one per unit) are
 * reported through `warn`.
 */
export function readFirstQuantity(element: ElementReader, warn: (message: string) => void): Read<Quantity> {
  const [first, ...others] = element.all('Quantity');
  for (const other of others) {
    other.settle();
    warn(`${other.path}: only the first Quantity of ${element.path} is mapped; this one is not`);
  }
  if (first === undefined) return { ok: false, problem: 'it has no Quantity' };
  return readQuantity(first);
}

const XSD_DATE_TIME = /^(-?\d{4,}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:\d{2})?$/;
const XSD_DATE = /^(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})?$/;

/** How to read times that carry no UTC offset. */
export interface TimeContext {
  /** The sender's UTC offset (`Z` or `±HH:MM`); when absent such times are read as UTC. */
  readonly utcOffset?: string;
  /** Called with each time that had no offset, so the caller can say what was assumed. */
  readonly onMissingOffset: (text: string) => void;
}

/** Reads an `xsd:dateTime` as an RFC 3339 date-time, giving zone-less times the context's offset. */
export function readDateTime(text: string, context: TimeContext): Read<string> {
  const m = XSD_DATE_TIME.exec(text.trim());
  if (!m) return { ok: false, problem: `"${text}" is not an xsd:dateTime` };
  if (m[3] !== undefined) return { ok: true, value: `${m[1]}T${m[2]}${m[3]}` };
  context.onMissingOffset(text);
  return { ok: true, value: `${m[1]}T${m[2]}${context.utcOffset ?? 'Z'}` };
}

/**
 * Reads a due date. A calendar date, or a zone-less midnight (how B2MML writers, this one included,
 * carry a plain date in an `xsd:dateTime`), is the date itself; other values are date-times.
 */
export function readDueDate(text: string, context: TimeContext): Read<string> {
  const trimmed = text.trim();
  const date = XSD_DATE.exec(trimmed);
  if (date) return { ok: true, value: date[1]! };
  const midnight = /^(\d{4}-\d{2}-\d{2})T00:00:00(?:\.0+)?$/.exec(trimmed);
  if (midnight) return { ok: true, value: midnight[1]! };
  return readDateTime(trimmed, context);
}

/** One level of an equipment hierarchy (`Location` or `HierarchyScope`). */
export interface ScopeLevel {
  readonly equipmentId: string;
  readonly level: string | undefined;
}

/**
 * The equipment hierarchy an element names through `HierarchyScope` (V0600) or `Location` (V0401,
 * kept in V0600), each level with its `EquipmentElementLevel`, following the nesting.
 */
export function readScope(element: ElementReader): ScopeLevel[] {
  const levels: ScopeLevel[] = [];
  const walk = (scope: ElementReader, child: 'Location' | 'HierarchyScope'): void => {
    const equipmentId = scope.text('EquipmentID');
    const level = scope.text('EquipmentElementLevel');
    if (equipmentId !== undefined) levels.push({ equipmentId, level });
    const nested = scope.one(child);
    if (nested) walk(nested, child);
  };
  for (const child of ['HierarchyScope', 'Location'] as const) {
    const scope = element.one(child);
    if (scope) walk(scope, child);
  }
  return levels;
}

/** The plant of a hierarchy: the equipment at the `Site` level. */
export function siteOf(levels: readonly ScopeLevel[]): string | undefined {
  return levels.find((l) => l.level?.toLowerCase() === 'site')?.equipmentId;
}

/**
 * Levels that are ISA-95 work centers (Part 1: process cell, production unit, production line and
 * storage zone, plus B2MML's generic WorkCenter). Work units below them (work cell, unit) are not.
 */
const WORK_CENTER_LEVELS = new Set([
  'workcenter',
  'processcell',
  'productionunit',
  'productionline',
  'storagezone',
]);

/** The work center of a hierarchy: the first level that is a work center. */
export function workCenterOf(levels: readonly ScopeLevel[]): string | undefined {
  return levels.find((l) => l.level !== undefined && WORK_CENTER_LEVELS.has(l.level.toLowerCase()))
    ?.equipmentId;
}

/** A `…Property` element (`ID` + `Value/ValueString`) read without marking it, to decide whether it matters. */
export interface PropertyView {
  readonly reader: ElementReader;
  readonly id: string | undefined;
  readonly value: string | undefined;
}

/** The properties named `name` of an element, for inspection; each is marked read only by {@link useProperty}. */
export function properties(element: ElementReader, name: string): PropertyView[] {
  return element.all(name).map((reader) => {
    const id = reader.peekText('ID');
    const value = reader.peekText('Value', 'ValueString');
    return { reader, id, value };
  });
}

/** Marks a property as mapped. */
export function useProperty(property: PropertyView): void {
  property.reader.ignore('ID', 'Description');
  for (const value of property.reader.all('Value'))
    value.ignore('ValueString', 'DataType', 'UnitOfMeasure', 'Key');
}
