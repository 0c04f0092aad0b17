/**
 * X12 interchange reader: delimiters from the ISA header, segments, ISA/GS/ST envelopes and their
 * control numbers and counts.
 *
 * Written here rather than taken from `node-x12` (1.7): that library reads the delimiters at the
 * fixed offsets 3/104/105, so a UTF-8 BOM or an ISA that is not exactly 106 characters (both occur
 * in real partner files) makes it fail; it accepts an interchange cut off before IEA without any
 * error; it throws plain `Error`s (and a `TypeError` on some garbage) without a code or position;
 * and it rewrites ISA13/IEA02 through `parseInt`. This reader finds ISA16 by counting element
 * separators, tolerates pretty-printing, and reports every problem as an {@link X12ParseError}.
 */
import { decodeBody, isAlphanumeric, isLayoutSpace, LineCounter } from './decode.js';
import { type EdiPosition, excerpt, showChar, where, whereAtStart, X12ParseError } from './edi-error.js';

/** The delimiters an interchange declares in its ISA header. */
export interface X12Delimiters {
  /** ISA character 4 (the one after `ISA`). */
  readonly element: string;
  /** ISA16. */
  readonly component: string;
  /** The character after ISA16. */
  readonly segment: string;
  /** ISA11 from version 00402 on; kept for reference, elements are not split on it. */
  readonly repetition?: string;
}

/** One segment: its tag and its elements (`elements[0]` is element 01), exactly as sent. */
export interface X12Segment {
  readonly tag: string;
  readonly elements: readonly string[];
  /** 0-based position among all segments of the input (the first ISA is 0). */
  readonly index: number;
  /** 1-based line the segment starts on. */
  readonly line: number;
}

/** A transaction set: its ST..SE segments inclusive. */
export interface X12Transaction {
  /** ST01, e.g. `856`. */
  readonly setId: string;
  /** ST02. */
  readonly controlNumber: string;
  /** GS06 of the enclosing functional group. */
  readonly groupControlNumber: string;
  readonly segments: readonly X12Segment[];
}

/** A functional group: GS..GE. */
export interface X12FunctionalGroup {
  readonly header: X12Segment;
  /** GS01, e.g. `SH` for ship notices. */
  readonly functionalId: string;
  readonly senderId: string;
  readonly receiverId: string;
  /** GS06. */
  readonly controlNumber: string;
  /** GS08, e.g. `004010`. */
  readonly version: string;
  readonly transactions: readonly X12Transaction[];
}

/** An interchange: ISA..IEA. Identifiers are trimmed of the ISA's fixed-width padding. */
export interface X12Interchange {
  readonly delimiters: X12Delimiters;
  readonly header: X12Segment;
  readonly senderQualifier: string;
  readonly senderId: string;
  readonly receiverQualifier: string;
  readonly receiverId: string;
  /** ISA09 as sent (YYMMDD). */
  readonly date: string;
  /** ISA10 as sent (HHMM). */
  readonly time: string;
  /** ISA12, e.g. `00401`. */
  readonly version: string;
  /** ISA13. */
  readonly controlNumber: string;
  /** ISA15: `P` production, `T` test. */
  readonly usage: string;
  readonly groups: readonly X12FunctionalGroup[];
  /** Tolerated irregularities (for example an ISA that is not 106 characters long). */
  readonly warnings: readonly string[];
}

/** Element `position` (1-based, as in `BSN02`) of a segment, or `''` when absent. */
export function x12Element(segment: X12Segment, position: number): string {
  return segment.elements[position - 1] ?? '';
}

const SEGMENT_TAG = /^[A-Z][A-Z0-9]{1,2}$/;
const ISA_LENGTH = 106;

interface Cursor {
  readonly text: string;
  readonly lines: LineCounter;
  /** Index the next segment read will get. */
  segmentIndex: number;
}

/**
 * Reads every interchange in `body` (usually one). Throws {@link X12ParseError} on anything that is
 * not a well-formed X12 interchange with consistent control numbers and counts.
 */
