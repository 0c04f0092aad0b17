import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { X12ParseError } from './edi-error.js';
import { buildX12, fixture, fixtureText, TEST_ISA, throwsEdi } from './test-helpers.js';
import { parseX12, x12Element } from './x12.js';

const dir = 'x12-oopfactory';

describe('parseX12 on the partner sample files', () => {
  // [file, element separator, component separator, segment terminator, set ids]
  const wellFormed: Array<[string, string, string, string, string[]]> = [
    ['ORD/_856/Example1.txt', '~', '`', '*', ['856']],
    ['ORD/_856/Example2.txt', '*', ':', '~', ['856']],
    ['ORD/_856/Example3.txt', '*', ':', '\u2026', ['856']],
    ['ORD/_856/Example4.txt', '*', '|', '~', ['856']],
    ['ORD/_856/FromGregarican.txt', '*', '>', '~', ['856']],
    ['ORD/_856/edi1Source.txt', '*', '>', '~', ['856']],
    ['ORD/_850/Example1_PGWGlass.txt', '*', '~', '|', ['850']],
    ['ORD/_850/Example2_Adobe_TLP.txt', '~', '>', '\r', ['850']],
    ['ORD/_850/Example3_Adobe_CLP.txt', '~', '>', '*', ['850']],
    ['ORD/_850/From_aojuk.txt', '*', '>', '~', ['850']],
    ['ORD/_855/855SSimmons.txt', '*', '>', '~', ['855', '855']],
    ['ORD/_855/Example1_Adobe.txt', '*', '>', '\r', ['855']],
    ['ORD/_846/Example1.txt', '~', '>', '}', ['846']],
    ['ORD/_846/Example2.txt', '~', '>', '*', ['846']],
    ['QSS/_863/essarsteelalgoma.txt', '~', '\u00a6', '"', ['863']],
    ['MAN/_866/Sample1.txt', '*', '>', '~', ['866']],
    ['Acknowledgments/_999/DHS_Wisconsin_Sample.txt', '*', ':', '~', ['999']],
    ['Acknowledgments/TechnicalAcknowledgment_Sample1.txt', '*', '^', '~', []],
  ];
  for (const [file, element, component, segment, sets] of wellFormed) {
    it(`reads ${file} with its own delimiters`, () => {
      const [interchange, ...more] = parseX12(fixture(`${dir}/${file}`));
      assert.equal(more.length, 0);
      assert.ok(interchange);
      assert.deepEqual(
        [interchange.delimiters.element, interchange.delimiters.component, interchange.delimiters.segment],
        [element, component, segment],
      );
      assert.deepEqual(
        interchange.groups.flatMap((g) => g.transactions.map((t) => t.setId)),
        sets,
      );
    });
  }

  it('starts with a UTF-8 BOM in the files and still finds ISA at the first character after it', () => {
    const bytes = fixture(`${dir}/ORD/_856/Example4.txt`);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.equal(parseX12(bytes)[0]?.header.line, 1);
    assert.equal(parseX12(fixtureText(`${dir}/ORD/_856/Example4.txt`))[0]?.controlNumber, '000001054');
  });

  it('reads the envelope of Example4: parties, control numbers, transaction segments', () => {
    const [ic] = parseX12(fixture(`${dir}/ORD/_856/Example4.txt`));
    assert.ok(ic);
    assert.equal(ic.senderQualifier, '01');
    assert.equal(ic.senderId, '787347434');
    assert.equal(ic.receiverQualifier, '12');
    assert.equal(ic.receiverId, 'RECEIVERID');
    assert.equal(ic.date, '110909');
    assert.equal(ic.time, '1932');
    assert.equal(ic.version, '00401');
    assert.equal(ic.controlNumber, '000001054');
    assert.equal(ic.usage, 'P');
    assert.deepEqual(ic.warnings, []);
    const [group] = ic.groups;
    assert.equal(group?.functionalId, 'SH');
    assert.equal(group?.controlNumber, '414');
    assert.equal(group?.version, '004010');
    const [tx] = group?.transactions ?? [];
    assert.equal(tx?.controlNumber, '0414');
    assert.equal(tx?.segments.length, 40);
    assert.equal(tx?.segments[1]?.tag, 'BSN');
    assert.deepEqual(tx?.segments[1]?.elements, ['00', 'DELIVERYNUMBER', '20110909', '193235', '0004']);
    // Pretty-printing: BSN is the 4th segment and sits on line 4.
    assert.equal(tx?.segments[1]?.index, 3);
    assert.equal(tx?.segments[1]?.line, 4);
  });

  it('keeps a multi-byte segment terminator (U+2026) intact', () => {
    const [ic] = parseX12(fixture(`${dir}/ORD/_856/Example3.txt`));
    const lin = ic?.groups[0]?.transactions[0]?.segments.find((s) => s.tag === 'LIN');
    assert.deepEqual(lin?.elements, ['00030', 'BP', '000 260 056 524', 'VN', 'abc123', 'EC', '02']);
  });

  it('tolerates an ISA that is not 106 characters long and says so', () => {
    const [ic] = parseX12(fixture(`${dir}/ORD/_850/Example3_Adobe_CLP.txt`));
    assert.equal(ic?.senderId, '00000000');
    assert.match(ic?.warnings[0] ?? '', /105 characters long instead of the fixed 106/);
  });

  it('records the repetition separator from version 00402 on and does not split on it', () => {
    const [ic] = parseX12(fixture(`${dir}/ORD/_856/edi1Source.txt`));
    assert.equal(ic?.delimiters.repetition, '-');
    const bol = ic?.groups[0]?.transactions[0]?.segments.find((s) => s.tag === 'REF');
    assert.deepEqual(bol?.elements, ['BM', '999999-001']);
  });

  it('rejects the broken sample files with the precise reason', () => {
    const count = throwsEdi(
      () => parseX12(fixture(`${dir}/ORD/_860/Example1.txt`)),
      X12ParseError,
      'segment-count-mismatch',
    );
    assert.equal(count.tag, 'SE');
    assert.equal(count.line, 12);
    assert.match(count.message, /N1 at segment 5 \(line 6\) runs over a line break/);

    const gs06 = throwsEdi(
      () => parseX12(fixture(`${dir}/WAR/_940/simplot.txt`)),
      X12ParseError,
      'control-number-mismatch',
    );
    assert.match(gs06.message, /GE02 .* "940001777" but GS06 is "177818711"/);

    const gs = throwsEdi(
      () => parseX12(fixture(`${dir}/WAR/_945/inter-americanproducts.txt`)),
      X12ParseError,
      'malformed-segment',
    );
    assert.equal(gs.tag, 'GS');

    const space = throwsEdi(
      () => parseX12(fixture(`${dir}/ORD/_850/Example4_Adobe_ShrinkWrapped.txt`)),
      X12ParseError,
      'malformed-segment',
    );
    assert.match(space.message, /terminator is space/);
  });
});

