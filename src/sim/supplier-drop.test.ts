import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAsn } from '../edi/index.js';
import { HubClient } from './hub-client.js';
import { SimulatedSupplier } from './supplier.js';
import { SupplierFileDrop } from './supplier-drop.js';

test('dropped files are complete X12 856 interchanges the hub parses, never left as .tmp', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-drop-'));
  const hub = new HubClient('http://127.0.0.1:1', 'unused');
  const supplier = new SimulatedSupplier(hub, { supplierId: 'V-20417', plants: ['P1', 'P2'] });
  const drop = new SupplierFileDrop(supplier, dir, { supplierId: 'V-20417' });
  try {
    const files = [drop.dropNext(), drop.dropNext()];
    assert.deepEqual(readdirSync(dir).sort(), files.map((f) => f.slice(dir.length + 1)).sort());
    const plants = files.map((file) => {
      const [asn] = parseAsn(readFileSync(file), 'x12').asns;
      assert.equal(asn?.data.supplierId, 'V-20417');
      return asn?.data.plant;
    });
    assert.deepEqual(plants.sort(), ['P1', 'P2']);
  } finally {
    await supplier.close();
  }
});
