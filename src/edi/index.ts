/**
 * Supplier advance ship notices from EDI: X12 856 and EDIFACT DESADV bodies in, canonical
 * `supplier.asn.received` data out. Bad input of any kind fails with an {@link EdiError}.
 */
import { mapDesadv } from './asn-edifact-desadv.js';
import type { AsnEnvelope, AsnSource, MapAsnOptions, MappedAsn } from './asn-types.js';
import { describeTransactionSet, mapX12Asn } from './asn-x12-856.js';
import { formatDate, isUtcOffset, parseCompactDate, parseCompactTime } from './dates.js';
import { EdifactParseError, excerpt, positionOf, X12ParseError } from './edi-error.js';
import { type EdifactInterchange, type EdifactSegment, parseEdifact } from './edifact.js';
import { parseX12, type X12Interchange, type X12Segment } from './x12.js';

export { DESADV_D96A, groupDesadv, mapDesadv } from './asn-edifact-desadv.js';
export type {
  AsnEnvelope,
  AsnLine,
  AsnSource,
  EnvelopeParty,
  MapAsnOptions,
  MappedAsn,
  ProductId,
  Quantity,
  SupplierAsnData,
} from './asn-types.js';
export { mapX12Asn } from './asn-x12-856.js';
export {
  EDIFACT_ERROR_CODES,
  EdiError,
  type EdifactErrorCode,
  EdifactParseError,
  X12_ERROR_CODES,
  type X12ErrorCode,
  X12ParseError,
} from './edi-error.js';
export {
  type EdifactDelimiters,
  type EdifactInterchange,
  type EdifactMessage,
  type EdifactSegment,
  edifactValue,
  parseEdifact,
} from './edifact.js';
export {
  parseX12,
  type X12Delimiters,
  type X12FunctionalGroup,
  type X12Interchange,
  type X12Segment,
  type X12Transaction,
  x12Element,
} from './x12.js';

/** The EDI syntaxes ASNs arrive in. */
export type AsnFormat = 'x12' | 'edifact';

/** Options of {@link parseAsn}. */
export type ParseAsnOptions = MapAsnOptions;

/** One notice of an interchange. */
export interface ParsedAsn extends MappedAsn {
  readonly source: AsnSource;
}

/** What {@link parseAsn} returns. */
export interface ParseAsnResult {
  /** The notices, in interchange order. */
  readonly asns: readonly ParsedAsn[];
  /** The envelope of the (first) interchange. */
  readonly envelope: AsnEnvelope;
  /** Every interchange's envelope, when the body holds more than one. */
  readonly envelopes: readonly AsnEnvelope[];
  /** Interchange-level notes: other documents skipped, tolerated envelope irregularities. */
  readonly warnings: readonly string[];
}

/**
 * Parses an X12 (856) or EDIFACT (DESADV) body into canonical ASN data. Other transaction sets or
 * messages in the same interchange are skipped with a warning; an interchange without any ASN is an
 * error. Throws {@link X12ParseError} or {@link EdifactParseError} for every kind of bad input.
 *
 * @param options.plant - The receiving plant; overrides the ship-to party of the document.
 * @param options.utcOffset - The partner's UTC offset, to keep times sent without a zone.
 */
export function parseAsn(
  body: string | Uint8Array,
  format: AsnFormat,
  options: ParseAsnOptions = {},
): ParseAsnResult {
  if (options.utcOffset !== undefined && !isUtcOffset(options.utcOffset)) {
    throw new RangeError(`utcOffset must be "Z" or "±HH:MM", not ${excerpt(options.utcOffset)}`);
  }
  if (format === 'x12') return parseX12Asns(body, options);
  if (format === 'edifact') return parseEdifactAsns(body, options);
  throw new RangeError(`unknown ASN format ${excerpt(String(format))}; expected "x12" or "edifact"`);
}

function envelopeDate(date: string, time: string): { date?: string; time?: string } {
  const d = parseCompactDate(date);
  const t = parseCompactTime(time);
  return {
    ...(d ? { date: formatDate(d) } : {}),
    ...(t ? { time: `${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')}` } : {}),
  };
}

