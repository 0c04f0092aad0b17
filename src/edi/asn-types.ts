/**
 * The canonical `supplier.asn.received` data that X12 856 and EDIFACT DESADV map to, and what the
 * mappers report besides it.
 */

/** A quantity: a non-negative value in a UN/CEFACT Rec 20 unit. */
export interface Quantity {
  readonly value: number;
  readonly uom: string;
}

/** One product identifier as the document gave it, e.g. `{ qualifier: 'BP', id: '1234-56' }`. */
export interface ProductId {
  readonly id: string;
  /** X12 product id qualifier (235) or EDIFACT item number type (7143); absent when not sent. */
  readonly qualifier?: string;
}

/** One shipped line. */
export interface AsnLine {
  /** The material: the buyer's part number when sent, else the supplier's, else the first id. */
  readonly material: string;
  readonly quantity: Quantity;
  /** Lot / batch numbers of the shipped material. */
  readonly lots?: readonly string[];
  /** The line number the supplier gave (X12 LIN01, EDIFACT LIN 1082). */
  readonly lineNumber?: string;
  readonly purchaseOrder?: string;
  /** Line of the purchase order (EDIFACT RFF+LI). */
  readonly purchaseOrderLine?: string;
  readonly description?: string;
  /** Every product id sent for the line, in document order. */
  readonly productIds?: readonly ProductId[];
  /** Serial shipping container codes (SSCC) of the packages that hold the line. */
  readonly packageIds?: readonly string[];
}

/** The data of a `supplier.asn.received` event. */
export interface SupplierAsnData {
  readonly asnId: string;
  readonly supplierId: string;
  readonly plant: string;
  /** RFC 3339 date, or date-time when the time and its zone are known. */
  readonly shipDate: string;
  readonly lines: readonly AsnLine[];
  /** RFC 3339 date (or date-time) the supplier issued the notice. */
  readonly documentDate?: string;
  /** Set when every line refers to the same purchase order. */
  readonly purchaseOrder?: string;
  /** Carrier code (SCAC or carrier id), else its name. */
  readonly carrier?: string;
  /** The carrier's reference for the shipment (PRO / tracking number), else the bill of lading. */
  readonly trackingNumber?: string;
  readonly billOfLading?: string;
  /** Number of packages (handling units) in the shipment. */
  readonly packages?: number;
}

type AsnRequired = Pick<SupplierAsnData, 'asnId' | 'supplierId' | 'plant' | 'shipDate' | 'lines'>;
type AsnOptional = {
  -readonly [K in Exclude<keyof SupplierAsnData, keyof AsnRequired>]?: SupplierAsnData[K] | undefined;
};

/** Assembles ASN data, leaving out optional fields that were not found (absent or empty), as both mappers need. */
export function asnData(required: AsnRequired, optional: AsnOptional): SupplierAsnData {
  const data: Record<string, unknown> = { ...required };
  for (const [key, value] of Object.entries(optional))
    if (value !== undefined && value !== '') data[key] = value;
  return data as unknown as SupplierAsnData;
}

/** A mapped notice and what the mapping had to skip or assume. */
export interface MappedAsn {
  readonly data: SupplierAsnData;
  readonly warnings: readonly string[];
}

/** Caller's settings for mapping. */
export interface MapAsnOptions {
  /** The receiving plant; wins over the ship-to party in the document. */
  readonly plant?: string;
  /**
   * The partner's offset from UTC (`Z`, `+01:00`, `-05:00`) for times sent without a zone. Without
   * it such times are dropped and the date is kept.
   */
  readonly utcOffset?: string;
}

/** A party of an interchange envelope. */
export interface EnvelopeParty {
  readonly id: string;
  /** X12 ISA05/ISA07 or EDIFACT partner identification code qualifier (0007); `''` when not sent. */
  readonly qualifier: string;
}

/** The interchange envelope of the notices. */
export interface AsnEnvelope {
  readonly format: 'x12' | 'edifact';
  readonly sender: EnvelopeParty;
  readonly receiver: EnvelopeParty;
  /** ISA13 / UNB 0020. */
  readonly controlNumber: string;
  /** Preparation date, `YYYY-MM-DD`, when it is a valid date. */
  readonly date?: string;
  /** Preparation time, `HH:MM` (no time zone is sent). */
  readonly time?: string;
  /** True for test interchanges (ISA15 `T`, UNB 0035 `1`). */
  readonly test: boolean;
  /** X12 ISA12 (`00401`) or EDIFACT syntax (`UNOC:3`). */
  readonly syntax: string;
}

/** Where in the interchange a notice came from. */
export interface AsnSource {
  /** Control number of the interchange (ISA13 / UNB 0020). */
  readonly interchange: string;
  /** X12 GS06, or EDIFACT UNG 0048 when groups are used. */
  readonly group?: string;
  /** X12 ST02 / EDIFACT UNH 0062. */
  readonly message: string;
  /** Index of the ST / UNH segment in the input. */
  readonly segmentIndex: number;
}
