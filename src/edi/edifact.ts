/**
 * UN/EDIFACT interchange reader: service string advice (UNA), release-character escaping,
 * segments, and the UNB/UNG/UNH envelopes with their counts and references.
 */
import { decodeBody, isAlphanumeric, isLayoutSpace, LineCounter } from './decode.js';
import {
  EdifactParseError,
  type EdiPosition,
  excerpt,
  positionOf,
  showChar,
  where,
  whereAtStart,
} from './edi-error.js';

/** The service characters of an interchange (UNA, or the defaults `:+.? '`). */
export interface EdifactDelimiters {
  readonly component: string;
  readonly element: string;
  readonly decimal: string;
  /** Release (escape) character; `''` when the UNA declares none. */
  readonly release: string;
  /** Repetition separator (syntax version 4); `' '` when unused. */
  readonly repetition: string;
  readonly segment: string;
}

/** The delimiters that apply when an interchange has no UNA. */
export const DEFAULT_EDIFACT_DELIMITERS: EdifactDelimiters = Object.freeze({
  component: ':',
  element: '+',
  decimal: '.',
  release: '?',
  repetition: ' ',
  segment: "'",
});

/** One segment: its tag and data elements, each a list of components with release characters removed. */
export interface EdifactSegment {
  readonly tag: string;
  /** `elements[0]` is the first data element after the tag; `elements[i][j]` its component j. */
  readonly elements: readonly (readonly string[])[];
  /** 0-based position among the segments of the input (UNA, when present, is 0). */
  readonly index: number;
  /** 1-based line the segment starts on. */
  readonly line: number;
}

/** A message: its UNH..UNT segments inclusive. */
export interface EdifactMessage {
  /** UNH 0062. */
  readonly reference: string;
  /** S009 0065, e.g. `DESADV`. */
  readonly type: string;
  /** S009 0052, e.g. `D`. */
  readonly version: string;
  /** S009 0054, e.g. `96A`. */
  readonly release: string;
  /** S009 0051, e.g. `UN`. */
  readonly agency: string;
  /** UNG 0048 when the message sits in a functional group. */
  readonly groupReference?: string;
  readonly segments: readonly EdifactSegment[];
}

/** A party of the interchange header. */
export interface EdifactParty {
  readonly id: string;
  /** Partner identification code qualifier (0007); `''` when not sent. */
  readonly qualifier: string;
}

/** An interchange: UNB..UNZ. */
export interface EdifactInterchange {
  readonly delimiters: EdifactDelimiters;
  readonly header: EdifactSegment;
  /** S001: syntax identifier and version, e.g. `UNOC` and `3`. */
  readonly syntax: { readonly id: string; readonly version: string };
  readonly sender: EdifactParty;
  readonly recipient: EdifactParty;
  /** S004 date as sent (YYMMDD or CCYYMMDD). */
  readonly date: string;
  /** S004 time as sent (HHMM). */
  readonly time: string;
  /** UNB 0020. */
  readonly controlReference: string;
  /** UNB 0035 = `1`. */
  readonly test: boolean;
  readonly messages: readonly EdifactMessage[];
}

/** Component `component` (0-based) of element `element` (0-based) of a segment, or `''`. */
export function edifactValue(segment: EdifactSegment, element: number, component = 0): string {
  return segment.elements[element]?.[component] ?? '';
}

const SEGMENT_TAG = /^[A-Z][A-Z0-9]{2}$/;

interface Cursor {
  readonly text: string;
  readonly lines: LineCounter;
  pos: number;
  segmentIndex: number;
}

interface RawSegment {
  readonly segment: EdifactSegment;
  /** The text of the segment without its terminator. */
  readonly raw: string;
  readonly terminated: boolean;
}

/**
 * Reads every interchange in `body` (usually one). Throws {@link EdifactParseError} on anything that
 * is not a well-formed EDIFACT interchange with consistent counts and references.
 */
