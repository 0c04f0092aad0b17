import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EdiError, EdifactParseError, type ParseAsnResult, parseAsn, X12ParseError } from './index.js';
import { buildEdifact, buildX12, fixture, fixtureText, throwsEdi, X12_856_FIXTURES } from './test-helpers.js';
import '../../test/helpers/seed.js';

const RFC3339_DATE_OR_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$/;
const DESADV = 'edifact-php-edifact/D96ADESADV.edi';

/** What every successful result must satisfy, whatever the input was. */
function assertCanonical(result: ParseAsnResult): void {
  assert.ok(result.asns.length > 0);
  for (const { data } of result.asns) {
    for (const field of ['asnId', 'supplierId', 'plant'] as const) {
      assert.equal(typeof data[field], 'string');
      assert.ok(data[field].length > 0, `${field} is empty`);
    }
    assert.match(data.shipDate, RFC3339_DATE_OR_DATE_TIME);
    assert.ok(data.lines.length > 0);
    for (const line of data.lines) {
      assert.ok(line.material.length > 0);
      assert.ok(Number.isFinite(line.quantity.value) && line.quantity.value >= 0);
      assert.ok(line.quantity.uom.length > 0);
    }
  }
}

/** Runs parseAsn and accepts only a canonical result or an EdiError of the format's class. */
function resultOrTypedError(body: string | Uint8Array, format: 'x12' | 'edifact'): void {
  try {
    assertCanonical(parseAsn(body, format, { plant: 'P1' }));
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    const expected = format === 'x12' ? X12ParseError : EdifactParseError;
    if (!(error instanceof expected)) throw error;
    assert.ok(error.message.length > 0);
  }
}

describe('parseAsn', () => {
  it('reads every 856 sample (odd delimiters, BOMs, pretty-printing) into one canonical ASN', () => {
    const ids = X12_856_FIXTURES.map((file) => {
      // edi1Source names no ship-to party, so its plant comes from the caller.
      const result = parseAsn(fixture(file), 'x12', file.endsWith('edi1Source.txt') ? { plant: 'P1' } : {});
      assertCanonical(result);
      assert.equal(result.asns.length, 1);
      return result.asns[0]!.data.asnId;
    });
    assert.deepEqual(ids, ['123456', '25673', '146940', 'DELIVERYNUMBER', '521649209219', '829716']);
  });

  it('describes the X12 envelope and where each notice came from', () => {
    const result = parseAsn(fixture(X12_856_FIXTURES[3]!), 'x12');
    assert.deepEqual(result.envelope, {
      format: 'x12',
      sender: { id: '787347434', qualifier: '01' },
      receiver: { id: 'RECEIVERID', qualifier: '12' },
      controlNumber: '000001054',
      date: '2011-09-09',
      time: '19:32',
      test: false,
      syntax: '00401',
    });
    assert.deepEqual(result.envelopes, [result.envelope]);
    assert.deepEqual(result.asns[0]!.source, {
      interchange: '000001054',
      group: '414',
      message: '0414',
      segmentIndex: 2,
    });
  });

  it('reads the DESADV sample and describes the EDIFACT envelope', () => {
    const result = parseAsn(fixture(DESADV), 'edifact');
    assertCanonical(result);
    assert.equal(result.asns[0]!.data.asnId, 'Y02197250');
    assert.deepEqual(result.envelope, {
      format: 'edifact',
      sender: { id: '1556150', qualifier: '31B' },
      receiver: { id: '8888888', qualifier: 'ZZ' },
      controlNumber: '1',
      date: '2016-07-27',
      time: '09:53',
      test: false,
      syntax: 'UNOC:1',
    });
    assert.deepEqual(result.asns[0]!.source, { interchange: '1', message: '142', segmentIndex: 1 });
  });

  it('returns every 856 of an interchange and skips other transaction sets with a warning', () => {
    const notice = (id: string) => [
      `BSN*00*${id}*20240301`,
      'HL*1**S',
      'N1*ST**92*P1',
      'HL*2*1*I',
      'LIN**BP*M',
      'SN1**1*EA',
    ];
    const two = parseAsn(buildX12([notice('A-1'), notice('A-2')]), 'x12');
    assert.deepEqual(
      two.asns.map((a) => [a.data.asnId, a.source.message]),
      [
        ['A-1', '0001'],
        ['A-2', '0002'],
      ],
    );
    const mixed = buildX12([notice('A-1'), ['BEG*00*SA*PO-1**20240301']]).replace(
      'ST*856*0002',
      'ST*850*0002',
    );
    const result = parseAsn(mixed, 'x12');
    assert.equal(result.asns.length, 1);
    assert.deepEqual(result.warnings, [
      'Transaction set 850 (purchase order) (ST02 0002) is not an 856 ship notice; it was skipped.',
    ]);
  });

  it('rejects a bad utcOffset or format as a programming error, not as bad input', () => {
    assert.throws(() => parseAsn(fixture(DESADV), 'edifact', { utcOffset: 'CET' }), RangeError);
    assert.throws(() => parseAsn(fixture(DESADV), 'json' as 'x12'), RangeError);
  });
});

