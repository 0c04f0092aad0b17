/**
 * X12 856 Ship Notice/Manifest → canonical `supplier.asn.received` data.
 *
 * The 856 nests its content in HL levels (S shipment, O order, T tare, P pack, I item). The levels
 * are linked into a tree by HL01 (id) and HL02 (parent id) and walked as such, so item lines find
 * their order and package whatever order the partner wrote them in.
 */
import { type AsnLine, asnData, type MapAsnOptions, type MappedAsn, type ProductId } from './asn-types.js';
import { parseCompactDate, parseCompactTime, toRfc3339, X12_TIME_CODE_OFFSETS } from './dates.js';
import { type EdiPosition, excerpt, positionOf, where, X12ParseError } from './edi-error.js';
import { parseEdiNumber, x12UnitToRec20 } from './units.js';
import { type X12Interchange, type X12Segment, type X12Transaction, x12Element } from './x12.js';

/** Names of transaction sets partners send by mistake, for the error message. */
const TRANSACTION_SET_NAMES: Readonly<Record<string, string>> = {
  '810': 'invoice',
  '816': 'organizational relationships',
  '830': 'planning schedule',
  '846': 'inventory inquiry/advice',
  '850': 'purchase order',
  '855': 'purchase order acknowledgment',
  '860': 'purchase order change',
  '862': 'shipping schedule',
  '863': 'report of test results',
  '865': 'purchase order change acknowledgment',
  '866': 'production sequence',
  '940': 'warehouse shipping order',
  '945': 'warehouse shipping advice',
  '997': 'functional acknowledgment',
  '999': 'implementation acknowledgment',
};

/** Describes a transaction set id for messages: `850 (purchase order)`. */
export function describeTransactionSet(setId: string): string {
  const name = TRANSACTION_SET_NAMES[setId];
  return name ? `${setId} (${name})` : setId;
}

/** Product id qualifiers in order of preference for `material`: buyer's part/item, then vendor's part. */
const MATERIAL_QUALIFIERS = ['BP', 'IN', 'VP'];
/** LIN qualifiers that carry a lot or batch number rather than a product id. */
const LOT_QUALIFIERS = new Set(['LT', 'B8']);
/** REF qualifiers for lot (LT) and batch (BT) numbers. */
const LOT_REFERENCES = new Set(['LT', 'BT']);
/** MAN qualifiers whose MAN02 is a serial shipping container code. */
const SSCC_MARKS = new Set(['GM', 'AA']);

/** Rank of HL level codes, highest level first; used to infer missing parents. */
const LEVEL_RANK: Readonly<Record<string, number>> = { S: 0, O: 1, T: 2, P: 3, I: 4 };

/** The nearest order, pack and tare levels above an item. */
interface ItemContext {
  readonly order?: HlNode;
  readonly pack?: HlNode;
  readonly tare?: HlNode;
}

interface HlNode {
  readonly id: string;
  readonly level: string;
  readonly hl: X12Segment;
  readonly segments: X12Segment[];
  readonly children: HlNode[];
}

/**
 * Maps one 856 transaction set. `interchange` supplies the sender, the fallback supplier id.
 * Throws {@link X12ParseError} (`wrong-transaction-set`, `missing-required-field`,
 * `invalid-value`) when no valid notice can be made; anything skipped is listed in `warnings`.
 */