export function parseEdifact(body: string | Uint8Array): EdifactInterchange[] {
  const text = decodeBody(body);
  const cursor: Cursor = { text, lines: new LineCounter(text), pos: skipLayout(text, 0), segmentIndex: 0 };
  if (cursor.pos >= text.length) {
    throw new EdifactParseError(
      'empty-input',
      'The body is empty: send an EDIFACT interchange starting with UNA or UNB.',
    );
  }
  const head = text.slice(cursor.pos, cursor.pos + 3);
  if (head !== 'UNA' && head !== 'UNB') {
    let hint = 'An EDIFACT interchange starts with UNA or UNB.';
    if (head === 'ISA') hint = 'It looks like X12: send it as application/edi-x12.';
    else if (head.startsWith('UNH')) hint = 'It is a bare message: wrap it in an UNB/UNZ interchange.';
    else if (head.startsWith('{') || head.startsWith('['))
      hint = 'It looks like JSON: send it as application/json.';
    throw new EdifactParseError(
      'not-edifact',
      `The body starts with ${excerpt(text.slice(cursor.pos), 20)}, not UNA or UNB. ${hint}`,
      { segmentIndex: 0, line: 1 },
    );
  }
  const interchanges: EdifactInterchange[] = [];
  while (cursor.pos < text.length) {
    interchanges.push(readInterchange(cursor));
    cursor.pos = skipLayout(text, cursor.pos);
    const next = text.slice(cursor.pos, cursor.pos + 3);
    if (cursor.pos < text.length && next !== 'UNA' && next !== 'UNB') {
      const at = { segmentIndex: cursor.segmentIndex, line: cursor.lines.lineAt(cursor.pos) };
      throw new EdifactParseError(
        'trailing-data',
        `After the UNZ of interchange ${interchanges.at(-1)?.controlReference}, ${where(at)} holds ` +
          `${excerpt(text.slice(cursor.pos), 30)} instead of a further interchange. Remove the trailing data.`,
        at,
      );
    }
  }
  return interchanges;
}

function skipLayout(text: string, pos: number): number {
  let p = pos;
  while (p < text.length && isLayoutSpace(text[p])) p++;
  return p;
}

function readServiceStringAdvice(cursor: Cursor): EdifactDelimiters {
  const { text } = cursor;
  const at = { segmentIndex: cursor.segmentIndex, line: cursor.lines.lineAt(cursor.pos), tag: 'UNA' };
  const chars = text.slice(cursor.pos + 3, cursor.pos + 9);
  if (chars.length < 6) {
    throw new EdifactParseError(
      'truncated-interchange',
      'The input ends inside the UNA service string advice.',
      at,
    );
  }
  const [component, element, decimal, release, repetition, segment] = [...chars] as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const roles: Array<[string, string]> = [
    ['component separator', component],
    ['data element separator', element],
    ['segment terminator', segment],
  ];
  if (release !== ' ') roles.push(['release character', release]);
  for (const [role, c] of roles) {
    if (isAlphanumeric(c) || (c === ' ' && role !== 'segment terminator')) {
      throw new EdifactParseError(
        'wrong-delimiters',
        `UNA declares ${showChar(c)} as ${role}; service characters must be special characters. Fix the UNA.`,
        at,
      );
    }
  }
  const distinct = new Set(roles.map(([, c]) => c));
  if (distinct.size !== roles.length) {
    throw new EdifactParseError(
      'wrong-delimiters',
      `UNA ${excerpt(text.slice(cursor.pos, cursor.pos + 9))} uses one character for two roles ` +
        `(${roles.map(([r, c]) => `${r} ${showChar(c)}`).join(', ')}). Each must differ. Fix the UNA.`,
      at,
    );
  }
  if (decimal !== '.' && decimal !== ',') {
    throw new EdifactParseError(
      'wrong-delimiters',
      `UNA declares ${showChar(decimal)} as decimal mark; only '.' and ',' are allowed. Fix the UNA.`,
      at,
    );
  }
  cursor.pos += 9;
  cursor.segmentIndex++;
  return { component, element, decimal, release: release === ' ' ? '' : release, repetition, segment };
}