function x12Envelope(interchange: X12Interchange): AsnEnvelope {
  return {
    format: 'x12',
    sender: { id: interchange.senderId, qualifier: interchange.senderQualifier },
    receiver: { id: interchange.receiverId, qualifier: interchange.receiverQualifier },
    controlNumber: interchange.controlNumber,
    ...envelopeDate(interchange.date, interchange.time),
    test: interchange.usage === 'T',
    syntax: interchange.version,
  };
}

function parseX12Asns(body: string | Uint8Array, options: MapAsnOptions): ParseAsnResult {
  const interchanges = parseX12(body);
  const asns: ParsedAsn[] = [];
  const warnings: string[] = [];
  const others = new Set<string>();
  let firstOther: X12Segment | undefined;
  for (const interchange of interchanges) {
    warnings.push(...interchange.warnings);
    for (const group of interchange.groups) {
      for (const transaction of group.transactions) {
        const st = transaction.segments[0]!;
        if (transaction.setId !== '856') {
          others.add(describeTransactionSet(transaction.setId));
          firstOther ??= st;
          warnings.push(
            `Transaction set ${describeTransactionSet(transaction.setId)} (ST02 ${transaction.controlNumber}) is not ` +
              'an 856 ship notice; it was skipped.',
          );
          continue;
        }
        asns.push({
          ...mapX12Asn(transaction, interchange, options),
          source: {
            interchange: interchange.controlNumber,
            group: transaction.groupControlNumber,
            message: transaction.controlNumber,
            segmentIndex: st.index,
          },
        });
      }
    }
  }
  if (asns.length === 0) {
    const held = others.size > 0 ? `transaction set(s) ${[...others].join(', ')}` : 'no transaction sets';
    throw new X12ParseError(
      'wrong-transaction-set',
      `The interchange holds ${held} but no 856 ship notice. Send advance ship notices as 856.`,
      firstOther ? positionOf(firstOther) : {},
    );
  }
  const envelopes = interchanges.map(x12Envelope);
  return { asns, envelope: envelopes[0]!, envelopes, warnings };
}

function edifactEnvelope(interchange: EdifactInterchange): AsnEnvelope {
  return {
    format: 'edifact',
    sender: interchange.sender,
    receiver: interchange.recipient,
    controlNumber: interchange.controlReference,
    ...envelopeDate(interchange.date, interchange.time),
    test: interchange.test,
    syntax: [interchange.syntax.id, interchange.syntax.version].filter(Boolean).join(':'),
  };
}

function parseEdifactAsns(body: string | Uint8Array, options: MapAsnOptions): ParseAsnResult {
  const interchanges = parseEdifact(body);
  const asns: ParsedAsn[] = [];
  const warnings: string[] = [];
  const others = new Set<string>();
  let firstOther: EdifactSegment | undefined;
  for (const interchange of interchanges) {
    for (const message of interchange.messages) {
      const unh = message.segments[0]!;
      if (message.type !== 'DESADV') {
        others.add(message.type || '(no type)');
        firstOther ??= unh;
        warnings.push(
          `Message ${message.reference} is ${message.type}, not a DESADV despatch advice; it was skipped.`,
        );
        continue;
      }
      asns.push({
        ...mapDesadv(message, interchange, options),
        source: {
          interchange: interchange.controlReference,
          ...(message.groupReference !== undefined ? { group: message.groupReference } : {}),
          message: message.reference,
          segmentIndex: unh.index,
        },
      });
    }
  }
  if (asns.length === 0) {
    const held = others.size > 0 ? `message(s) of type ${[...others].join(', ')}` : 'no messages';
    throw new EdifactParseError(
      'wrong-message-type',
      `The interchange holds ${held} but no DESADV despatch advice. Send advance ship notices as DESADV.`,
      firstOther ? positionOf(firstOther) : {},
    );
  }
  const envelopes = interchanges.map(edifactEnvelope);
  return { asns, envelope: envelopes[0]!, envelopes, warnings };
}
