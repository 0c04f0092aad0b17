import {
  type ObjectOptions,
  type SchemaOptions,
  type StringOptions,
  type TNumber,
  type TObject,
  type TString,
  type TUnion,
  type TUnsafe,
  Type,
} from '@sinclair/typebox';

/**
 * The pieces every canonical event schema is made of, defined once. Each is a factory so a field can
 * give its own `description` (the ISA-95 / B2MML role it plays in that event) while keeping the shared
 * constraints. None carries an `$id`: they are inlined into each event schema, which keeps every
 * event schema a single self-contained document.
 */

/** A UN/CEFACT Recommendation 20 unit code: one to three upper-case letters or digits (`EA`, `KG`, `M`, `C62`). */
export const UOM_PATTERN = '^[A-Z0-9]{1,3}$';

/** A plant code, the same shape conveyor.yaml accepts for client plant bindings. */
export const PLANT_CODE_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$';

/** Ids come from ERP, MES and WMS systems; 128 characters covers all of them (SAP's longest is 40). */
const ID_LIMITS = { minLength: 1, maxLength: 128 } as const;

function id(defaults: StringOptions, options?: StringOptions): TString {
  return Type.String({ ...ID_LIMITS, ...defaults, ...options });
}

/** A quantity with its unit: B2MML `QuantityType` (`QuantityString` + `UnitOfMeasure`). */
export function Quantity(options?: ObjectOptions): TObject<{ value: TNumber; uom: TString }> {
  return Type.Object(
    {
      value: Type.Number({
        minimum: 0,
        description: 'The amount, never negative (B2MML `Quantity/QuantityString`).',
        examples: [120],
      }),
      uom: Type.String({
        pattern: UOM_PATTERN,
        description:
          'Unit of measure as a UN/CEFACT Recommendation 20 code such as EA, KG or M (B2MML `Quantity/UnitOfMeasure`).',
        examples: ['EA', 'KG', 'M'],
      }),
    },
    {
      description: 'A quantity with its unit (B2MML `Quantity`: `QuantityString` + `UnitOfMeasure`).',
      ...options,
    },
  );
}

/** A point in time: an RFC 3339 date-time with an offset (`2024-05-01T08:00:00Z`). */
export function Rfc3339(options?: StringOptions): TString {
  return Type.String({
    format: 'date-time',
    description: 'An RFC 3339 date-time with a UTC offset.',
    examples: ['2024-05-01T08:00:00Z'],
    ...options,
  });
}

/**
 * A business date that ERPs often give as a calendar day and MES as an instant: an RFC 3339
 * `full-date` (`2024-06-14`) or `date-time`. Consumers read either with the same date parser.
 */
export function BusinessDate(options?: SchemaOptions): TUnion<[TString, TString]> {
  return Type.Union(
    [
      Type.String({ format: 'date', examples: ['2024-06-14'] }),
      Type.String({ format: 'date-time', examples: ['2024-06-14T16:00:00+02:00'] }),
    ],
    { description: 'An RFC 3339 date or date-time.', ...options },
  );
}

/** A plant: the ISA-95 site of the equipment hierarchy; also the CloudEvents `plant` extension. */
export function PlantCode(options?: StringOptions): TString {
  return Type.String({
    pattern: PLANT_CODE_PATTERN,
    description:
      'The plant: ISA-95 site (B2MML `HierarchyScope/EquipmentID` at `EquipmentElementLevel` Site). Equals the event `plant` attribute.',
    examples: ['P1'],
    ...options,
  });
}

/** A job order / operations request id as the ERP or MES knows it. */
export function OrderId(options?: StringOptions): TString {
  return id(
    {
      description:
        'The production order: ISA-95 operations request / job order (B2MML `ProductionRequest/ID`, `JobOrder/ID`).',
      examples: ['100004711'],
    },
    options,
  );
}

/** A material definition (part number). */
export function MaterialId(options?: StringOptions): TString {
  return id(
    {
      description: 'The material: ISA-95 material definition (B2MML `MaterialDefinitionID`).',
      examples: ['BRK-CAL-2200'],
    },
    options,
  );
}

