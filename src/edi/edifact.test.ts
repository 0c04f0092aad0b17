import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EdifactParseError } from './edi-error.js';
import { DEFAULT_EDIFACT_DELIMITERS, edifactValue, parseEdifact } from './edifact.js';
import { buildEdifact, fixture, fixtureText, throwsEdi } from './test-helpers.js';

const desadv = 'edifact-php-edifact/D96ADESADV.edi';

describe('parseEdifact', () => {
  it('reads the DESADV sample: envelope, message header and every segment', () => {
    const [ic, ...more] = parseEdifact(fixture(desadv));
    assert.equal(more.length, 0);
    assert.ok(ic);
    assert.deepEqual(ic.delimiters, DEFAULT_EDIFACT_DELIMITERS);
    assert.deepEqual(ic.syntax, { id: 'UNOC', version: '1' });
    assert.deepEqual(ic.sender, { id: '1556150', qualifier: '31B' });
    assert.deepEqual(ic.recipient, { id: '8888888', qualifier: 'ZZ' });
    assert.equal(ic.date, '160727');
    assert.equal(ic.time, '0953');
    assert.equal(ic.controlReference, '1');
    assert.equal(ic.test, false);
    const [message] = ic.messages;
    assert.equal(message?.reference, '142');
    assert.equal(message?.type, 'DESADV');
    assert.equal(message?.version, '0');
    assert.equal(message?.release, '96A');
    assert.equal(message?.agency, 'UN');
    assert.equal(message?.segments.length, 21);
    const imd = message?.segments[10];
    assert.equal(imd?.tag, 'IMD');
    assert.deepEqual(imd?.elements, [['F'], ['81'], ['', '', '', 'MUNCIE THE MIDDLE']]);
    assert.equal(imd?.index, 11);
    assert.equal(imd?.line, 12);
  });

  it('honours the release character of the default service characters', () => {
    const text = buildEdifact(["FTX+AAI+++Plus ?+ colon ?: mark ?? quote ?' end"]);
    const ftx = parseEdifact(text)[0]?.messages[0]?.segments[1];
    assert.equal(ftx && edifactValue(ftx, 3), "Plus + colon : mark ? quote ' end");
  });

  it('reads the service characters a UNA declares, including its release character', () => {
    const text =
      'UNA#|,! ~\r\nUNB|UNOC#3|SUP#ZZ|CON#ZZ|240301#1200|X1~\r\nUNH|1|DESADV#D#96A#UN~\r\n' +
      'FTX|AAI|||Price!|net!~ 10!#5|second~\r\nUNT|3|1~\r\nUNZ|1|X1~\r\n';
    const [ic] = parseEdifact(text);
    assert.deepEqual(ic?.delimiters, {
      component: '#',
      element: '|',
      decimal: ',',
      release: '!',
      repetition: ' ',
      segment: '~',
    });
    assert.deepEqual(ic?.sender, { id: 'SUP', qualifier: 'ZZ' });
    const ftx = ic?.messages[0]?.segments[1];
    assert.deepEqual(ftx?.elements[3], ['Price|net~ 10#5']);
    assert.deepEqual(ftx?.elements[4], ['second']);
    assert.equal(ftx?.index, 3);
  });

  it('treats a space in the UNA release position as "no release character"', () => {
    const text =
      "UNA:+.  'UNB+UNOC:3+A+B+240301:1200+1'UNH+1+DESADV:D:96A:UN'FTX+AAI+++What?'UNT+3+1'UNZ+1+1'";
    const [ic] = parseEdifact(text);
    assert.equal(ic?.delimiters.release, '');
    assert.equal(edifactValue(ic!.messages[0]!.segments[1]!, 3), 'What?');
  });

  it('reads functional groups and checks UNE against UNG', () => {
    const group = [
      "UNB+UNOC:3+A+B+240301:1200+IC9'",
      "UNG+DESADV+A+B+240301:1200+G1+UN+D:96A'",
      "UNH+1+DESADV:D:96A:UN'",
      "UNT+2+1'",
      "UNE+1+G1'",
      "UNZ+1+IC9'",
    ].join('');
    assert.equal(parseEdifact(group)[0]?.messages[0]?.groupReference, 'G1');
    throwsEdi(
      () => parseEdifact(group.replace("UNE+1+G1'", "UNE+2+G1'")),
      EdifactParseError,
      'message-count-mismatch',
    );
    throwsEdi(
      () => parseEdifact(group.replace("UNE+1+G1'", "UNE+1+G2'")),
      EdifactParseError,
      'control-reference-mismatch',
    );
    throwsEdi(
      () => parseEdifact(group.replace("UNZ+1+IC9'", "UNZ+2+IC9'")),
      EdifactParseError,
      'message-count-mismatch',
    );
  });

  it('decodes ISO-8859-1 bytes (UNOC) that are not UTF-8', () => {
    const text = buildEdifact(['NAD+SU+++M\u00fcller GmbH']);
    const [ic] = parseEdifact(Buffer.from(text, 'latin1'));
    assert.equal(edifactValue(ic!.messages[0]!.segments[1]!, 3), 'M\u00fcller GmbH');
  });

  it('reads several interchanges in one body', () => {
    const one = buildEdifact(['BGM+351+A1+9']);
    assert.equal(parseEdifact(`${one}\n${one}`).length, 2);
  });
});

