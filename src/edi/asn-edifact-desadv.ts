/**
 * EDIFACT DESADV (despatch advice, the European ASN) → canonical `supplier.asn.received` data.
 * The message is first arranged into its segment groups per the D.96A segment table, so line items
 * (SG15) keep their references (SG16) and package details (SG20/SG21).
 */
import { type AsnLine, asnData, type MapAsnOptions, type MappedAsn, type ProductId } from './asn-types.js';
import { type DateParts, parseCompactDate, parseCompactTime, type TimeParts, toRfc3339 } from './dates.js';
import { EdifactParseError, type EdiPosition, excerpt, positionOf, where } from './edi-error.js';
import {
  type EdifactInterchange,
  type EdifactMessage,
  type EdifactSegment,
  edifactValue,
} from './edifact.js';
import {
  findGroups,
  findSegments,
  type GroupNode,
  group,
  groupSegments,
  groupsOf,
  type StructureEntry,
  segment,
  segmentsOf,
} from './edifact-groups.js';
import { edifactUnitToRec20, parseEdiNumber } from './units.js';

/** The DESADV segment table of directory D.96A (UNTDID), every group and segment with its maximum. */
export const DESADV_D96A: readonly StructureEntry[] = [
  segment('UNH', 1),
  segment('BGM', 1),
  segment('DTM', 10),
  segment('ALI', 5),
  segment('MEA', 5),
  segment('MOA', 5),
  group('SG1', 10, segment('RFF', 1), segment('DTM', 1)),
  group(
    'SG2',
    10,
    segment('NAD', 1),
    segment('LOC', 10),
    group('SG3', 10, segment('RFF', 1), segment('DTM', 1)),
    group('SG4', 10, segment('CTA', 1), segment('COM', 5)),
  ),
  group('SG5', 10, segment('TOD', 1), segment('LOC', 5), segment('FTX', 5)),
  group(
    'SG6',
    10,
    segment('TDT', 1),
    segment('PCD', 6),
    group('SG7', 10, segment('LOC', 1), segment('DTM', 10)),
  ),
  group(
    'SG8',
    10,
    segment('EQD', 1),
    segment('MEA', 5),
    segment('SEL', 25),
    segment('EQA', 5),
    group('SG9', 10, segment('HAN', 1), segment('FTX', 10)),
  ),
  group(
    'SG10',
    9999,
    segment('CPS', 1),
    segment('FTX', 5),
    group(
      'SG11',
      9999,
      segment('PAC', 1),
      segment('MEA', 10),
      segment('QTY', 10),
      group('SG12', 10, segment('HAN', 1), segment('FTX', 10)),
      group(
        'SG13',
        1000,
        segment('PCI', 1),
        segment('RFF', 1),
        segment('DTM', 5),
        segment('GIR', 99),
        group('SG14', 99, segment('GIN', 1), segment('DLM', 10)),
      ),
    ),
    group(
      'SG15',
      9999,
      segment('LIN', 1),
      segment('PIA', 10),
      segment('IMD', 25),
      segment('MEA', 10),
      segment('QTY', 10),
      segment('ALI', 10),
      segment('GIN', 100),
      segment('GIR', 100),
      segment('DLM', 100),
      segment('DTM', 5),
      segment('FTX', 5),
      segment('MOA', 5),
      group('SG16', 10, segment('RFF', 1), segment('DTM', 1)),
      group('SG17', 10, segment('DGS', 1), segment('QTY', 1), segment('FTX', 5)),
      group('SG18', 100, segment('LOC', 1), segment('NAD', 1), segment('DTM', 1), segment('QTY', 10)),
      group('SG19', 1000, segment('SGP', 1), segment('QTY', 10)),
      group(
        'SG20',
        9999,
        segment('PCI', 1),
        segment('DTM', 5),
        segment('MEA', 10),
        segment('QTY', 1),
        group('SG21', 10, segment('GIN', 1), segment('DLM', 100)),
        group('SG22', 10, segment('HAN', 1), segment('FTX', 5), segment('GIN', 1000)),
      ),
      group('SG23', 10, segment('QVR', 1), segment('DTM', 5)),
    ),
  ),
  segment('CNT', 5),
  segment('UNT', 1),
];

