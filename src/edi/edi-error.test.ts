import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EDIFACT_ERROR_CODES,
  EdiError,
  EdifactParseError,
  showChar,
  X12_ERROR_CODES,
  X12ParseError,
} from './edi-error.js';

describe('EDI error codes', () => {
  it('document every code with a sentence', () => {
    for (const [code, doc] of [...Object.entries(X12_ERROR_CODES), ...Object.entries(EDIFACT_ERROR_CODES)]) {
      assert.match(code, /^[a-z0-9]+(-[a-z0-9]+)*$/, `${code} is not kebab-case`);
      assert.ok(doc.length > 20 && doc.endsWith('.'), `${code} needs a documentation sentence`);
    }
  });

  it('are carried by typed errors that share one base class and a position', () => {
    const x12 = new X12ParseError('not-x12', 'no ISA', { segmentIndex: 0, line: 1, tag: 'XXX' });
    const edifact = new EdifactParseError('not-edifact', 'no UNB');
    for (const error of [x12, edifact]) {
      assert.ok(error instanceof EdiError);
      assert.ok(error instanceof Error);
      assert.equal(error.retryable, false);
    }
    assert.deepEqual(
      [x12.name, x12.format, x12.code, x12.segmentIndex, x12.line, x12.tag],
      ['X12ParseError', 'x12', 'not-x12', 0, 1, 'XXX'],
    );
    assert.deepEqual(
      [edifact.name, edifact.format, edifact.segmentIndex],
      ['EdifactParseError', 'edifact', undefined],
    );
  });

  it('show delimiters readably in messages', () => {
    assert.equal(showChar('~'), "'~'");
    assert.equal(showChar('\r'), 'CR');
    assert.equal(showChar(' '), 'space');
    assert.equal(showChar('\u2026'), 'U+2026');
  });
});