export function parseX12(body: string | Uint8Array): X12Interchange[] {
  const text = decodeBody(body);
  const cursor: Cursor = { text, lines: new LineCounter(text), segmentIndex: 0 };
  let pos = skipLayout(text, 0);
  if (pos >= text.length) {
    throw new X12ParseError('empty-input', 'The body is empty: send an X12 interchange starting with "ISA".');
  }
  if (!text.startsWith('ISA', pos)) throw notX12(text, pos, cursor.lines.lineAt(pos));
  const interchanges: X12Interchange[] = [];
  while (pos < text.length) {
    const { interchange, end } = readInterchange(cursor, pos);
    interchanges.push(interchange);
    pos = skipLayout(text, end);
    if (pos < text.length && !text.startsWith('ISA', pos)) {
      const at = { segmentIndex: cursor.segmentIndex, line: cursor.lines.lineAt(pos) };
      throw new X12ParseError(
        'trailing-data',
        `After the IEA of interchange ${interchange.controlNumber}, ${where(at)} holds ${excerpt(text.slice(pos), 30)} ` +
          'instead of a further interchange starting with "ISA". Remove the trailing data.',
        at,
      );
    }
  }
  return interchanges;
}

function notX12(text: string, pos: number, line: number): X12ParseError {
  const head = text.slice(pos, pos + 3);
  let hint = 'An X12 interchange starts with "ISA".';
  if (head === 'UNA' || head === 'UNB') hint = 'It looks like EDIFACT: send it as application/edifact.';
  else if (head.startsWith('{') || head.startsWith('['))
    hint = 'It looks like JSON: send it as application/json.';
  else if (head.startsWith('<')) hint = 'It looks like XML, not X12.';
  return new X12ParseError(
    'not-x12',
    `The body starts with ${excerpt(text.slice(pos), 20)}, not "ISA". ${hint}`,
    {
      segmentIndex: 0,
      line,
    },
  );
}

function skipLayout(text: string, pos: number): number {
  let p = pos;
  while (p < text.length && isLayoutSpace(text[p])) p++;
  return p;
}

function sameControlNumber(a: string, b: string): boolean {
  const x = a.trim();
  const y = b.trim();
  // Leading zeros are padding (ISA13 is fixed width, IEA02 is often sent without them).
  if (/^\d+$/.test(x) && /^\d+$/.test(y)) return BigInt(x) === BigInt(y);
  return x === y;
}

function parseCount(value: string): number | undefined {
  const v = value.trim();
  return /^\d{1,9}$/.test(v) ? Number(v) : undefined;
}

interface OpenTransaction {
  setId: string;
  controlNumber: string;
  segments: X12Segment[];
}

interface OpenGroup {
  header: X12Segment;
  transactions: X12Transaction[];
}

