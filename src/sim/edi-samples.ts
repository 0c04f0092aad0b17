/**
 * Advance ship notices as a supplier would send them: canonical JSON, an X12 856 interchange and an
 * EDIFACT D.96A DESADV interchange, all from the same ASN data. The EDI documents carry real
 * envelopes (ISA/GS/ST, UNA/UNB/UNH) with their segment counts and control numbers, so the hub's
 * parsers read them as they would a partner's file.
 */
import { X12_UNIT_TO_REC20, x12UnitToRec20 } from '../edi/units.js';

export interface AsnLineData {
  readonly material: string;
  /** The quantity in a UN/CEFACT Rec 20 unit. */
  readonly quantity: { readonly value: number; readonly uom: string };
  readonly lots?: readonly string[];
}

/** The ASN data the documents are made from (a subset of `supplier.asn.received` data). */
export interface AsnDocument {
  readonly asnId: string;
  readonly supplierId: string;
  /** The receiving plant (the ship-to party). */
  readonly plant: string;
  /** `YYYY-MM-DD`, or a UTC date-time `YYYY-MM-DDTHH:MM:SSZ` (sent to the second). */
  readonly shipDate: string;
  readonly lines: readonly AsnLineData[];
  readonly purchaseOrder?: string;
  /** The ship-from party's name; defaults to the supplier id. */
  readonly supplierName?: string;
}

/** Envelope settings of one interchange. */
export interface EnvelopeOptions {
  /** Interchange sender id (ISA06, max 15 characters / UNB 0004). */
  readonly sender: string;
  /** Interchange receiver id (ISA08 / UNB 0010). */
  readonly receiver: string;
  /** Interchange control number (ISA13 / UNB 0020), 1 to 999999999. */
  readonly controlNumber: number;
  /** X12 functional group control number (GS06); defaults to the interchange's. */
  readonly groupControlNumber?: number;
  /** Transaction set / message control number (ST02 / UNH 0062). @default 1 */
  readonly messageControlNumber?: number;
  /** When the interchange was prepared (ISA09/10, GS04/05, BSN03/04, UNB 0017/0019, DTM+137), in UTC. */
  readonly preparedAt?: Date;
  /** Marks a test interchange (ISA15 `T`, UNB 0035 `1`). */
  readonly test?: boolean;
}