describe('parseX12 on bad input', () => {
  const example4 = fixtureText(`${dir}/ORD/_856/Example4.txt`);

  it('reports an empty body as empty-input', () => {
    throwsEdi(() => parseX12(''), X12ParseError, 'empty-input');
    throwsEdi(() => parseX12(' \r\n\t'), X12ParseError, 'empty-input');
    throwsEdi(() => parseX12(Buffer.alloc(0)), X12ParseError, 'empty-input');
    throwsEdi(() => parseX12('\ufeff'), X12ParseError, 'empty-input');
  });

  it('reports text that is not X12 as not-x12, pointing at the right format', () => {
    const text = throwsEdi(
      () => parseX12('Dear supplier, please find our ASN attached.'),
      X12ParseError,
      'not-x12',
    );
    assert.match(text.message, /"Dear supplier, pleas…", not "ISA"/);
    const edifact = throwsEdi(() => parseX12("UNB+UNOC:3+A+B+240301:1200+1'"), X12ParseError, 'not-x12');
    assert.match(edifact.message, /EDIFACT/);
    const json = throwsEdi(() => parseX12('{"asnId":"1"}'), X12ParseError, 'not-x12');
    assert.match(json.message, /JSON/);
  });

  it('reports a terminator declared in ISA but not used by the file as wrong-delimiters, naming the one used', () => {
    // ISA says "!" terminates segments; the rest of the file still uses "~".
    const bad = example4.replace('*P*|~', '*P*|!');
    const error = throwsEdi(() => parseX12(bad), X12ParseError, 'wrong-delimiters');
    assert.equal(error.segmentIndex, 1);
    assert.match(error.message, /segment terminator '!'/);
    assert.match(error.message, /appears to use element separator '\*' and segment terminator '~'/);
  });

  it('reports an element separator the body does not use as wrong-delimiters', () => {
    const bad = `${TEST_ISA}\nGS|SH|A|B|20240301|1200|7|X|004010~\nST|856|0001~`;
    const error = throwsEdi(() => parseX12(bad), X12ParseError, 'wrong-delimiters');
    assert.match(error.message, /element separator '\|'/);
  });

  it('reports alphanumeric or clashing delimiters in ISA as wrong-delimiters', () => {
    throwsEdi(() => parseX12(TEST_ISA.replace('*P*>~', '*P*>A')), X12ParseError, 'wrong-delimiters');
    throwsEdi(() => parseX12(TEST_ISA.replace('*P*>~', '*P**~')), X12ParseError, 'wrong-delimiters');
    throwsEdi(() => parseX12(`ISA1${TEST_ISA.slice(4)}`), X12ParseError, 'wrong-delimiters');
  });

  it('reports an interchange cut in the middle as truncated-interchange with the last segment read', () => {
    const cut = example4.slice(0, Math.floor(example4.length / 2));
    const error = throwsEdi(() => parseX12(cut), X12ParseError, 'truncated-interchange');
    assert.match(error.message, /inside transaction set 856 \(ST02 0414\)/);
    assert.equal(typeof error.segmentIndex, 'number');
    throwsEdi(() => parseX12(example4.slice(0, 60)), X12ParseError, 'truncated-interchange');
    throwsEdi(
      () => parseX12(example4.slice(0, example4.lastIndexOf('000001054') + 4)),
      X12ParseError,
      'truncated-interchange',
    );
    throwsEdi(
      () => parseX12(example4.slice(0, example4.indexOf('IEA'))),
      X12ParseError,
      'truncated-interchange',
    );
  });

  it('accepts a complete IEA that only lacks its final terminator', () => {
    const [ic] = parseX12(example4.replace(/~\s*$/, ''));
    assert.deepEqual(ic?.warnings, ['The final IEA has no segment terminator.']);
  });

  it('checks every control number against its header', () => {
    const good = buildX12([['BSN*00*A1*20240301']]);
    assert.equal(parseX12(good).length, 1);
    const se02 = throwsEdi(
      () => parseX12(good.replace('SE*3*0001', 'SE*3*0002')),
      X12ParseError,
      'control-number-mismatch',
    );
    assert.equal(se02.tag, 'SE');
    assert.equal(se02.segmentIndex, 4);
    throwsEdi(() => parseX12(good.replace('GE*1*7', 'GE*1*8')), X12ParseError, 'control-number-mismatch');
    const iea = throwsEdi(
      () => parseX12(good.replace('IEA*1*000000123', 'IEA*1*000000124')),
      X12ParseError,
      'control-number-mismatch',
    );
    assert.match(iea.message, /IEA02 .* "000000124" but ISA13 is "000000123"/);
    // Leading zeros are padding, not part of the number.
    assert.equal(parseX12(good.replace('IEA*1*000000123', 'IEA*1*123')).length, 1);
  });

  it('checks SE01, GE01 and IEA01 counts', () => {
    const good = buildX12([['BSN*00*A1*20240301'], ['BSN*00*A2*20240301']]);
    const se = throwsEdi(
      () => parseX12(good.replace('SE*3*0001', 'SE*4*0001')),
      X12ParseError,
      'segment-count-mismatch',
    );
    assert.match(se.message, /SE01 .* "4" but transaction set 856 \(ST02 0001\) has 3 segments/);
    throwsEdi(() => parseX12(good.replace('GE*2*7', 'GE*1*7')), X12ParseError, 'transaction-count-mismatch');
    throwsEdi(() => parseX12(good.replace('IEA*1*', 'IEA*2*')), X12ParseError, 'group-count-mismatch');
  });

  it('reports envelope segments out of place as unexpected-segment', () => {
    const good = buildX12([['BSN*00*A1*20240301']]);
    const noSe = good.replace(/SE\*3\*0001~\n/, '');
    const missing = throwsEdi(() => parseX12(noSe), X12ParseError, 'unexpected-segment');
    assert.match(missing.message, /add its SE trailer/);
    const outside = good.replace('GE*1*7~', 'REF*BM*1~\nGE*1*7~');
    throwsEdi(() => parseX12(outside), X12ParseError, 'unexpected-segment');
    const noGs = `${TEST_ISA}\nST*856*0001~\nSE*2*0001~\nIEA*0*000000123~`;
    const error = throwsEdi(() => parseX12(noGs), X12ParseError, 'wrong-delimiters');
    assert.match(error.message, /not a GS header/);
  });

  it('reads several interchanges in one body and rejects other trailing data', () => {
    const one = buildX12([['BSN*00*A1*20240301']]);
    assert.equal(parseX12(`${one}\n${one}`).length, 2);
    throwsEdi(() => parseX12(`${one}\n-- end of file --`), X12ParseError, 'trailing-data');
  });

  it('reads bytes that are not UTF-8 as ISO-8859-1', () => {
    const text = buildX12([['BSN*00*A1*20240301', 'PID*F****M\u00dcLLER']]);
    const [ic] = parseX12(Buffer.from(text, 'latin1'));
    const pid = ic?.groups[0]?.transactions[0]?.segments.find((s) => s.tag === 'PID');
    assert.equal(pid && x12Element(pid, 5), 'M\u00dcLLER');
  });

  it('names the line of the offending segment in pretty-printed files', () => {
    const bad = example4.replace('SN1**5*EA**5*EA~', 'sn1**5*EA~');
    const error = throwsEdi(() => parseX12(bad), X12ParseError, 'malformed-segment');
    // ISA is line 1 and segment 0; the second item's SN1 is on line 25.
    assert.equal(error.line, 25);
    assert.equal(error.segmentIndex, 24);
    assert.match(error.message, /segment 24 \(line 25\) starts with "sn1"/i);
  });
});