function readInterchange(cursor: Cursor, start: number): { interchange: X12Interchange; end: number } {
  const { text, lines } = cursor;
  const isaAt: EdiPosition = { segmentIndex: cursor.segmentIndex, line: lines.lineAt(start), tag: 'ISA' };
  const warnings: string[] = [];

  const element = text[start + 3];
  if (element === undefined) {
    throw new X12ParseError(
      'truncated-interchange',
      'The input ends inside the ISA header. Resend the complete file.',
      isaAt,
    );
  }
  if (isAlphanumeric(element) || isLayoutSpace(element)) {
    throw new X12ParseError(
      'wrong-delimiters',
      `The character after "ISA" is the element separator, but it is ${showChar(element)}, which cannot delimit ` +
        'elements. The ISA header is damaged; re-export the file.',
      isaAt,
    );
  }
  // ISA16 follows the 16th element separator. Counting separators instead of using the fixed offsets
  // copes with headers whose padded fields were trimmed or widened.
  let sep = start + 3;
  for (let n = 2; n <= 16; n++) {
    const next = text.indexOf(element, sep + 1);
    const lineBreak = text.slice(sep + 1, next === -1 ? undefined : next).search(/[\r\n]/);
    if (lineBreak !== -1) {
      throw new X12ParseError(
        'malformed-segment',
        `The ISA header has only ${n - 1} elements before its line break; it needs 16 (ISA01 to ISA16), separated ` +
          `by ${showChar(element)}. Fix the ISA header.`,
        isaAt,
      );
    }
    if (next === -1) {
      throw new X12ParseError(
        'truncated-interchange',
        `The input ends inside the ISA header (after ISA${String(n - 1).padStart(2, '0')}). Resend the complete file.`,
        isaAt,
      );
    }
    sep = next;
  }
  const component = text[sep + 1];
  const terminator = text[sep + 2];
  if (component === undefined || terminator === undefined) {
    throw new X12ParseError(
      'truncated-interchange',
      'The input ends inside the ISA header (at ISA16). Resend the complete file.',
      isaAt,
    );
  }
  if (component === element || isAlphanumeric(component) || isLayoutSpace(component)) {
    throw new X12ParseError(
      'wrong-delimiters',
      `ISA16 (the component separator) is ${showChar(component)}; it must be a single special character different ` +
        `from the element separator ${showChar(element)}. Fix ISA16.`,
      isaAt,
    );
  }
  if (terminator === element || terminator === component || isAlphanumeric(terminator)) {
    throw new X12ParseError(
      'wrong-delimiters',
      `The segment terminator (the character after ISA16) is ${showChar(terminator)}; it must be a special ` +
        `character different from the element separator ${showChar(element)} and the component separator ` +
        `${showChar(component)}. Check that the ISA header has its 16 elements and a terminator.`,
      isaAt,
    );
  }
  const isaElements = text.slice(start, sep + 2).split(element);
  const header: X12Segment = {
    tag: 'ISA',
    elements: isaElements.slice(1),
    index: cursor.segmentIndex++,
    line: isaAt.line ?? 1,
  };
  const isaLength = sep + 3 - start;
  if (isaLength !== ISA_LENGTH) {
    warnings.push(
      `The ISA header is ${isaLength} characters long instead of the fixed ${ISA_LENGTH}; its delimiters were read ` +
        'from its content.',
    );
  }
  const version = x12Element(header, 12).trim();
  const isa11 = x12Element(header, 11);
  const delimiters: X12Delimiters = {
    element,
    component,
    segment: terminator,
    ...(version >= '00402' && isa11.length === 1 && !isAlphanumeric(isa11) ? { repetition: isa11 } : {}),
  };

  const groups: X12FunctionalGroup[] = [];
  let group: OpenGroup | undefined;
  let transaction: OpenTransaction | undefined;
  let pos = sep + 3;
  let first = true;
  let last: X12Segment = header;

  for (;;) {
    pos = skipLayout(text, pos);
    if (pos >= text.length) throw truncatedAt(last, transaction, group);
    const segStart = pos;
    let end = text.indexOf(terminator, pos);
    const terminated = end !== -1;
    if (!terminated) end = text.length;
    let raw = text.slice(pos, end);
    if (terminator === '\n' && raw.endsWith('\r')) raw = raw.slice(0, -1);
    if (!terminated) raw = raw.replace(/\s+$/, '');
    pos = terminated ? end + 1 : end;
    const parts = raw.split(element);
    const segment: X12Segment = {
      tag: parts[0] ?? '',
      elements: parts.slice(1),
      index: cursor.segmentIndex++,
      line: lines.lineAt(segStart),
    };
    const at: EdiPosition = { segmentIndex: segment.index, line: segment.line, tag: segment.tag };
    if (first) {
      checkFirstSegment(text, segStart, raw, segment, terminated, delimiters);
      first = false;
    }
    if (!SEGMENT_TAG.test(segment.tag)) {
      if (!terminated) throw truncatedAt(last, transaction, group);
      const spaceHint = isLayoutSpace(terminator)
        ? ` The declared segment terminator is ${showChar(terminator)}, so data containing it splits segments.`
        : '';
      throw new X12ParseError(
        'malformed-segment',
        `${whereAtStart(at)} starts with ${excerpt(segment.tag, 20)}, which is not an X12 segment id (two or three ` +
          `upper-case letters or digits).${spaceHint} Fix or remove that segment.`,
        at,
      );
    }
    if (!terminated && segment.tag !== 'IEA') throw truncatedAt(last, transaction, group);
    last = segment;

    switch (segment.tag) {
      case 'ISA':
        throw new X12ParseError(
          'truncated-interchange',
          `A new ISA starts at ${where(at)} before interchange ${x12Element(header, 13).trim()} was closed by IEA; ` +
            'the first interchange was cut off. Resend it complete.',
          at,
        );
      case 'GS':
        if (transaction) throw missingTrailer('SE', transaction, at);
        if (group) throw missingGroupTrailer(group, at);
        if (segment.elements.length !== 8) {
          throw new X12ParseError(
            'malformed-segment',
            `GS at ${where(at)} has ${segment.elements.length} elements; it must have exactly 8 (GS01 to GS08). ` +
              'Fix the functional group header.',
            at,
          );
        }
        group = { header: segment, transactions: [] };
        break;
      case 'ST':
        if (!group) {
          throw new X12ParseError(
            'unexpected-segment',
            `ST at ${where(at)} is outside a functional group: add the GS header before it.`,
            at,
          );
        }
        if (transaction) throw missingTrailer('SE', transaction, at);
        transaction = {
          setId: x12Element(segment, 1).trim(),
          controlNumber: x12Element(segment, 2),
          segments: [segment],
        };
        break;
      case 'SE': {
        if (!transaction) {
          throw new X12ParseError(
            'unexpected-segment',
            `SE at ${where(at)} closes no transaction set (no ST).`,
            at,
          );
        }
        transaction.segments.push(segment);
        const declared = parseCount(x12Element(segment, 1));
        if (declared !== transaction.segments.length) {
          throw new X12ParseError(
            'segment-count-mismatch',
            `SE01 at ${where(at)} is ${excerpt(x12Element(segment, 1))} but transaction set ` +
              `${transaction.setId} (ST02 ${transaction.controlNumber}) has ${transaction.segments.length} segments ` +
              `counting ST and SE.${runOnHint(transaction.segments, terminator)} Correct SE01 or restore the missing ` +
              'segments.',
            at,
          );
        }
        if (!sameControlNumber(x12Element(segment, 2), transaction.controlNumber)) {
          throw new X12ParseError(
            'control-number-mismatch',
            `SE02 at ${where(at)} is ${excerpt(x12Element(segment, 2))} but the transaction set's ST02 is ` +
              `${excerpt(transaction.controlNumber)}. They must be equal.`,
            at,
          );
        }
        group?.transactions.push({
          setId: transaction.setId,
          controlNumber: transaction.controlNumber.trim(),
          groupControlNumber: x12Element(group.header, 6).trim(),
          segments: transaction.segments,
        });
        transaction = undefined;
        break;
      }
      case 'GE': {
        if (transaction) throw missingTrailer('SE', transaction, at);
        if (!group) {
          throw new X12ParseError(
            'unexpected-segment',
            `GE at ${where(at)} closes no functional group (no GS).`,
            at,
          );
        }
        const declared = parseCount(x12Element(segment, 1));
        if (declared !== group.transactions.length) {
          throw new X12ParseError(
            'transaction-count-mismatch',
            `GE01 at ${where(at)} is ${excerpt(x12Element(segment, 1))} but the functional group holds ` +
              `${group.transactions.length} transaction set(s). Correct GE01 or restore the missing transaction sets.`,
            at,
          );
        }
        const gs06 = x12Element(group.header, 6);
        if (!sameControlNumber(x12Element(segment, 2), gs06)) {
          throw new X12ParseError(
            'control-number-mismatch',
            `GE02 at ${where(at)} is ${excerpt(x12Element(segment, 2))} but GS06 is ${excerpt(gs06)}. They must be equal.`,
            at,
          );
        }
        groups.push({
          header: group.header,
          functionalId: x12Element(group.header, 1).trim(),
          senderId: x12Element(group.header, 2).trim(),
          receiverId: x12Element(group.header, 3).trim(),
          controlNumber: gs06.trim(),
          version: x12Element(group.header, 8).trim(),
          transactions: group.transactions,
        });
        group = undefined;
        break;
      }
      case 'IEA': {
        if (transaction) throw missingTrailer('SE', transaction, at);
        if (group) throw missingGroupTrailer(group, at);
        const isa13 = x12Element(header, 13);
        const iea02 = x12Element(segment, 2);
        // An IEA without its terminator at the very end is accepted only if it is complete.
        if (!terminated && (!sameControlNumber(iea02, isa13) || segment.elements.length < 2)) {
          throw truncatedAt(segment, undefined, undefined);
        }
        const declared = parseCount(x12Element(segment, 1));
        if (declared !== groups.length) {
          throw new X12ParseError(
            'group-count-mismatch',
            `IEA01 at ${where(at)} is ${excerpt(x12Element(segment, 1))} but the interchange holds ${groups.length} ` +
              'functional group(s). Correct IEA01 or restore the missing groups.',
            at,
          );
        }
        if (!sameControlNumber(iea02, isa13)) {
          throw new X12ParseError(
            'control-number-mismatch',
            `IEA02 at ${where(at)} is ${excerpt(iea02)} but ISA13 is ${excerpt(isa13)}. They must be equal.`,
            at,
          );
        }
        if (!terminated) warnings.push('The final IEA has no segment terminator.');
        return {
          interchange: {
            delimiters,
            header,
            senderQualifier: x12Element(header, 5).trim(),
            senderId: x12Element(header, 6).trim(),
            receiverQualifier: x12Element(header, 7).trim(),
            receiverId: x12Element(header, 8).trim(),
            date: x12Element(header, 9).trim(),
            time: x12Element(header, 10).trim(),
            version,
            controlNumber: isa13.trim(),
            usage: x12Element(header, 15).trim(),
            groups,
            warnings,
          },
          end: pos,
        };
      }
      case 'TA1':
        // Interchange acknowledgments sit between ISA and the groups; nothing to keep.
        if (transaction) transaction.segments.push(segment);
        break;
      default:
        if (!transaction) {
          throw new X12ParseError(
            'unexpected-segment',
            `${segment.tag} at ${where(at)} is outside a transaction set: data segments belong between ST and SE.`,
            at,
          );
        }
        transaction.segments.push(segment);
    }
  }
}