/** Reads the segment at the cursor, or `undefined` at the end of the input. */
function readSegment(cursor: Cursor, d: EdifactDelimiters): RawSegment | undefined {
  const { text } = cursor;
  let pos = skipLayout(text, cursor.pos);
  if (pos >= text.length) {
    cursor.pos = pos;
    return undefined;
  }
  const start = pos;
  const elements: string[][] = [];
  let components: string[] = [];
  let value = '';
  let terminated = false;
  while (pos < text.length) {
    const c = text[pos]!;
    if (d.release && c === d.release) {
      if (pos + 1 >= text.length) {
        pos++;
        break;
      }
      value += text[pos + 1];
      pos += 2;
      continue;
    }
    if (c === d.segment) {
      terminated = true;
      pos++;
      break;
    }
    if (c === d.element) {
      components.push(value);
      elements.push(components);
      components = [];
      value = '';
    } else if (c === d.component) {
      components.push(value);
      value = '';
    } else {
      value += c;
    }
    pos++;
  }
  // Layout after the last segment of a file without a final terminator is not data.
  components.push(terminated ? value : value.replace(/\s+$/, ''));
  elements.push(components);
  cursor.pos = pos;
  const [tagElement, ...data] = elements;
  const rawEnd = terminated ? pos - 1 : pos;
  const segment: EdifactSegment = {
    tag: tagElement?.[0] ?? '',
    elements: data,
    index: cursor.segmentIndex++,
    line: cursor.lines.lineAt(start),
  };
  return { segment, raw: text.slice(start, rawEnd), terminated };
}

function parseCount(value: string): number | undefined {
  const v = value.trim();
  return /^\d{1,9}$/.test(v) ? Number(v) : undefined;
}

function truncated(last: EdifactSegment, inside: string): EdifactParseError {
  return new EdifactParseError(
    'truncated-interchange',
    `The input ends after ${last.tag} at ${where(positionOf(last))}, ${inside}: the interchange was cut off before ` +
      'UNZ. Resend the complete file.',
    positionOf(last),
  );
}

interface OpenMessage {
  header: EdifactSegment;
  segments: EdifactSegment[];
}

interface OpenGroup {
  header: EdifactSegment;
  messages: number;
}

