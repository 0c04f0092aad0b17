/**
 * Turns an EDI body into text. UTF-8 is tried first (it covers ASCII and the UTF-8 files trading
 * partners produce, BOM included); bytes that are not valid UTF-8 are read as ISO-8859-1, the
 * character set of EDIFACT UNOC and of most 8-bit X12 senders, so no byte is ever lost or rejected.
 */
export function decodeBody(body: string | Uint8Array): string {
  let text: string;
  if (typeof body === 'string') {
    text = body;
  } else if (body instanceof Uint8Array) {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
    } catch {
      text = new TextDecoder('latin1').decode(body);
    }
  } else {
    throw new TypeError('an EDI body must be a string or a Uint8Array/Buffer');
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Whitespace that may stand between segments (pretty-printing) and is never data there. */
export function isLayoutSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\f' || c === '\v';
}

/** True for ASCII letters and digits: never valid as a delimiter. */
export function isAlphanumeric(c: string): boolean {
  return /^[A-Za-z0-9]$/.test(c);
}

/** Counts line breaks so errors can name the line a segment starts on. */
export class LineCounter {
  private pos = 0;
  private line = 1;

  constructor(private readonly text: string) {}

  /** 1-based line of `offset`; cheapest when offsets are asked for in increasing order (forward scan). */
  lineAt(offset: number): number {
    if (offset < this.pos) {
      this.pos = 0;
      this.line = 1;
    }
    const end = Math.min(offset, this.text.length);
    for (let i = this.pos; i < end; i++) if (this.text.charCodeAt(i) === 10) this.line++;
    this.pos = end;
    return this.line;
  }
}