/** Points at a segment that spans a line break: its terminator is probably missing. */
function runOnHint(segments: readonly X12Segment[], terminator: string): string {
  if (terminator === '\r' || terminator === '\n') return '';
  const runOn = segments.find((s) => s.elements.some((e) => /[\r\n]/.test(e)));
  return runOn
    ? ` ${runOn.tag} at ${where({ segmentIndex: runOn.index, line: runOn.line })} runs over a line break: its ` +
        `segment terminator ${showChar(terminator)} seems to be missing.`
    : '';
}

function missingTrailer(trailer: 'SE', transaction: OpenTransaction, at: EdiPosition): X12ParseError {
  return new X12ParseError(
    'unexpected-segment',
    `${at.tag} at ${where(at)} comes before transaction set ${transaction.setId} (ST02 ${transaction.controlNumber}) ` +
      `was closed: add its ${trailer} trailer.`,
    at,
  );
}

function missingGroupTrailer(group: OpenGroup, at: EdiPosition): X12ParseError {
  return new X12ParseError(
    'unexpected-segment',
    `${at.tag} at ${where(at)} comes before functional group ${x12Element(group.header, 6).trim()} was closed: ` +
      'add its GE trailer.',
    at,
  );
}

function truncatedAt(
  last: X12Segment,
  transaction: OpenTransaction | undefined,
  group: OpenGroup | undefined,
): X12ParseError {
  let inside = 'before the IEA trailer';
  if (transaction)
    inside = `inside transaction set ${transaction.setId} (ST02 ${transaction.controlNumber.trim()})`;
  else if (group) inside = `inside functional group ${x12Element(group.header, 6).trim()} (no GE)`;
  const at = { segmentIndex: last.index, line: last.line, tag: last.tag };
  return new X12ParseError(
    'truncated-interchange',
    `The input ends after ${last.tag} at ${where(at)}, ${inside}: the interchange was cut off before IEA. ` +
      'Resend the complete file.',
    at,
  );
}