describe('parseAsn on large input', () => {
  it('walks HL levels nested thousands deep without exhausting the stack', () => {
    const depth = 20_000;
    const body = ['BSN*00*DEEP*20240301', 'HL*1**S', 'N1*ST**92*P1'];
    for (let id = 2; id <= depth + 1; id++) body.push(`HL*${id}*${id - 1}*I`, `LIN**BP*M${id}`, 'SN1**1*EA');
    const started = performance.now();
    const { asns } = parseAsn(buildX12([body]), 'x12');
    assert.equal(asns[0]?.data.lines.length, depth);
    assert.equal(asns[0]?.data.lines.at(-1)?.material, `M${depth + 1}`);
    assert.ok(performance.now() - started < 5_000, 'mapping is not linear in the number of levels');
  });

  it('reads a DESADV with thousands of lines', () => {
    const body = ['BGM+351+BIG+9', 'DTM+11:20240301:102', 'NAD+ST+P1', 'CPS+1'];
    for (let i = 1; i <= 10_000; i++) body.push(`LIN+${i}++M${i}:BP`, 'QTY+12:1:EA', `RFF+ON:PO${i}`);
    const { asns } = parseAsn(buildEdifact(body), 'edifact');
    assert.equal(asns[0]?.data.lines.length, 10_000);
    assert.equal(asns[0]?.data.lines[9_999]?.purchaseOrder, 'PO10000');
  });
});