export function mapX12Asn(
  transaction: X12Transaction,
  interchange: Pick<X12Interchange, 'senderId'>,
  options: MapAsnOptions = {},
): MappedAsn {
  const st = transaction.segments[0];
  const stAt: EdiPosition = st ? positionOf(st) : {};
  if (transaction.setId !== '856') {
    throw new X12ParseError(
      'wrong-transaction-set',
      `Transaction set ${describeTransactionSet(transaction.setId)} (ST02 ${transaction.controlNumber}) at ` +
        `${where(stAt)} is not an 856 ship notice. Send advance ship notices as 856.`,
      stAt,
    );
  }
  const warnings: string[] = [];
  const warn = (message: string) => warnings.push(message);
  const label = `856 ST02 ${transaction.controlNumber}`;
  const { header, roots, nodes } = buildHierarchy(transaction.segments.slice(1, -1), warn);

  const bsn = header.find((s) => s.tag === 'BSN');
  if (!bsn) {
    throw new X12ParseError(
      'missing-required-field',
      `${label} has no BSN segment before its first HL.`,
      stAt,
    );
  }
  const shipment = nodes.filter((n) => n.level === 'S');
  if (shipment.length > 1) {
    warn(
      `${label} has ${shipment.length} shipment levels (HL03 = S); shipment data is read from HL ${shipment[0]!.id}.`,
    );
  }
  const shipmentPool = [...header, ...(shipment[0]?.segments ?? [])];
  const everywhere = [...header, ...nodes.flatMap((n) => n.segments)];

  const asnId = resolveAsnId(bsn, shipmentPool, label, warn);
  const { shipDate, documentDate } = resolveDates(bsn, shipmentPool, options, label, warn);
  const supplierId = resolveSupplier(shipmentPool, everywhere, interchange, warn);
  const plant = resolvePlant(shipmentPool, everywhere, options, label, stAt, warn);

  const lines: AsnLine[] = [];
  let packCount = 0;
  // Depth-first in document order with an explicit stack: a hostile file can nest HLs thousands deep.
  const stack: Array<{ node: HlNode; context: ItemContext }> = roots
    .map((node) => ({ node, context: {} }))
    .reverse();
  for (let entry = stack.pop(); entry; entry = stack.pop()) {
    const { node } = entry;
    const context: ItemContext = {
      ...entry.context,
      ...(node.level === 'O' ? { order: node } : {}),
      ...(node.level === 'P' ? { pack: node } : {}),
      ...(node.level === 'T' ? { tare: node } : {}),
    };
    if (node.level === 'P') packCount++;
    if (node.level === 'I') {
      const line = mapItem(node, context, warn);
      if (line) lines.push(line);
    }
    for (let i = node.children.length - 1; i >= 0; i--) stack.push({ node: node.children[i]!, context });
  }
  if (lines.length === 0) {
    throw new X12ParseError(
      'missing-required-field',
      `${label} has no shipped lines: no item level (HL03 = I) with LIN and SN1 could be read.`,
      stAt,
    );
  }

  const orders = new Set(lines.map((l) => l.purchaseOrder));
  const purchaseOrder = orders.size === 1 ? [...orders][0] : undefined;
  const billOfLading = reference(shipmentPool, 'BM');
  const trackingNumber = reference(shipmentPool, 'CN') ?? billOfLading;
  const carrier = resolveCarrier(shipmentPool);
  const packages = packCount > 0 ? packCount : ladingQuantity(shipmentPool);

  const data = asnData(
    { asnId, supplierId, plant, shipDate, lines },
    { documentDate, purchaseOrder, carrier, trackingNumber, billOfLading, packages },
  );
  return { data, warnings };
}

