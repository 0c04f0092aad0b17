/**
 * Typed errors for B2MML input and output. Every problem that stops a document from being read, or
 * canonical data from being written as B2MML, is a {@link B2mmlError} with a stable `code` and a
 * message that says what to fix.
 */

/** Error codes and the line the docs and API detail use for each. */
export const B2MML_ERROR_CODES = {
  'empty-document': 'The input is empty or holds only whitespace. Send the B2MML document itself.',
  'bad-encoding':
    'The bytes cannot be decoded in the encoding the XML declaration names (or that encoding is unknown). ' +
    'Send UTF-8, or declare the encoding the bytes are really in.',
  'malformed-xml':
    'The input is not well-formed XML (the message gives the line and column). Fix the XML before resending.',
  'doctype-not-allowed':
    'The document has a DOCTYPE or entity declaration. B2MML needs neither, and they are refused so that ' +
    'entity expansion and external entities cannot be abused (XXE). Remove the declaration.',
  'not-b2mml':
    'The root element is not in a B2MML namespace (V0401 http://www.wbf.org/xml/B2MML-V0401 or ' +
    'V0600 http://www.mesa.org/xml/B2MML-V0600).',
  'unsupported-document':
    'The B2MML document is neither a production schedule nor a production performance (for example a ' +
    'SyncMaterialDefinition), so it describes no production events.',
  'unsupported-verb':
    'The transaction verb does not describe production that happened or was released (Get, Show, Change, ' +
    'Cancel, Acknowledge, Respond). Only Sync and Process transactions, or a bare ProductionSchedule / ' +
    'ProductionPerformance, become production events.',
  'missing-data-area':
    'The transaction has no DataArea holding a ProductionSchedule or ProductionPerformance.',
  'invalid-canonical-data':
    'Canonical data given to the B2MML writer is not valid for its event type; the message lists each problem.',
} as const;

/** A stable, machine-readable B2MML error code. */
export type B2mmlErrorCode = keyof typeof B2MML_ERROR_CODES;

/** Where in the input a problem was found, when it can be told. */
export interface B2mmlPosition {
  /** 1-based line. */
  readonly line?: number;
  /** 1-based column. */
  readonly column?: number;
}

/** A B2MML document that cannot be read or mapped, or canonical data that cannot be written as B2MML. */
export class B2mmlError extends Error {
  override readonly name = 'B2mmlError';
  /** Stable machine-readable code (see {@link B2MML_ERROR_CODES}). */
  readonly code: B2mmlErrorCode;
  readonly line?: number;
  readonly column?: number;
  /** Bad input never gets better by resending it unchanged. */
  readonly retryable = false;

  constructor(code: B2mmlErrorCode, message: string, position: B2mmlPosition = {}) {
    super(message);
    this.code = code;
    if (position.line !== undefined) this.line = position.line;
    if (position.column !== undefined) this.column = position.column;
  }
}

/** A short, printable excerpt of input for messages. */
export function excerpt(text: string, max = 40): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}