/** A material lot (batch). */
export function LotId(options?: StringOptions): TString {
  return id(
    {
      description: 'A material lot (batch): ISA-95 material lot (B2MML `MaterialLotID`).',
      examples: ['L24-0518-03'],
    },
    options,
  );
}

/** A piece of equipment (machine, line, cell). */
export function EquipmentId(options?: StringOptions): TString {
  return id(
    {
      description: 'The equipment (machine, cell or line): ISA-95 equipment (B2MML `EquipmentID`).',
      examples: ['PRESS-07'],
    },
    options,
  );
}

/** A work center. */
export function WorkCenter(options?: StringOptions): TString {
  return id(
    {
      description:
        'The work center: ISA-95 work center, the equipment hierarchy level below area (B2MML `EquipmentID` at `EquipmentElementLevel` WorkCenter).',
      examples: ['WC-PRESS-1'],
    },
    options,
  );
}

/** A storage location (warehouse bin, staging area, line-side rack). */
export function StorageLocation(options?: StringOptions): TString {
  return id(
    {
      description:
        'A storage location: ISA-95 storage zone / storage unit (B2MML `StorageLocation`, the `EquipmentID` of a storage zone or unit).',
      examples: ['WH1-A-03-02'],
    },
    options,
  );
}

/** An operation (routing step). */
export function OperationId(options?: StringOptions): TString {
  return id(
    {
      description:
        'The operation (routing step): ISA-95 process segment / segment requirement (B2MML `SegmentRequirement/ID`, `ProcessSegmentID`).',
      examples: ['0010'],
    },
    options,
  );
}

/** A reason code from the plant's reason catalogue (scrap, downtime). */
export function ReasonCode(options?: StringOptions): TString {
  return id({ description: "A code from the plant's reason catalogue.", examples: ['MECH-01'] }, options);
}

/** A quality hold. */
export function HoldId(options?: StringOptions): TString {
  return id(
    {
      description:
        'The quality hold: an ISA-95 quality operations request that holds material lots (B2MML `OperationsRequest/ID` with `OperationsType` Quality).',
      examples: ['QH-2024-0117'],
    },
    options,
  );
}

/** A supplier (vendor). */
export function SupplierId(options?: StringOptions): TString {
  return id(
    {
      description:
        'The supplier (vendor) as the ERP knows it; the ship-from party of its ASNs (X12 N1*SF, EDIFACT NAD+SE/CZ).',
      examples: ['V-20417'],
    },
    options,
  );
}

/** A shipment (outbound delivery). */
export function ShipmentId(options?: StringOptions): TString {
  return id(
    {
      description:
        'The shipment (outbound delivery) as the ERP or WMS knows it; above ISA-95 level 3, the despatch advice number sent to the customer.',
      examples: ['80012345'],
    },
    options,
  );
}

/** An inventory reservation. */
export function ReservationId(options?: StringOptions): TString {
  return id(
    {
      description:
        'The reservation as the WMS knows it: an ISA-95 inventory operations request (B2MML `OperationsRequest/ID` with `OperationsType` Inventory).',
      examples: ['RSV-558201'],
    },
    options,
  );
}

/** A pallet or other handling unit. */
export function PalletId(options?: StringOptions): TString {
  return id(
    {
      description:
        'The pallet (handling unit), usually its SSCC: ISA-95 material sublot (B2MML `MaterialSubLot/ID`).',
      examples: ['003456789012345675'],
    },
    options,
  );
}

/** An advance shipping notice. */
export function AsnId(options?: StringOptions): TString {
  return id(
    {
      description:
        "The advance shipping notice's document number: X12 856 `BSN02`, EDIFACT DESADV `BGM` document number.",
      examples: ['ASN-0098231'],
    },
    options,
  );
}

/** A free-text line a person wrote (hold reason, supplier name). */
export function Text(options?: StringOptions): TString {
  return Type.String({ minLength: 1, maxLength: 1000, ...options });
}

/**
 * A closed set of string values, emitted as a JSON Schema `enum` (not TypeBox's `anyOf` of literals) so
 * validation errors can list the allowed values and compatibility checks can compare them one by one.
 */
export function StringEnum<const V extends readonly string[]>(
  values: V,
  options?: SchemaOptions,
): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ type: 'string', enum: [...values], ...options });
}