/** Splits the transaction body into header segments and the HL tree. */
function buildHierarchy(
  body: readonly X12Segment[],
  warn: (m: string) => void,
): { header: X12Segment[]; roots: HlNode[]; nodes: HlNode[] } {
  const header: X12Segment[] = [];
  const nodes: HlNode[] = [];
  const roots: HlNode[] = [];
  const byId = new Map<string, HlNode>();
  const inferred: string[] = [];
  let current: HlNode | undefined;
  let summary = false;

  // The latest HL of each level rank, to find the nearest preceding higher level in constant time.
  const latestByRank: Array<{ node: HlNode; position: number } | undefined> = [];
  const rankOf = (level: string) => LEVEL_RANK[level] ?? LEVEL_RANK['I']!;
  const nearestHigher = (level: string): HlNode | undefined => {
    let best: { node: HlNode; position: number } | undefined;
    for (let rank = 0; rank < rankOf(level); rank++) {
      const candidate = latestByRank[rank];
      if (candidate && (!best || candidate.position > best.position)) best = candidate;
    }
    return best?.node;
  };

  for (const segment of body) {
    if (segment.tag === 'CTT') summary = true;
    if (summary) continue;
    if (segment.tag !== 'HL') {
      if (current) current.segments.push(segment);
      else header.push(segment);
      continue;
    }
    const node: HlNode = {
      id: x12Element(segment, 1).trim(),
      level: x12Element(segment, 3).trim(),
      hl: segment,
      segments: [],
      children: [],
    };
    const parentId = x12Element(segment, 2).trim();
    if (!(node.level in LEVEL_RANK)) {
      warn(
        `HL ${node.id} at ${where(positionOf(segment))} has level code ${excerpt(node.level)}; it is read as an item-level sibling.`,
      );
    }
    // Parents must precede their children, so only HLs already seen can be parents (no cycles).
    let parent: HlNode | undefined;
    if (parentId) {
      parent = byId.get(parentId);
      if (!parent) {
        parent = nearestHigher(node.level);
        warn(
          `HL ${node.id} at ${where(positionOf(segment))} names parent ${excerpt(parentId)}, which no earlier HL has; it was ` +
            `attached to ${parent ? `HL ${parent.id}` : 'the top level'}.`,
        );
      }
    } else if (node.level !== 'S') {
      parent = nearestHigher(node.level);
      if (parent) inferred.push(node.id);
    }
    if (parent) parent.children.push(node);
    else roots.push(node);
    if (byId.has(node.id))
      warn(
        `HL id ${excerpt(node.id)} at ${where(positionOf(segment))} is used twice; children go to the first.`,
      );
    else byId.set(node.id, node);
    latestByRank[rankOf(node.level)] = { node, position: nodes.length };
    nodes.push(node);
    current = node;
  }
  if (inferred.length > 0) {
    warn(
      `HL ${inferred.join(', ')} name no parent (HL02); each was attached to the nearest preceding HL of a higher ` +
        'level.',
    );
  }
  return { header, roots, nodes };
}

function resolveAsnId(
  bsn: X12Segment,
  pool: readonly X12Segment[],
  label: string,
  warn: (m: string) => void,
): string {
  const shipmentId = x12Element(bsn, 2).trim();
  if (shipmentId) return shipmentId;
  const bol = reference(pool, 'BM');
  if (bol) {
    warn(
      `${label} has no shipment identification (BSN02); the bill of lading number (REF*BM) ${bol} is the asnId.`,
    );
    return bol;
  }
  throw new X12ParseError(
    'missing-required-field',
    `${label} has no shipment identification: BSN02 at ${where(positionOf(bsn))} is empty and there is no bill of lading ` +
      '(REF*BM). Fill in BSN02.',
    positionOf(bsn),
  );
}

function resolveDates(
  bsn: X12Segment,
  pool: readonly X12Segment[],
  options: MapAsnOptions,
  label: string,
  warn: (m: string) => void,
): { shipDate: string; documentDate?: string } {
  const bsnDate = parseCompactDate(x12Element(bsn, 3));
  const bsnTime = parseCompactTime(x12Element(bsn, 4));
  // The notice's own date is informative only: its time is kept when the partner's offset is known.
  const documentDate = bsnDate
    ? toRfc3339(bsnDate, bsnTime, options.utcOffset, () => undefined, 'BSN03/BSN04')
    : undefined;

  const shipped = pool.find((s) => s.tag === 'DTM' && x12Element(s, 1).trim() === '011');
  if (shipped) {
    const date = parseCompactDate(x12Element(shipped, 2));
    if (!date) {
      throw new X12ParseError(
        'invalid-value',
        `The shipped date DTM02 at ${where(positionOf(shipped))} is ${excerpt(x12Element(shipped, 2))}; it must be a valid ` +
          'CCYYMMDD date.',
        positionOf(shipped),
      );
    }
    const timeText = x12Element(shipped, 3).trim();
    const time = timeText ? parseCompactTime(timeText) : undefined;
    if (timeText && !time)
      warn(
        `The shipped time DTM03 at ${where(positionOf(shipped))} (${excerpt(timeText)}) is not a valid time.`,
      );
    const zone = X12_TIME_CODE_OFFSETS[x12Element(shipped, 4).trim()] ?? options.utcOffset;
    return {
      shipDate: toRfc3339(date, time, zone, warn, `The ship date DTM*011 at ${where(positionOf(shipped))}`),
      documentDate,
    };
  }
  if (!bsnDate) {
    throw new X12ParseError(
      'invalid-value',
      `${label} has no shipped date (DTM*011) and BSN03 at ${where(positionOf(bsn))} is ${excerpt(x12Element(bsn, 3))}, not a ` +
        'valid CCYYMMDD date. Send DTM*011 or a valid BSN03.',
      positionOf(bsn),
    );
  }
  warn(`${label} has no shipped date (DTM*011); the ship date is the notice date BSN03.`);
  return {
    shipDate: toRfc3339(bsnDate, bsnTime, options.utcOffset, warn, 'The ship date BSN03/BSN04'),
    documentDate,
  };
}