/** The canonical JSON body of `POST /v1/suppliers/{supplierId}/asns` (the supplier is in the path). */
export function canonicalAsn(asn: AsnDocument): {
  asnId: string;
  plant: string;
  shipDate: string;
  lines: AsnLineData[];
} {
  return {
    asnId: asn.asnId,
    plant: asn.plant,
    shipDate: asn.shipDate,
    lines: asn.lines.map((l) => ({
      material: l.material,
      quantity: { value: l.quantity.value, uom: l.quantity.uom },
      ...(l.lots && l.lots.length > 0 ? { lots: [...l.lots] } : {}),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// X12 856

/** X12 unit codes for Rec 20 units: the inverse of the table the hub maps with. */
const REC20_TO_X12: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(X12_UNIT_TO_REC20).map(([x12, rec20]) => [rec20, x12]),
);

/**
 * An X12 004010 interchange holding one 856 ship notice: BSN, the ship date (DTM*011), ship-from
 * (N1*SF) and ship-to (N1*ST) parties at the shipment level, an order level with PRF when there is a
 * purchase order, and one item level per line (LIN buyer's part number, SN1, REF*LT per lot).
 * Delimiters are `*`, `>` and `~`; values holding them are refused with a RangeError, because X12
 * has no release character.
 */
export function buildX12Asn(asn: AsnDocument, envelope: EnvelopeOptions): string {
  checkAsn(asn);
  const at = envelope.preparedAt ?? new Date();
  const icn = controlNumber(envelope.controlNumber, 'controlNumber');
  const gcn = controlNumber(envelope.groupControlNumber ?? envelope.controlNumber, 'groupControlNumber');
  const stcn = String(controlNumber(envelope.messageControlNumber ?? 1, 'messageControlNumber')).padStart(
    4,
    '0',
  );
  const v = x12Value;
  const isa = [
    'ISA',
    '00',
    ' '.repeat(10),
    '00',
    ' '.repeat(10),
    'ZZ',
    isaId(envelope.sender, 'sender'),
    'ZZ',
    isaId(envelope.receiver, 'receiver'),
    compactDate(at).slice(2),
    compactTime(at),
    'U',
    '00401',
    String(icn).padStart(9, '0'),
    '0',
    envelope.test ? 'T' : 'P',
    '>',
  ].join('*');

  const body: string[][] = [
    ['BSN', '00', v(asn.asnId), compactDate(at), compactTime(at)],
    shipDateX12(asn.shipDate),
  ];
  let hl = 0;
  body.push(['HL', String(++hl), '', 'S']);
  body.push(['N1', 'SF', v(asn.supplierName ?? asn.supplierId), '92', v(asn.supplierId)]);
  body.push(['N1', 'ST', v(asn.plant), '92', v(asn.plant)]);
  let parent = hl;
  if (asn.purchaseOrder !== undefined) {
    body.push(['HL', String(++hl), String(parent), 'O']);
    body.push(['PRF', v(asn.purchaseOrder)]);
    parent = hl;
  }
  asn.lines.forEach((line, i) => {
    body.push(['HL', String(++hl), String(parent), 'I']);
    body.push(['LIN', String(i + 1), 'BP', v(line.material)]);
    body.push(['SN1', '', decimal(line.quantity.value), x12Unit(line.quantity.uom)]);
    for (const lot of line.lots ?? []) body.push(['REF', 'LT', v(lot)]);
  });
  // CTT01 counts the HL levels, as 856 partners commonly do.
  body.push(['CTT', String(hl)]);

  const transaction = [['ST', '856', stcn], ...body];
  transaction.push(['SE', String(transaction.length + 1), stcn]);
  const segments = [
    isa,
    [
      'GS',
      'SH',
      gsId(envelope.sender),
      gsId(envelope.receiver),
      compactDate(at),
      compactTime(at),
      String(gcn),
      'X',
      '004010',
    ].join('*'),
    ...transaction.map((s) => s.join('*')),
    ['GE', '1', String(gcn)].join('*'),
    ['IEA', '1', String(icn).padStart(9, '0')].join('*'),
  ];
  return segments.map((s) => `${s}~\n`).join('');
}

function x12Value(value: string): string {
  printable(value);
  if (/[*>~^]/.test(value)) {
    throw new RangeError(`${JSON.stringify(value)} holds an X12 delimiter (* > ~ ^); X12 cannot escape it`);
  }
  return value;
}

function isaId(id: string, name: string): string {
  x12Value(id);
  if (id.length === 0 || id.length > 15)
    throw new RangeError(`the ${name} id must have 1 to 15 characters for ISA`);
  return id.padEnd(15, ' ');
}

function gsId(id: string): string {
  return x12Value(id.trim());
}

function x12Unit(uom: string): string {
  const unit = REC20_TO_X12[uom] ?? uom;
  // The hub maps the X12 code back; a unit that would come back as another code cannot be sent.
  if (x12UnitToRec20(unit).uom !== uom) {
    throw new RangeError(`unit ${uom} has no X12 code that maps back to it`);
  }
  return x12Value(unit);
}

function shipDateX12(shipDate: string): string[] {
  const { date, time } = splitShipDate(shipDate);
  return time ? ['DTM', '011', date, time, 'UT'] : ['DTM', '011', date];
}

// ---------------------------------------------------------------------------------------------
// EDIFACT DESADV

/**
 * A UNOC syntax 3 interchange (with UNA) holding one D.96A DESADV: BGM (351, the ASN id), DTM+137
 * and DTM+11, RFF+ON when there is a purchase order, NAD+SF and NAD+ST, one CPS with a LIN, QTY+12
 * and GIN+BX per lot for each line, and CNT+2. Service characters in values are escaped with `?`.
 * A date-time ship date is sent as format 204 without a zone: the hub keeps its time only when the
 * supplier's UTC offset is configured.
 */
export function buildDesadv(asn: AsnDocument, envelope: EnvelopeOptions): string {
  checkAsn(asn);
  const at = envelope.preparedAt ?? new Date();
  const icr = String(controlNumber(envelope.controlNumber, 'controlNumber'));
  const ref = String(controlNumber(envelope.messageControlNumber ?? 1, 'messageControlNumber'));
  const e = edifactValue;
  const { date, time } = splitShipDate(asn.shipDate);

  const message: string[] = [
    `UNH+${ref}+DESADV:D:96A:UN`,
    `BGM+351+${e(asn.asnId)}+9`,
    `DTM+137:${compactDate(at)}${compactTime(at)}:203`,
    time ? `DTM+11:${date}${time}:204` : `DTM+11:${date}:102`,
  ];
  if (asn.purchaseOrder !== undefined) message.push(`RFF+ON:${e(asn.purchaseOrder)}`);
  message.push(`NAD+SF+${e(asn.supplierId)}::92++${e(asn.supplierName ?? asn.supplierId)}`);
  message.push(`NAD+ST+${e(asn.plant)}::92`);
  message.push('CPS+1');
  asn.lines.forEach((line, i) => {
    message.push(`LIN+${i + 1}++${e(line.material)}:BP`);
    message.push(`QTY+12:${decimal(line.quantity.value)}:${edifactUnit(line.quantity.uom)}`);
    const lots = line.lots ?? [];
    if (lots.length > 100) throw new RangeError('a DESADV line carries at most 100 lots (GIN)');
    for (const lot of lots) message.push(`GIN+BX+${e(lot)}`);
  });
  message.push(`CNT+2:${asn.lines.length}`);
  message.push(`UNT+${message.length + 1}+${ref}`);

  const unb =
    `UNB+UNOC:3+${e(envelope.sender)}:ZZ+${e(envelope.receiver)}:ZZ+` +
    `${compactDate(at).slice(2)}:${compactTime(at)}+${icr}` +
    (envelope.test ? '++++++1' : '');
  // The UNA's own last character is the segment terminator, so it is written like any segment.
  return ['UNA:+.? ', unb, ...message, `UNZ+1+${icr}`].map((s) => `${s}'\n`).join('');
}

function edifactValue(value: string): string {
  printable(value);
  for (const c of value) {
    if (c.codePointAt(0)! > 0xff) throw new RangeError(`${JSON.stringify(value)} is not Latin-1 (UNOC)`);
  }
  return value.replace(/[?:+']/g, '?$&');
}

function edifactUnit(uom: string): string {
  // PCE is read as H87; every other Rec 20 code passes as it is.
  if (uom === 'PCE') throw new RangeError('unit PCE is read back as H87; send H87');
  return edifactValue(uom);
}

// ---------------------------------------------------------------------------------------------
// Shared

function checkAsn(asn: AsnDocument): void {
  for (const [name, value] of [
    ['asnId', asn.asnId],
    ['supplierId', asn.supplierId],
    ['plant', asn.plant],
  ] as const) {
    identifier(value, name);
  }
  if (asn.purchaseOrder !== undefined) identifier(asn.purchaseOrder, 'purchaseOrder');
  if (asn.lines.length === 0) throw new RangeError('an ASN needs at least one line');
  for (const line of asn.lines) {
    identifier(line.material, 'material');
    for (const lot of line.lots ?? []) identifier(lot, 'lot');
    if (!/^[A-Z0-9]{1,3}$/.test(line.quantity.uom)) {
      throw new RangeError(`unit ${JSON.stringify(line.quantity.uom)} is not a Rec 20 code`);
    }
    if (new Set(line.lots ?? []).size !== (line.lots ?? []).length) {
      throw new RangeError(`line ${line.material} repeats a lot`);
    }
  }
  splitShipDate(asn.shipDate);
}

/** Ids are read back trimmed, so only trimmed, non-empty ids make the trip. */
function identifier(value: string, name: string): void {
  if (value.length === 0 || value.trim() !== value) {
    throw new RangeError(`${name} ${JSON.stringify(value)} must be non-empty without surrounding spaces`);
  }
}

function printable(value: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new RangeError(`${JSON.stringify(value)} holds a control character`);
  }
}

function controlNumber(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1 || n > 999_999_999) {
    throw new RangeError(`${name} must be an integer from 1 to 999999999, not ${n}`);
  }
  return n;
}

const SHIP_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})Z)?$/;

function splitShipDate(shipDate: string): { date: string; time?: string } {
  const m = SHIP_DATE.exec(shipDate);
  if (!m)
    throw new RangeError(`shipDate ${JSON.stringify(shipDate)} must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ`);
  const date = `${m[1]}${m[2]}${m[3]}`;
  return m[4] ? { date, time: `${m[4]}${m[5]}${m[6]}` } : { date };
}

/** A non-negative decimal without exponent, exactly as the number reads back. */
function decimal(value: number): string {
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`quantity ${value} must be a finite number >= 0`);
  let text = String(value);
  if (/e/i.test(text)) text = value.toFixed(20).replace(/\.?0+$/, '');
  if (/e/i.test(text) || Number(text) !== value)
    throw new RangeError(`quantity ${value} cannot be written exactly`);
  return text;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

function compactDate(d: Date): string {
  return `${d.getUTCFullYear()}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}`;
}

function compactTime(d: Date): string {
  return `${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}`;
}