/** Item number types (7143) in order of preference for `material`: buyer's, then supplier's numbers. */
const MATERIAL_TYPES = ['BP', 'IN', 'SA', 'VP'];
/** 7143 / 7405 / 1153 codes for batch (lot) numbers. */
const BATCH_ITEM_TYPE = 'NB';
const BATCH_IDENTITY = 'BX';
const BATCH_REFERENCE = 'BT';
/** GIN 7405 code for serial shipping container codes. */
const SSCC_IDENTITY = 'BJ';
/** NAD 3035 qualifiers in order of preference: ship from, supplier, seller, consignor; ship to, delivery party, consignee. */
const SUPPLIER_PARTIES = ['SF', 'SU', 'SE', 'CZ'];
const RECEIVING_PARTIES = ['ST', 'DP', 'CN'];

/**
 * Arranges a DESADV into its D.96A segment groups. Segments that do not fit are left out and
 * reported through `warn`.
 */
export function groupDesadv(
  message: EdifactMessage,
  warn: (message: string) => void = () => undefined,
): GroupNode {
  return groupSegments(message.segments, DESADV_D96A, (s, reason) =>
    warn(
      reason === 'unknown'
        ? `${s.tag} at ${where(positionOf(s))} is not a DESADV segment; it was skipped.`
        : `${s.tag} at ${where(positionOf(s))} stands where the DESADV segment table does not allow it; it was skipped.`,
    ),
  );
}

/**
 * Maps one DESADV message. `interchange` supplies the sender (fallback supplier id) and the decimal
 * mark. Throws {@link EdifactParseError} (`wrong-message-type`, `missing-required-field`,
 * `invalid-value`) when no valid notice can be made; anything skipped is listed in `warnings`.
 */
export function mapDesadv(
  message: EdifactMessage,
  interchange: Pick<EdifactInterchange, 'sender' | 'delimiters'>,
  options: MapAsnOptions = {},
): MappedAsn {
  const unh = message.segments[0];
  const unhAt: EdiPosition = unh ? positionOf(unh) : {};
  if (message.type !== 'DESADV') {
    throw new EdifactParseError(
      'wrong-message-type',
      `Message ${message.reference} at ${where(unhAt)} is ${excerpt(message.type)}, not a DESADV despatch advice. ` +
        'Send advance ship notices as DESADV.',
      unhAt,
    );
  }
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  const label = `DESADV ${message.reference}`;
  if (message.release && message.release !== '96A') {
    warn(`${label} is directory ${message.release}; it is read with the D.96A segment table.`);
  }
  const root = groupDesadv(message, warn);
  const decimal = interchange.delimiters.decimal;

  const bgm = segmentsOf(root, 'BGM')[0];
  const asnId = bgm ? edifactValue(bgm, 1).trim() : '';
  if (!bgm || !asnId) {
    throw new EdifactParseError(
      'missing-required-field',
      `${label} has no document number: ${bgm ? `BGM at ${where(positionOf(bgm))} leaves element 1004 empty` : 'there is no BGM segment'}. ` +
        'Send the despatch advice number in BGM.',
      bgm ? positionOf(bgm) : unhAt,
    );
  }

  const { shipDate, documentDate } = resolveDates(root, options, label, unhAt, warn);
  const parties = groupsOf(root, 'SG2').flatMap((g) => segmentsOf(g, 'NAD'));
  const supplierId = resolveSupplier(parties, interchange, warn);
  const plant = resolvePlant(parties, options, label, unhAt, warn);

  const headerReferences = groupsOf(root, 'SG1').flatMap((g) => segmentsOf(g, 'RFF'));
  const orderOfMessage = referenceValue(headerReferences, 'ON');
  const lines: AsnLine[] = [];
  for (const item of findGroups(root, 'SG15')) {
    const line = mapLine(item, orderOfMessage, decimal, warn);
    if (line) lines.push(line);
  }
  if (lines.length === 0) {
    throw new EdifactParseError(
      'missing-required-field',
      `${label} has no despatched lines: no line item (SG15 LIN) with a despatch quantity (QTY+12) could be read.`,
      unhAt,
    );
  }

  const orders = new Set(lines.map((l) => l.purchaseOrder));
  const purchaseOrder = orders.size === 1 ? [...orders][0] : undefined;
  const billOfLading = referenceValue(headerReferences, 'BM');
  const trackingNumber = referenceValue(headerReferences, 'CN') ?? billOfLading;
  const carrier = resolveCarrier(root);
  const packages = packageCount(root);

  const data = asnData(
    { asnId, supplierId, plant, shipDate, lines },
    { documentDate, purchaseOrder, carrier, trackingNumber, billOfLading, packages },
  );
  return { data, warnings };
}