/**
 * The segment after ISA must read as GS (or TA1/IEA) with the declared delimiters. When it does
 * not, the header declares delimiters the file does not use; say which ones the file seems to use.
 */
function checkFirstSegment(
  text: string,
  segStart: number,
  raw: string,
  segment: X12Segment,
  terminated: boolean,
  d: X12Delimiters,
): void {
  const lineBreakInside = d.segment !== '\r' && d.segment !== '\n' && /[\r\n]/.test(raw);
  const ok =
    (segment.tag === 'GS' && terminated && !lineBreakInside) ||
    ((segment.tag === 'TA1' || segment.tag === 'IEA') && !lineBreakInside);
  if (ok) return;
  const rest = text.slice(segStart);
  const gs = /GS([^A-Za-z0-9\s])/.exec(rest);
  const guessElement = gs?.[1];
  let guessTerminator: string | undefined;
  if (gs && guessElement) {
    const st = rest.indexOf(`ST${guessElement}`, gs.index + 3);
    if (st > 0) {
      let p = st - 1;
      while (p >= 0 && isLayoutSpace(rest[p])) p--;
      const candidate = rest[p];
      // Data right before the layout means the line break itself terminates segments.
      if (candidate !== undefined && !isAlphanumeric(candidate)) guessTerminator = candidate;
      else guessTerminator = /[\r\n]/.exec(rest.slice(p + 1, st))?.[0];
    }
  }
  const declared =
    `ISA declares element separator ${showChar(d.element)}, component separator ${showChar(d.component)} and ` +
    `segment terminator ${showChar(d.segment)}`;
  const seen = terminated
    ? `the segment after ISA reads ${excerpt(raw.replace(/\s+/g, ' '), 40)}`
    : `the segment terminator ${showChar(d.segment)} never appears after the ISA header`;
  const guess =
    guessElement && guessTerminator && (guessElement !== d.element || guessTerminator !== d.segment)
      ? ` The file appears to use element separator ${showChar(guessElement)} and segment terminator ` +
        `${showChar(guessTerminator)}.`
      : '';
  throw new X12ParseError(
    'wrong-delimiters',
    `${declared}, but ${seen}, not a GS header.${guess} Make the ISA header declare the delimiters the file uses ` +
      '(its 4th character, ISA16 and the character after ISA16).',
    { segmentIndex: segment.index, line: segment.line, tag: segment.tag },
  );
}