describe('parseEdifact on bad input', () => {
  const sample = fixtureText(desadv);

  it('reports an empty body as empty-input', () => {
    throwsEdi(() => parseEdifact(''), EdifactParseError, 'empty-input');
    throwsEdi(() => parseEdifact(Buffer.from('\r\n  ')), EdifactParseError, 'empty-input');
  });

  it('reports other text as not-edifact, pointing at the right format', () => {
    const x12 = throwsEdi(() => parseEdifact('ISA*00*          *00*'), EdifactParseError, 'not-edifact');
    assert.match(x12.message, /X12/);
    throwsEdi(
      () => parseEdifact('Please find the despatch advice attached.'),
      EdifactParseError,
      'not-edifact',
    );
    const bare = throwsEdi(() => parseEdifact("UNH+1+DESADV:D:96A:UN'"), EdifactParseError, 'not-edifact');
    assert.match(bare.message, /UNB\/UNZ/);
  });

  it('reports a file using terminators other than those in force as wrong-delimiters', () => {
    const tilde = sample.replaceAll("'\n", '~\n');
    const error = throwsEdi(() => parseEdifact(tilde), EdifactParseError, 'wrong-delimiters');
    assert.match(error.message, /terminator in force is '''/);
    assert.match(error.message, /appears to end segments with '~'/);
    const lines = sample.replaceAll("'\n", '\n');
    const byLine = throwsEdi(() => parseEdifact(lines), EdifactParseError, 'wrong-delimiters');
    assert.match(byLine.message, /line breaks/);
    const star = throwsEdi(
      () => parseEdifact(sample.replace('UNB+', 'UNB*')),
      EdifactParseError,
      'wrong-delimiters',
    );
    assert.match(star.message, /UNB is followed by '\*'/);
  });

  it('reports a UNA that reuses or misuses service characters as wrong-delimiters', () => {
    throwsEdi(() => parseEdifact(`UNA:+.? +${sample}`), EdifactParseError, 'wrong-delimiters');
    throwsEdi(() => parseEdifact(`UNA:A.? '${sample}`), EdifactParseError, 'wrong-delimiters');
    throwsEdi(() => parseEdifact(`UNA:+;? '${sample}`), EdifactParseError, 'wrong-delimiters');
    throwsEdi(() => parseEdifact('UNA:+'), EdifactParseError, 'truncated-interchange');
  });

  it('reports an interchange cut in the middle as truncated-interchange', () => {
    const half = throwsEdi(
      () => parseEdifact(sample.slice(0, Math.floor(sample.length / 2))),
      EdifactParseError,
      'truncated-interchange',
    );
    assert.match(half.message, /inside a message|inside message 142/);
    throwsEdi(
      () => parseEdifact(sample.slice(0, sample.indexOf('UNZ'))),
      EdifactParseError,
      'truncated-interchange',
    );
    throwsEdi(() => parseEdifact(sample.slice(0, -3)), EdifactParseError, 'truncated-interchange');
    throwsEdi(() => parseEdifact(sample.slice(0, 20)), EdifactParseError, 'truncated-interchange');
    throwsEdi(() => parseEdifact(`${sample.slice(0, 30)}?`), EdifactParseError, 'truncated-interchange');
  });

  it('checks UNT and UNZ counts and references', () => {
    const count = throwsEdi(
      () => parseEdifact(sample.replace('UNT+21+142', 'UNT+20+142')),
      EdifactParseError,
      'segment-count-mismatch',
    );
    assert.match(count.message, /UNT at segment 21 \(line 22\) counts "20" but there are 21 segments/);
    throwsEdi(
      () => parseEdifact(sample.replace('UNT+21+142', 'UNT+21+143')),
      EdifactParseError,
      'control-reference-mismatch',
    );
    throwsEdi(
      () => parseEdifact(sample.replace('UNZ+1+1', 'UNZ+2+1')),
      EdifactParseError,
      'message-count-mismatch',
    );
    const ref = throwsEdi(
      () => parseEdifact(sample.replace('UNZ+1+1', 'UNZ+1+2')),
      EdifactParseError,
      'control-reference-mismatch',
    );
    assert.equal(ref.tag, 'UNZ');
  });

  it('reports segments outside messages and missing trailers as unexpected-segment', () => {
    const outside = throwsEdi(
      () => parseEdifact(sample.replace('UNZ+1+1', "FTX+AAI+++late'\nUNZ+1+1")),
      EdifactParseError,
      'unexpected-segment',
    );
    assert.match(outside.message, /outside a message/);
    const noUnt = sample.replace("UNT+21+142'\n", "UNH+143+DESADV:D:96A:UN'\n");
    const missing = throwsEdi(() => parseEdifact(noUnt), EdifactParseError, 'unexpected-segment');
    assert.match(missing.message, /add its UNT trailer/);
    throwsEdi(
      () => parseEdifact(sample.replace("BGM+351+Y02197250+700101'", "bgm+351'")),
      EdifactParseError,
      'malformed-segment',
    );
  });

  it('rejects data after UNZ that is not a further interchange', () => {
    throwsEdi(() => parseEdifact(`${sample}\nEND OF FILE`), EdifactParseError, 'trailing-data');
  });
});