/** DTM formats (2379) understood here: total length and length of the date part. */
const DTM_FORMATS: Readonly<Record<string, { readonly length: number; readonly dateLength: number }>> = {
  '101': { length: 6, dateLength: 6 }, // YYMMDD
  '102': { length: 8, dateLength: 8 }, // CCYYMMDD
  '201': { length: 10, dateLength: 6 }, // YYMMDDHHMM
  '203': { length: 12, dateLength: 8 }, // CCYYMMDDHHMM
  '204': { length: 14, dateLength: 8 }, // CCYYMMDDHHMMSS
};

/** Date and time of a DTM per its format code; without a code the format is told by the length. */
function readDtm(dtm: EdifactSegment): { date: DateParts; time?: TimeParts } | undefined {
  const value = edifactValue(dtm, 0, 1).trim();
  const code = edifactValue(dtm, 0, 2).trim();
  const format = code ? DTM_FORMATS[code] : Object.values(DTM_FORMATS).find((f) => f.length === value.length);
  if (!format || value.length !== format.length) return undefined;
  const date = parseCompactDate(value.slice(0, format.dateLength));
  if (!date) return undefined;
  if (format.length === format.dateLength) return { date };
  const time = parseCompactTime(value.slice(format.dateLength));
  return time ? { date, time } : undefined;
}

function resolveDates(
  root: GroupNode,
  options: MapAsnOptions,
  label: string,
  unhAt: EdiPosition,
  warn: (m: string) => void,
): { shipDate: string; documentDate?: string } {
  const dtms = segmentsOf(root, 'DTM');
  const find = (qualifier: string) => dtms.find((d) => edifactValue(d, 0, 0).trim() === qualifier);
  const read = (dtm: EdifactSegment) => {
    const parsed = readDtm(dtm);
    if (!parsed) {
      throw new EdifactParseError(
        'invalid-value',
        `DTM at ${where(positionOf(dtm))} holds ${excerpt(edifactValue(dtm, 0, 1))} with format ` +
          `${excerpt(edifactValue(dtm, 0, 2))}; send a valid date in format 102 (CCYYMMDD), 203 (CCYYMMDDHHMM) or ` +
          '204 (CCYYMMDDHHMMSS).',
        positionOf(dtm),
      );
    }
    return parsed;
  };
  const documentDtm = find('137');
  const document = documentDtm ? read(documentDtm) : undefined;
  // The issue date is informative only: its time is kept when the partner's offset is known.
  const documentDate = document
    ? toRfc3339(document.date, document.time, options.utcOffset, () => undefined, 'DTM+137')
    : undefined;
  const despatchDtm = find('11');
  if (despatchDtm) {
    const despatch = read(despatchDtm);
    const shipDate = toRfc3339(
      despatch.date,
      despatch.time,
      options.utcOffset,
      warn,
      `The despatch date DTM+11 at ${where(positionOf(despatchDtm))}`,
    );
    return { shipDate, documentDate };
  }
  if (document && documentDtm) {
    warn(`${label} has no despatch date (DTM+11); the ship date is the document date (DTM+137).`);
    return {
      shipDate: toRfc3339(document.date, document.time, options.utcOffset, warn, 'The document date DTM+137'),
      documentDate,
    };
  }
  throw new EdifactParseError(
    'missing-required-field',
    `${label} has neither a despatch date (DTM+11) nor a document date (DTM+137) in its header.`,
    unhAt,
  );
}