describe('parseAsn on bad input gives the specific typed error', () => {
  const example4 = fixtureText(X12_856_FIXTURES[3]!);
  const desadv = fixtureText(DESADV);
  const x12Cases: Array<[string, string | Uint8Array, string]> = [
    ['an empty body', '', 'empty-input'],
    ['empty bytes', new Uint8Array(0), 'empty-input'],
    ['text that is not X12', 'Shipment leaves Monday, 3 pallets.', 'not-x12'],
    ['wrong delimiters declared in ISA', example4.replace('*P*|~', '*P*|^'), 'wrong-delimiters'],
    ['an interchange cut in the middle', example4.slice(0, 700), 'truncated-interchange'],
    [
      'an 850 purchase order',
      fixture('x12-oopfactory/ORD/_850/Example1_PGWGlass.txt'),
      'wrong-transaction-set',
    ],
    [
      'an SE02 that differs from ST02',
      example4.replace('SE*40*0414', 'SE*40*0415'),
      'control-number-mismatch',
    ],
    ['an SE01 that miscounts', example4.replace('SE*40*0414', 'SE*39*0414'), 'segment-count-mismatch'],
  ];
  for (const [what, body, code] of x12Cases) {
    it(`X12: ${what} → ${code}`, () => {
      throwsEdi(() => parseAsn(body, 'x12'), X12ParseError, code as X12ParseError['code']);
    });
  }
  const edifactCases: Array<[string, string, string]> = [
    ['an empty body', '', 'empty-input'],
    ['text that is not EDIFACT', 'Shipment leaves Monday, 3 pallets.', 'not-edifact'],
    ['terminators other than the ones in force', desadv.replaceAll("'\n", '~\n'), 'wrong-delimiters'],
    ['an interchange cut in the middle', desadv.slice(0, 200), 'truncated-interchange'],
    ['an ORDERS message', buildEdifact(['BGM+220+PO1+9'], 'ORDERS:D:96A:UN'), 'wrong-message-type'],
    ['a UNT that miscounts', desadv.replace('UNT+21+142', 'UNT+22+142'), 'segment-count-mismatch'],
  ];
  for (const [what, body, code] of edifactCases) {
    it(`EDIFACT: ${what} → ${code}`, () => {
      throwsEdi(() => parseAsn(body, 'edifact'), EdifactParseError, code as EdifactParseError['code']);
    });
  }

  it('gives every error a position when a segment is to blame', () => {
    const error = throwsEdi(
      () => parseAsn(example4.slice(0, 700), 'x12'),
      X12ParseError,
      'truncated-interchange',
    );
    assert.ok(error instanceof EdiError);
    assert.equal(error.retryable, false);
    assert.equal(typeof error.segmentIndex, 'number');
    assert.equal(typeof error.line, 'number');
  });
});

describe('parseAsn never fails with anything but a typed error', () => {
  const x12Samples = X12_856_FIXTURES.map((f) => fixtureText(f));
  const edifactSamples = [fixtureText(DESADV)];
  const x12Tokens = [
    'ISA',
    'GS',
    'ST*856*1',
    'SE*2*1',
    'GE*1*1',
    'IEA*1*1',
    'HL*1**S',
    'HL*2*1*I',
    'LIN**BP*A',
  ];
  const ediTokens = ["UNA:+.? '", "UNB+UNOC:3+A+B+1+1'", "UNH+1+DESADV:D:96A:UN'", "UNT+2+1'", "UNZ+1+1'"];

  /** A sample with a random cut, a random splice of other text, or a random character replaced. */
  const mutated = (samples: string[]) =>
    fc
      .tuple(fc.constantFrom(...samples), fc.nat(), fc.nat(), fc.string({ unit: 'binary', maxLength: 8 }))
      .chain(([text, a, b, insert]) =>
        fc.constantFrom(
          text.slice(0, a % (text.length + 1)),
          text.slice(0, a % text.length) + insert + text.slice(a % text.length),
          text.slice(0, a % text.length) + text.slice((a % text.length) + (b % 12)),
          text.slice(0, a % text.length) + insert.charAt(0) + text.slice((a % text.length) + 1),
        ),
      );

  for (const format of ['x12', 'edifact'] as const) {
    const tokens = format === 'x12' ? x12Tokens : ediTokens;
    const samples = format === 'x12' ? x12Samples : edifactSamples;

    it(`${format}: random strings`, () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary' }), (s) => resultOrTypedError(s, format)),
        { numRuns: 300 },
      );
    });

    it(`${format}: random bytes`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 400 }), (b) => resultOrTypedError(b, format)),
        {
          numRuns: 300,
        },
      );
    });

    it(`${format}: random sequences of envelope fragments`, () => {
      const body = fc
        .array(fc.oneof(fc.constantFrom(...tokens), fc.constantFrom('*', '~', "'", '+', ':', '\n', '?')), {
          maxLength: 30,
        })
        .map((parts) => parts.join(''));
      fc.assert(
        fc.property(body, (s) => resultOrTypedError(s, format)),
        { numRuns: 300 },
      );
    });

    it(`${format}: damaged copies of the sample files`, () => {
      fc.assert(
        fc.property(mutated(samples), (s) => resultOrTypedError(s, format)),
        { numRuns: 600 },
      );
    });
  }
});