interface Party {
  readonly id: string;
  readonly name: string;
  readonly segment: X12Segment;
}

function party(pool: readonly X12Segment[], code: string): Party | undefined {
  const n1 = pool.find((s) => s.tag === 'N1' && x12Element(s, 1).trim() === code);
  return n1 ? { id: x12Element(n1, 4).trim(), name: x12Element(n1, 2).trim(), segment: n1 } : undefined;
}

function resolveSupplier(
  shipmentPool: readonly X12Segment[],
  everywhere: readonly X12Segment[],
  interchange: Pick<X12Interchange, 'senderId'>,
  warn: (m: string) => void,
): string {
  const shipFrom = party(shipmentPool, 'SF') ?? party(everywhere, 'SF');
  const shipFromId = shipFrom?.id || shipFrom?.name;
  if (shipFromId) return shipFromId;
  const supplier = party(shipmentPool, 'SU') ?? party(everywhere, 'SU');
  const supplierId = supplier?.id || supplier?.name;
  if (supplierId) {
    warn(`No ship-from party (N1*SF); supplierId is the supplier party N1*SU ${supplierId}.`);
    return supplierId;
  }
  warn(`No ship-from party (N1*SF); supplierId is the interchange sender ISA06 ${interchange.senderId}.`);
  return interchange.senderId;
}

function resolvePlant(
  shipmentPool: readonly X12Segment[],
  everywhere: readonly X12Segment[],
  options: MapAsnOptions,
  label: string,
  stAt: EdiPosition,
  warn: (m: string) => void,
): string {
  const shipTo = party(shipmentPool, 'ST') ?? party(everywhere, 'ST');
  if (options.plant) {
    if (shipTo?.id && shipTo.id !== options.plant) {
      warn(
        `The ship-to party N1*ST names ${shipTo.id}; the plant given by the caller, ${options.plant}, is used.`,
      );
    }
    return options.plant;
  }
  if (shipTo?.id) return shipTo.id;
  const detail = shipTo
    ? `its ship-to party N1*ST at ${where(positionOf(shipTo.segment))} has no identification code (N104)` +
      (shipTo.name ? `, only the name ${excerpt(shipTo.name)}` : '')
    : 'it has no ship-to party (N1*ST)';
  throw new X12ParseError(
    'missing-required-field',
    `${label} names no receiving plant: ${detail}. Send N1*ST with the plant code in N104, or configure the plant ` +
      'for this supplier.',
    stAt,
  );
}

function reference(pool: readonly X12Segment[], qualifier: string): string | undefined {
  const ref = pool.find(
    (s) => s.tag === 'REF' && x12Element(s, 1).trim() === qualifier && x12Element(s, 2).trim(),
  );
  return ref ? x12Element(ref, 2).trim() : undefined;
}

function resolveCarrier(pool: readonly X12Segment[]): string | undefined {
  for (const td5 of pool.filter((s) => s.tag === 'TD5')) {
    const code = x12Element(td5, 3).trim() || x12Element(td5, 5).trim();
    if (code) return code;
  }
  return undefined;
}