interface Party {
  readonly id: string;
  readonly name: string;
  readonly segment: EdifactSegment;
}

function party(parties: readonly EdifactSegment[], qualifier: string): Party | undefined {
  const nad = parties.find((n) => edifactValue(n, 0).trim() === qualifier);
  if (!nad) return undefined;
  // C080 party name, else the first line of C058 name and address.
  const name = edifactValue(nad, 3, 0).trim() || edifactValue(nad, 2, 0).trim();
  return { id: edifactValue(nad, 1, 0).trim(), name, segment: nad };
}

function resolveSupplier(
  parties: readonly EdifactSegment[],
  interchange: Pick<EdifactInterchange, 'sender'>,
  warn: (m: string) => void,
): string {
  for (const qualifier of SUPPLIER_PARTIES) {
    const p = party(parties, qualifier);
    if (p?.id || p?.name) return p.id || p.name;
  }
  warn(
    `No supplier party (NAD+SF, NAD+SU, NAD+SE or NAD+CZ); supplierId is the interchange sender ${interchange.sender.id}.`,
  );
  return interchange.sender.id;
}

function resolvePlant(
  parties: readonly EdifactSegment[],
  options: MapAsnOptions,
  label: string,
  unhAt: EdiPosition,
  warn: (m: string) => void,
): string {
  const receiving = RECEIVING_PARTIES.map((q) => party(parties, q)).find((p) => p?.id);
  if (options.plant) {
    if (receiving && receiving.id !== options.plant) {
      warn(
        `The delivery party names ${receiving.id}; the plant given by the caller, ${options.plant}, is used.`,
      );
    }
    return options.plant;
  }
  if (receiving) return receiving.id;
  const buyer = party(parties, 'BY');
  if (buyer?.id) {
    warn(`No delivery party (NAD+ST, NAD+DP or NAD+CN); the plant is the buyer NAD+BY ${buyer.id}.`);
    return buyer.id;
  }
  throw new EdifactParseError(
    'missing-required-field',
    `${label} names no receiving plant: no NAD+ST, NAD+DP, NAD+CN or NAD+BY with a party id. Send the delivery ` +
      'party with its id, or configure the plant for this supplier.',
    unhAt,
  );
}

function referenceValue(references: readonly EdifactSegment[], qualifier: string): string | undefined {
  const rff = references.find(
    (r) => edifactValue(r, 0, 0).trim() === qualifier && edifactValue(r, 0, 1).trim(),
  );
  return rff ? edifactValue(rff, 0, 1).trim() : undefined;
}

function resolveCarrier(root: GroupNode): string | undefined {
  for (const tdt of groupsOf(root, 'SG6').flatMap((g) => segmentsOf(g, 'TDT'))) {
    const carrier = edifactValue(tdt, 4, 0).trim() || edifactValue(tdt, 4, 3).trim();
    if (carrier) return carrier;
  }
  return undefined;
}

/** Packages of the outermost packing level: PAC counts of the CPS levels that have no parent. */
function packageCount(root: GroupNode): number | undefined {
  let total: number | undefined;
  for (const level of groupsOf(root, 'SG10')) {
    const cps = segmentsOf(level, 'CPS')[0];
    if (!cps || edifactValue(cps, 1).trim()) continue;
    for (const pac of groupsOf(level, 'SG11').flatMap((g) => segmentsOf(g, 'PAC'))) {
      const n = parseEdiNumber(edifactValue(pac, 0));
      if (n !== undefined && Number.isInteger(n) && n >= 0) total = (total ?? 0) + n;
    }
  }
  return total;
}