function readInterchange(cursor: Cursor): EdifactInterchange {
  const { text } = cursor;
  let delimiters = DEFAULT_EDIFACT_DELIMITERS;
  if (text.startsWith('UNA', cursor.pos)) {
    delimiters = readServiceStringAdvice(cursor);
    cursor.pos = skipLayout(text, cursor.pos);
  }
  const unbAt: EdiPosition = {
    segmentIndex: cursor.segmentIndex,
    line: cursor.lines.lineAt(cursor.pos),
    tag: 'UNB',
  };
  if (!text.startsWith('UNB', cursor.pos)) {
    throw new EdifactParseError(
      'not-edifact',
      `${whereAtStart(unbAt)} starts with ${excerpt(text.slice(cursor.pos), 20)}; an interchange must begin with UNB ` +
        '(after an optional UNA).',
      unbAt,
    );
  }
  const afterTag = text[cursor.pos + 3];
  if (afterTag !== undefined && afterTag !== delimiters.element) {
    throw new EdifactParseError(
      'wrong-delimiters',
      `UNB is followed by ${showChar(afterTag)}, but the data element separator is ${showChar(delimiters.element)}` +
        `${delimiters === DEFAULT_EDIFACT_DELIMITERS ? ' (the default; the file has no UNA)' : ' (from the UNA)'}. ` +
        'Declare the delimiters the file uses in a UNA segment.',
      unbAt,
    );
  }
  const first = readSegment(cursor, delimiters);
  if (!first) throw new EdifactParseError('truncated-interchange', 'The input ends inside UNB.', unbAt);
  const header = first.segment;
  checkHeaderSegment(first, delimiters);
  if (!first.terminated) {
    throw new EdifactParseError(
      'truncated-interchange',
      'The input ends inside UNB. Resend the complete file.',
      unbAt,
    );
  }
  const controlReference = edifactValue(header, 4);
  if (!controlReference) {
    throw new EdifactParseError(
      'missing-required-field',
      `UNB at ${where(unbAt)} has no interchange control reference (0020, its fifth element).`,
      unbAt,
    );
  }

  const messages: EdifactMessage[] = [];
  let message: OpenMessage | undefined;
  let group: OpenGroup | undefined;
  let groups = 0;
  let last = header;
  for (;;) {
    const read = readSegment(cursor, delimiters);
    if (!read) {
      const inside = message
        ? `inside message ${edifactValue(message.header, 0)} (no UNT)`
        : group
          ? `inside functional group ${edifactValue(group.header, 4)} (no UNE)`
          : 'before the UNZ trailer';
      throw truncated(last, inside);
    }
    const { segment, terminated } = read;
    const at = positionOf(segment);
    if (!SEGMENT_TAG.test(segment.tag)) {
      if (!terminated) throw truncated(last, message ? 'inside a message' : 'before UNZ');
      throw new EdifactParseError(
        'malformed-segment',
        `${whereAtStart(at)} starts with ${excerpt(segment.tag, 20)}, which is not an EDIFACT segment tag (three upper-case ` +
          'letters or digits). Fix or remove that segment.',
        at,
      );
    }
    if (!terminated && segment.tag !== 'UNZ')
      throw truncated(last, message ? 'inside a message' : 'before UNZ');
    last = segment;
    switch (segment.tag) {
      case 'UNA':
      case 'UNB':
        throw new EdifactParseError(
          'truncated-interchange',
          `A new ${segment.tag} starts at ${where(at)} before interchange ${controlReference} was closed by UNZ; the ` +
            'first interchange was cut off. Resend it complete.',
          at,
        );
      case 'UNG':
        if (message) throw missingTrailer('UNT', message.header, at);
        if (group) throw missingTrailer('UNE', group.header, at);
        group = { header: segment, messages: 0 };
        break;
      case 'UNE': {
        if (message) throw missingTrailer('UNT', message.header, at);
        if (!group)
          throw new EdifactParseError('unexpected-segment', `UNE at ${where(at)} closes no UNG.`, at);
        checkCount('message-count-mismatch', segment, group.messages, 'messages in the functional group', at);
        checkReference(segment, 1, edifactValue(group.header, 4), 'UNE 0048', 'UNG 0048', at);
        groups++;
        group = undefined;
        break;
      }
      case 'UNH':
        if (message) throw missingTrailer('UNT', message.header, at);
        message = { header: segment, segments: [segment] };
        break;
      case 'UNT': {
        if (!message)
          throw new EdifactParseError('unexpected-segment', `UNT at ${where(at)} closes no UNH.`, at);
        message.segments.push(segment);
        checkCount(
          'segment-count-mismatch',
          segment,
          message.segments.length,
          'segments counting UNH and UNT',
          at,
        );
        const reference = edifactValue(message.header, 0);
        checkReference(segment, 1, reference, 'UNT 0062', 'UNH 0062', at);
        const groupReference = group ? edifactValue(group.header, 4) : undefined;
        messages.push({
          reference,
          type: edifactValue(message.header, 1, 0),
          version: edifactValue(message.header, 1, 1),
          release: edifactValue(message.header, 1, 2),
          agency: edifactValue(message.header, 1, 3),
          ...(groupReference !== undefined ? { groupReference } : {}),
          segments: message.segments,
        });
        if (group) group.messages++;
        message = undefined;
        break;
      }
      case 'UNZ': {
        if (message) throw missingTrailer('UNT', message.header, at);
        if (group) throw missingTrailer('UNE', group.header, at);
        if (!terminated && edifactValue(segment, 1) !== controlReference) {
          throw truncated(segment, 'inside UNZ');
        }
        const expected = groups > 0 ? groups : messages.length;
        checkCount(
          'message-count-mismatch',
          segment,
          expected,
          groups > 0 ? 'functional groups' : 'messages',
          at,
        );
        checkReference(segment, 1, controlReference, 'UNZ 0020', 'UNB 0020', at);
        return {
          delimiters,
          header,
          syntax: { id: edifactValue(header, 0, 0), version: edifactValue(header, 0, 1) },
          sender: { id: edifactValue(header, 1, 0), qualifier: edifactValue(header, 1, 1) },
          recipient: { id: edifactValue(header, 2, 0), qualifier: edifactValue(header, 2, 1) },
          date: edifactValue(header, 3, 0),
          time: edifactValue(header, 3, 1),
          controlReference,
          test: edifactValue(header, 10) === '1',
          messages,
        };
      }
      default:
        if (!message) {
          throw new EdifactParseError(
            'unexpected-segment',
            `${segment.tag} at ${where(at)} is outside a message: data segments belong between UNH and UNT.`,
            at,
          );
        }
        message.segments.push(segment);
    }
  }
}