function ladingQuantity(pool: readonly X12Segment[]): number | undefined {
  const td1 = pool.find((s) => s.tag === 'TD1' && x12Element(s, 2).trim());
  const n = td1 ? parseEdiNumber(x12Element(td1, 2)) : undefined;
  return n !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** An SSCC from MAN02: `GM` values carry the application identifier `00` in front of the 18 digits. */
function sscc(value: string): string {
  const v = value.trim();
  return /^00\d{18}$/.test(v) ? v.slice(2) : v;
}

/** A lot from a GS1-128 element string in MAN*AI: application identifier 10 is the batch/lot. */
function lotFromElementString(value: string): string | undefined {
  const v = value.trim();
  const bracketed = /\(10\)([^(]+)/.exec(v);
  if (bracketed) return bracketed[1]!.trim();
  return v.startsWith('10') && v.length > 2 ? v.slice(2) : undefined;
}

function mapItem(node: HlNode, context: ItemContext, warn: (m: string) => void): AsnLine | undefined {
  const lins = node.segments.filter((s) => s.tag === 'LIN');
  const lin = lins[0];
  if (!lin) {
    warn(
      `Item HL ${node.id} at ${where(positionOf(node.hl))} has no LIN (product id); the item was skipped.`,
    );
    return undefined;
  }
  if (lins.length > 1) warn(`Item HL ${node.id} has ${lins.length} LIN segments; only the first is read.`);
  const productIds: ProductId[] = [];
  const lots: string[] = [];
  for (let i = 2; i + 1 <= lin.elements.length; i += 2) {
    const qualifier = x12Element(lin, i).trim();
    const id = x12Element(lin, i + 1).trim();
    if (!id) continue;
    if (LOT_QUALIFIERS.has(qualifier)) lots.push(id);
    else productIds.push({ qualifier, id });
  }
  const preferred = MATERIAL_QUALIFIERS.map((q) => productIds.find((p) => p.qualifier === q)).find(Boolean);
  const material = (preferred ?? productIds[0])?.id;
  if (!material) {
    warn(
      `LIN at ${where(positionOf(lin))} (item HL ${node.id}) carries no product id; the item was skipped.`,
    );
    return undefined;
  }
  const sn1 = node.segments.find((s) => s.tag === 'SN1');
  if (!sn1) {
    warn(
      `Item HL ${node.id} (${material}) at ${where(positionOf(node.hl))} has no SN1 (shipped quantity); the item was skipped.`,
    );
    return undefined;
  }
  const sn1At = positionOf(sn1);
  const value = parseEdiNumber(x12Element(sn1, 2));
  if (value === undefined || value < 0) {
    throw new X12ParseError(
      'invalid-value',
      `SN102 at ${where(positionOf(sn1))} is ${excerpt(x12Element(sn1, 2))}; the shipped quantity must be a number >= 0.`,
      sn1At,
    );
  }
  const unit = x12Element(sn1, 3).trim();
  if (!unit) {
    throw new X12ParseError(
      'missing-required-field',
      `SN1 at ${where(positionOf(sn1))} has no unit of measure (SN103). Send the unit with the quantity.`,
      sn1At,
    );
  }
  const { uom, known } = x12UnitToRec20(unit);
  if (!known)
    warn(
      `Unit ${excerpt(unit)} at ${where(positionOf(sn1))} has no known Rec 20 equivalent; it is passed on unchanged.`,
    );

  for (const ref of node.segments.filter(
    (s) => s.tag === 'REF' && LOT_REFERENCES.has(x12Element(s, 1).trim()),
  )) {
    const lot = x12Element(ref, 2).trim();
    if (lot) lots.push(lot);
  }
  for (const man of node.segments.filter((s) => s.tag === 'MAN' && x12Element(s, 1).trim() === 'AI')) {
    const lot = lotFromElementString(x12Element(man, 2));
    if (lot) lots.push(lot);
  }
  const packageIds = [context.pack, context.tare]
    .flatMap((level) => level?.segments ?? [])
    .filter((m) => m.tag === 'MAN' && SSCC_MARKS.has(x12Element(m, 1).trim()))
    .map((m) => sscc(x12Element(m, 2)))
    .filter(Boolean);
  const order = context.order;
  const prf = node.segments.find((s) => s.tag === 'PRF') ?? order?.segments.find((s) => s.tag === 'PRF');
  const purchaseOrder = prf ? x12Element(prf, 1).trim() : '';
  const pid = node.segments.find((s) => s.tag === 'PID' && x12Element(s, 5).trim());
  const lineNumber = x12Element(lin, 1).trim();

  return {
    material,
    quantity: { value, uom },
    ...(lots.length > 0 ? { lots: [...new Set(lots)] } : {}),
    ...(lineNumber ? { lineNumber } : {}),
    ...(purchaseOrder ? { purchaseOrder } : {}),
    ...(pid ? { description: x12Element(pid, 5).trim() } : {}),
    productIds,
    ...(packageIds.length > 0 ? { packageIds } : {}),
  };
}