/** Values of GIN segments with identity qualifier `qualifier`: every C208 first component. */
function identities(gins: readonly EdifactSegment[], qualifier: string): string[] {
  return gins
    .filter((g) => edifactValue(g, 0).trim() === qualifier)
    .flatMap((g) => g.elements.slice(1).map((c) => (c[0] ?? '').trim()))
    .filter(Boolean);
}

function mapLine(
  item: GroupNode,
  orderOfMessage: string | undefined,
  decimal: string,
  warn: (m: string) => void,
): AsnLine | undefined {
  const lin = segmentsOf(item, 'LIN')[0]!;
  const lineNumber = edifactValue(lin, 0).trim();
  const name = lineNumber
    ? `Line ${lineNumber} at ${where(positionOf(lin))}`
    : `LIN at ${where(positionOf(lin))}`;
  const productIds: ProductId[] = [];
  const lots: string[] = [];
  const add = (id: string, qualifier: string) => {
    if (!id) return;
    if (qualifier === BATCH_ITEM_TYPE) lots.push(id);
    else productIds.push(qualifier ? { id, qualifier } : { id });
  };
  add(edifactValue(lin, 2, 0).trim(), edifactValue(lin, 2, 1).trim());
  for (const pia of segmentsOf(item, 'PIA')) {
    for (const c212 of pia.elements.slice(1)) add((c212[0] ?? '').trim(), (c212[1] ?? '').trim());
  }
  const preferred = MATERIAL_TYPES.map((t) => productIds.find((p) => p.qualifier === t)).find(Boolean);
  const material = (preferred ?? productIds[0])?.id;
  if (!material) {
    warn(`${name} carries no item number (LIN C212 or PIA); the line was skipped.`);
    return undefined;
  }
  const qty = segmentsOf(item, 'QTY').find((q) => edifactValue(q, 0, 0).trim() === '12');
  if (!qty) {
    warn(`${name} (${material}) has no despatch quantity (QTY+12); the line was skipped.`);
    return undefined;
  }
  const value = parseEdiNumber(edifactValue(qty, 0, 1), decimal);
  if (value === undefined || value < 0) {
    throw new EdifactParseError(
      'invalid-value',
      `QTY at ${where(positionOf(qty))} is ${excerpt(edifactValue(qty, 0, 1))}; the despatch quantity must be a ` +
        'number >= 0.',
      positionOf(qty),
    );
  }
  const unit = edifactValue(qty, 0, 2).trim();
  if (!unit) warn(`QTY+12 at ${where(positionOf(qty))} has no unit; EA (each) is assumed.`);
  const uom = unit ? edifactUnitToRec20(unit) : 'EA';

  const references = groupsOf(item, 'SG16').flatMap((g) => segmentsOf(g, 'RFF'));
  const gins = findSegments(item, 'GIN');
  lots.push(...identities(gins, BATCH_IDENTITY));
  for (const rff of references.filter((r) => edifactValue(r, 0, 0).trim() === BATCH_REFERENCE)) {
    const lot = edifactValue(rff, 0, 1).trim();
    if (lot) lots.push(lot);
  }
  const packageIds = identities(gins, SSCC_IDENTITY);
  const purchaseOrder = referenceValue(references, 'ON') ?? orderOfMessage;
  const purchaseOrderLine = referenceValue(references, 'LI');
  const imd = segmentsOf(item, 'IMD').find((s) => edifactValue(s, 2, 3).trim());
  const description = imd
    ? [edifactValue(imd, 2, 3), edifactValue(imd, 2, 4)]
        .map((s) => s.trim())
        .filter(Boolean)
        .join(' ')
    : undefined;

  return {
    material,
    quantity: { value, uom },
    ...(lots.length > 0 ? { lots: [...new Set(lots)] } : {}),
    ...(lineNumber ? { lineNumber } : {}),
    ...(purchaseOrder ? { purchaseOrder } : {}),
    ...(purchaseOrderLine ? { purchaseOrderLine } : {}),
    ...(description ? { description } : {}),
    productIds,
    ...(packageIds.length > 0 ? { packageIds: [...new Set(packageIds)] } : {}),
  };
}
