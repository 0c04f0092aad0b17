import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDateTime, isUtcOffset, parseCompactDate, parseCompactTime, toRfc3339 } from './dates.js';

describe('EDI dates', () => {
  it('read CCYYMMDD and windowed YYMMDD, and refuse impossible dates', () => {
    assert.deepEqual(parseCompactDate('20240229'), { year: 2024, month: 2, day: 29 });
    assert.deepEqual(parseCompactDate('030619'), { year: 2003, month: 6, day: 19 });
    assert.deepEqual(parseCompactDate('990104'), { year: 1999, month: 1, day: 4 });
    for (const bad of ['20230229', '20241301', '20240100', '2024-03-01', '2024031', '']) {
      assert.equal(parseCompactDate(bad), undefined, bad);
    }
  });

  it('read HHMM, HHMMSS and decimal seconds, and refuse impossible times', () => {
    assert.deepEqual(parseCompactTime('1421'), { hour: 14, minute: 21, second: 0 });
    assert.deepEqual(parseCompactTime('19323507'), { hour: 19, minute: 32, second: 35, fraction: '07' });
    for (const bad of ['2400', '1260', '123', '12345', '1200ab'])
      assert.equal(parseCompactTime(bad), undefined, bad);
  });

  it('write RFC 3339 and keep a time only with a known offset', () => {
    const date = { year: 2024, month: 3, day: 1 };
    const time = { hour: 9, minute: 5, second: 7, fraction: '5' };
    assert.equal(formatDateTime(date, time, '-05:00'), '2024-03-01T09:05:07.5-05:00');
    const warnings: string[] = [];
    assert.equal(
      toRfc3339(date, time, undefined, (w) => warnings.push(w), 'The ship date'),
      '2024-03-01',
    );
    assert.match(warnings[0] ?? '', /^The ship date carries the time 09:05 without a time zone/);
    assert.equal(
      toRfc3339(date, undefined, undefined, () => assert.fail('no warning expected'), 'x'),
      '2024-03-01',
    );
  });

  it('accept only RFC 3339 offsets', () => {
    for (const ok of ['Z', '+01:00', '-05:30', '+14:00']) assert.ok(isUtcOffset(ok), ok);
    for (const bad of ['UTC', '+1', '+01', '01:00', '+15:00', 'z ']) assert.ok(!isUtcOffset(bad), bad);
  });
});
