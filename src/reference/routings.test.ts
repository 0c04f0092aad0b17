import assert from 'node:assert/strict';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRoutings, RoutingsError, RoutingTable } from './routings.js';

const HEADER = 'plant,material,operation,workCenter,component,componentQuantity,uom';

test('operations keep file order and merge repeats; components form the BOM', () => {
  const routings = parseRoutings(
    `\ufeff${HEADER}\nP1,FG-1,0010,WC-A,RM-1,2,KG\nP1,FG-1,0010,WC-A,RM-2,1,\nP1,FG-1,0020,WC-B,,,\n# comment\n"P2","FG-1","0010","WC, quoted",,,\n`,
    'r.csv',
  );
  assert.deepEqual(routings.get('P1\u0000FG-1'), {
    routing: [
      { operation: '0010', workCenter: 'WC-A' },
      { operation: '0020', workCenter: 'WC-B' },
    ],
    bom: [
      { material: 'RM-1', quantity: { value: 2, uom: 'KG' } },
      { material: 'RM-2', quantity: { value: 1, uom: 'EA' } },
    ],
  });
  assert.deepEqual(routings.get('P2\u0000FG-1')?.routing, [{ operation: '0010', workCenter: 'WC, quoted' }]);
});

test('bad files are refused with the file, the line and the fix', () => {
  const bad: Array<[string, RegExp]> = [
    ['', /no rows/],
    ['plant,material\nP1,FG-1', /header lacks operation, workCenter/],
    [`${HEADER}\nP1,FG-1,0010,,,,`, /line 2: an operation needs both/],
    [`${HEADER}\nP1,FG-1,0010,WC,RM-1,lots,KG`, /line 2: componentQuantity must be a number/],
    [`${HEADER}\nP1,FG-1,,,RM-1,1,KG`, /P1\/FG-1 has components but no operation/],
    [`${HEADER}\nP1,"FG-1,0010,WC`, /r\.csv: /],
  ];
  for (const [text, message] of bad) {
    assert.throws(
      () => parseRoutings(text, 'r.csv'),
      (error: Error) => {
        assert.ok(error instanceof RoutingsError);
        assert.match(error.message, message);
        assert.match(error.message, /^r\.csv: /);
        return true;
      },
    );
  }
});

test('the table re-reads a changed file (at most once a second) and keeps the last good one when a change is broken', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'conveyor-routings-')), 'routings.csv');
  writeFileSync(file, `${HEADER}\nP1,FG-1,0010,WC-A,,,`);
  let now = 1_000_000;
  const errors: Error[] = [];
  const table = new RoutingTable(
    file,
    (e) => errors.push(e),
    () => now,
  );
  assert.deepEqual(table.lookup('P1', 'FG-1')?.routing, [{ operation: '0010', workCenter: 'WC-A' }]);
  assert.equal(table.lookup('P1', 'FG-2'), undefined);

  const touch = (seconds: number) => utimesSync(file, seconds, seconds);
  writeFileSync(file, `${HEADER}\nP1,FG-1,0010,WC-A,,,\nP1,FG-2,0010,WC-C,,,`);
  touch(2_000_000);
  now += 500;
  assert.equal(table.lookup('P1', 'FG-2'), undefined, 'not re-checked within the second');
  now += 600;
  assert.deepEqual(table.lookup('P1', 'FG-2')?.routing, [{ operation: '0010', workCenter: 'WC-C' }]);
  assert.deepEqual(table.materialsOf('P1').sort(), ['FG-1', 'FG-2']);

  writeFileSync(file, 'garbage');
  touch(2_000_100);
  now += 1_100;
  assert.ok(table.lookup('P1', 'FG-2'), 'the last good routings stay in force');
  assert.equal(errors.length, 1);
  now += 1_100;
  table.lookup('P1', 'FG-2');
  assert.equal(errors.length, 1, 'a broken version is reported once');
});

test('a missing or broken file refuses to start, and no file means no routings', () => {
  assert.throws(() => new RoutingTable('/nonexistent/routings.csv'), /cannot read \(ENOENT\)/);
  const none = new RoutingTable(null);
  assert.equal(none.configured, false);
  assert.equal(none.lookup('P1', 'FG-1'), undefined);
});
