/** Helpers shared by the tests of this folder: fixture files and small hand-built interchanges. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { EdiError } from './edi-error.js';

/** Bytes of a file under test/data/edi/ (compiled tests run from dist/src/edi/). */
export function fixture(path: string): Buffer {
  return readFileSync(new URL(`../../../test/data/edi/${path}`, import.meta.url));
}

/** Text of a fixture, decoded as UTF-8 with its BOM kept. */
export function fixtureText(path: string): string {
  return fixture(path).toString('utf8');
}

/** The six 856 ship notices of the X12 fixture set. */
export const X12_856_FIXTURES = [
  'Example1.txt',
  'Example2.txt',
  'Example3.txt',
  'Example4.txt',
  'FromGregarican.txt',
  'edi1Source.txt',
].map((name) => `x12-oopfactory/ORD/_856/${name}`);

/** A fixed-width (106 character) ISA header with `*`, `>` and `~`. */
export const TEST_ISA =
  'ISA*00*          *00*          *ZZ*SUPPLIER1      *ZZ*CONVEYOR       *240301*1200*U*00401*000000123*0*P*>~';

/**
 * An X12 interchange with one functional group holding one transaction set per entry of
 * `transactions` (their body segments, without ST/SE, written with `*` and without `~`).
 */
export function buildX12(transactions: readonly (readonly string[])[], setId = '856'): string {
  const sets = transactions.map((body, i) => {
    const control = String(i + 1).padStart(4, '0');
    return [`ST*${setId}*${control}`, ...body, `SE*${body.length + 2}*${control}`];
  });
  return [TEST_ISA.slice(0, -1), 'GS*SH*SUPPLIER1*CONVEYOR*20240301*1200*7*X*004010', ...sets.flat()]
    .concat([`GE*${transactions.length}*7`, 'IEA*1*000000123'])
    .map((s) => `${s}~`)
    .join('\n');
}

/** An EDIFACT interchange (default delimiters) with one message of `type` holding `body`. */
export function buildEdifact(body: readonly string[], type = 'DESADV:D:96A:UN'): string {
  const segments = ['UNH+M1+' + type, ...body];
  return [
    'UNB+UNOC:3+SUPPLIER1:ZZ+CONVEYOR:ZZ+240301:1200+IC1',
    ...segments,
    `UNT+${segments.length + 1}+M1`,
    'UNZ+1+IC1',
  ]
    .map((s) => `${s}'`)
    .join('\n');
}

/** Asserts that `run` throws an {@link EdiError} of `type` with `code`, and returns it. */
export function throwsEdi<T extends EdiError>(
  run: () => unknown,
  type: abstract new (...args: never[]) => T,
  code: T['code'],
): T {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof type, `expected ${type.name}, got ${String(caught)}`);
  assert.equal((caught as T).code, code, (caught as T).message);
  return caught as T;
}