/**
 * UNB must be one segment. If it swallowed the next segment, the file terminates segments with a
 * character other than the one in force; name the likely one.
 */
function checkHeaderSegment(read: RawSegment, d: EdifactDelimiters): void {
  const runOn = /(?:^|[^A-Z])(UNG|UNH)[^A-Za-z0-9]/.exec(read.raw.slice(3));
  if (!runOn?.[1]) return;
  const next = 3 + runOn.index + runOn[0].indexOf(runOn[1]);
  let p = next - 1;
  while (p > 0 && isLayoutSpace(read.raw[p])) p--;
  const c = read.raw[p];
  let guess = '';
  if (c !== undefined && !isAlphanumeric(c)) guess = ` The file appears to end segments with ${showChar(c)}.`;
  else if (/[\r\n]/.test(read.raw.slice(p + 1, next)))
    guess = ' The file appears to end segments with line breaks.';
  throw new EdifactParseError(
    'wrong-delimiters',
    `The segment terminator in force is ${showChar(d.segment)}` +
      `${d === DEFAULT_EDIFACT_DELIMITERS ? ' (the default; the file has no UNA)' : ' (from the UNA)'}, but UNB runs ` +
      `on into the next segment (${runOn[1]}).${guess} Declare the delimiters the file uses in a UNA segment, or ` +
      'fix the terminators.',
    positionOf(read.segment),
  );
}

function missingTrailer(trailer: 'UNT' | 'UNE', open: EdifactSegment, at: EdiPosition): EdifactParseError {
  const what =
    trailer === 'UNT' ? `message ${edifactValue(open, 0)}` : `functional group ${edifactValue(open, 4)}`;
  return new EdifactParseError(
    'unexpected-segment',
    `${at.tag} at ${where(at)} comes before ${what} was closed: add its ${trailer} trailer.`,
    at,
  );
}

function checkCount(
  code: 'message-count-mismatch' | 'segment-count-mismatch',
  segment: EdifactSegment,
  actual: number,
  what: string,
  at: EdiPosition,
): void {
  const declared = edifactValue(segment, 0);
  if (parseCount(declared) !== actual) {
    throw new EdifactParseError(
      code,
      `${segment.tag} at ${where(at)} counts ${excerpt(declared)} but there are ${actual} ${what}. Correct the count or ` +
        'restore the missing segments.',
      at,
    );
  }
}

function checkReference(
  segment: EdifactSegment,
  element: number,
  expected: string,
  trailerName: string,
  headerName: string,
  at: EdiPosition,
): void {
  const actual = edifactValue(segment, element);
  if (actual !== expected) {
    throw new EdifactParseError(
      'control-reference-mismatch',
      `${trailerName} at ${where(at)} is ${excerpt(actual)} but ${headerName} is ${excerpt(expected)}. They must be equal.`,
      at,
    );
  }
}
