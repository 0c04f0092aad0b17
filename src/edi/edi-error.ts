/**
 * Typed errors for EDI input. Every problem found in an X12 or EDIFACT body is one of these, with a
 * stable `code`, the position of the offending segment and a message that says what to fix.
 */

/** Codes shared by both syntaxes, with the line the docs and API detail use for each. */
const COMMON_CODES = {
  'empty-input': 'The body is empty or holds only whitespace. Send the interchange itself.',
  'wrong-delimiters':
    'The delimiters the header declares are not the ones the file uses. Fix the header (ISA16 and the character ' +
    'after it for X12, the UNA service string advice for EDIFACT) or the segments.',
  'truncated-interchange':
    'The input ends before the interchange trailer (IEA / UNZ). The file was cut off; resend it complete.',
  'malformed-segment': 'A segment cannot be read (bad tag or structure). Fix the named segment.',
  'unexpected-segment':
    'A segment stands where the envelope does not allow it (for example an ST outside GS/GE, or a missing SE/UNT).',
  'segment-count-mismatch':
    'The trailer (SE01 / UNT 0074) does not count the segments the transaction set or message holds.',
  'trailing-data': 'Something other than a further interchange follows the interchange trailer. Remove it.',
  'missing-required-field': 'The document lacks data the canonical supplier.asn.received event requires.',
  'invalid-value': 'A value (date, quantity, count) does not have the form the standard prescribes.',
} as const;

/** X12 error codes and their documentation lines. */
export const X12_ERROR_CODES = {
  ...COMMON_CODES,
  'not-x12': 'The body does not start with an ISA interchange header; it is not an X12 interchange.',
  'control-number-mismatch':
    'A trailer control number differs from its header: IEA02 vs ISA13, GE02 vs GS06 or SE02 vs ST02.',
  'transaction-count-mismatch': 'GE01 does not count the transaction sets (ST/SE) of its functional group.',
  'group-count-mismatch': 'IEA01 does not count the functional groups (GS/GE) of the interchange.',
  'wrong-transaction-set':
    'The interchange holds no 856 ship notice (for example an 850 purchase order was sent).',
} as const;

/** EDIFACT error codes and their documentation lines. */
export const EDIFACT_ERROR_CODES = {
  ...COMMON_CODES,
  'not-edifact': 'The body does not start with UNA or UNB; it is not an EDIFACT interchange.',
  'control-reference-mismatch':
    'A trailer reference differs from its header: UNZ 0020 vs UNB 0020, UNE 0048 vs UNG 0048 or UNT 0062 vs UNH 0062.',
  'message-count-mismatch': 'UNZ or UNE does not count the messages (or groups) it closes.',
  'wrong-message-type':
    'The interchange holds no DESADV despatch advice (for example an ORDERS message was sent).',
} as const;

export type X12ErrorCode = keyof typeof X12_ERROR_CODES;
export type EdifactErrorCode = keyof typeof EDIFACT_ERROR_CODES;

/** Where in the input a problem was found. */
export interface EdiPosition {
  /** 0-based index of the segment in the input (the first ISA / UNA-or-UNB segment is 0). */
  readonly segmentIndex?: number;
  /** 1-based line of the input the segment starts on (useful for pretty-printed files). */
  readonly line?: number;
  /** Tag of the segment, e.g. `SE`. */
  readonly tag?: string;
}

/** Base of every EDI input error: catch this to handle X12 and EDIFACT alike. */
export abstract class EdiError extends Error {
  abstract readonly format: 'x12' | 'edifact';
  /** Stable machine-readable code (see {@link X12_ERROR_CODES} and {@link EDIFACT_ERROR_CODES}). */
  abstract readonly code: string;
  readonly segmentIndex?: number;
  readonly line?: number;
  readonly tag?: string;
  /** Bad input never gets better by resending it unchanged. */
  readonly retryable = false;

  constructor(message: string, position: EdiPosition = {}) {
    super(message);
    this.segmentIndex = position.segmentIndex;
    this.line = position.line;
    this.tag = position.tag;
  }
}

/** An X12 interchange that cannot be read, or an 856 that cannot be mapped. */
export class X12ParseError extends EdiError {
  override readonly name = 'X12ParseError';
  readonly format = 'x12' as const;
  readonly code: X12ErrorCode;

  constructor(code: X12ErrorCode, message: string, position: EdiPosition = {}) {
    super(message, position);
    this.code = code;
  }
}

/** An EDIFACT interchange that cannot be read, or a DESADV that cannot be mapped. */
export class EdifactParseError extends EdiError {
  override readonly name = 'EdifactParseError';
  readonly format = 'edifact' as const;
  readonly code: EdifactErrorCode;

  constructor(code: EdifactErrorCode, message: string, position: EdiPosition = {}) {
    super(message, position);
    this.code = code;
  }
}

/** Renders a delimiter for a message: control characters by name, others quoted. */
export function showChar(c: string): string {
  const names: Record<string, string> = { '\r': 'CR', '\n': 'LF', '\t': 'TAB', ' ': 'space' };
  const name = names[c];
  if (name) return name;
  const code = c.codePointAt(0) ?? 0;
  return code < 0x20 || code > 0x7e ? `U+${code.toString(16).toUpperCase().padStart(4, '0')}` : `'${c}'`;
}

/** A short, printable excerpt of input for messages. */
export function excerpt(text: string, max = 40): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}

/** The same phrase starting a sentence: "Segment 12 (line 13)". */
export function whereAtStart(position: EdiPosition): string {
  const phrase = where(position);
  return phrase.charAt(0).toUpperCase() + phrase.slice(1);
}

/** "segment 12 (line 13)" — the position phrase every message uses. */
export function where(position: EdiPosition): string {
  const parts: string[] = [];
  if (position.segmentIndex !== undefined) parts.push(`segment ${position.segmentIndex}`);
  if (position.line !== undefined) parts.push(`line ${position.line}`);
  if (parts.length === 0) return 'the input';
  return parts.length === 2 ? `${parts[0]} (${parts[1]})` : parts[0]!;
}

/** The position of a parsed segment. */
export function positionOf(segment: {
  readonly index: number;
  readonly line: number;
  readonly tag: string;
}): EdiPosition {
  return { segmentIndex: segment.index, line: segment.line, tag: segment.tag };
}
