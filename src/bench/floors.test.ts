import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { result } from './bench-util.js';
import { checkFloors, loadFloors } from './floors.js';

test('the floors in the repository load, and cover the ingest figures', () => {
  const floors = loadFloors();
  for (const name of ['ingest.single', 'ingest.batch100'])
    assert.ok((floors[name]?.minRatio ?? 0) > 0, `${name} has a floor`);
});

test('a figure below its floor is named; figures above it, and figures without a floor, pass', () => {
  const floors = { 'ingest.single': { minRatio: 0.2 }, 'ingest.batch100': { minRatio: 0.3 } };
  const healthy = [
    result('ingest.single', 9000, 'events/s', { name: 'http.noop_route', value: 17000 }),
    result('ingest.batch100', 40000, 'events/s', { name: 'sqlite.raw_insert_batch100', value: 50000 }),
    result('replay', 10, 'events/s', { name: 'http.noop_route', value: 17000 }),
  ];
  assert.deepEqual(checkFloors(healthy, floors), []);
  // A 5x collapse of single-event ingest.
  const collapsed = [
    result('ingest.single', 1800, 'events/s', { name: 'http.noop_route', value: 17000 }),
    healthy[1] as (typeof healthy)[number],
  ];
  assert.deepEqual(checkFloors(collapsed, floors), [{ name: 'ingest.single', ratio: 0.106, minRatio: 0.2 }]);
  const noCeiling = [result('ingest.batch100', 40000, 'events/s', null)];
  assert.deepEqual(checkFloors(noCeiling, floors), [{ name: 'ingest.batch100', ratio: null, minRatio: 0.3 }]);
});

test('a floors file with a bad floor is refused, naming the figure', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-floors-'));
  try {
    const file = join(dir, 'floors.json');
    writeFileSync(file, JSON.stringify({ 'ingest.single': { minRatio: 'high' } }));
    assert.throws(() => loadFloors(file), /"ingest.single".minRatio must be a number above 0/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
