import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { parseAsn } from '../edi/index.js';
import { HubClient } from './hub-client.js';
import { SimulatedSupplier } from './supplier.js';
import { accepted, problem, TestHub } from './test-hub.js';

describe('SimulatedSupplier', () => {
  const hub = new TestHub();
  const NOW = Date.parse('2024-03-01T12:00:30Z');
  let supplier: SimulatedSupplier;

  before(async () => {
    await hub.listen();
  });
  beforeEach(() => {
    hub.reset();
    let r = 0;
    supplier = new SimulatedSupplier(
      new HubClient(hub.url, 'supplier-key', { sleep: async () => undefined }),
      {
        supplierId: 'V-20417',
        supplierName: 'Nordstahl GmbH',
        plants: ['P1', 'P2'],
        now: () => NOW,
        random: () => (r++ % 7) / 7,
      },
    );
  });
  afterEach(async () => {
    await supplier.close();
  });
  after(async () => {
    await hub.close();
  });

  it('sends its ASNs in turn as JSON, X12 856 and EDIFACT DESADV, each readable as the same kind of ASN', async () => {
    for (let i = 0; i < 4; i++) await supplier.sendNext();
    const requests = hub.to('/v1/suppliers/V-20417/asns');
    assert.deepEqual(
      requests.map((r) => r.headers['content-type']),
      ['application/json', 'application/edi-x12', 'application/edifact', 'application/json'],
    );
    const json = requests[0]?.json as { asnId: string; plant: string; shipDate: string; lines: unknown[] };
    assert.match(json.asnId, /^ASN-[0-9A-Z]+-000001$/);
    assert.equal(json.shipDate, '2024-03-01');
    assert.equal(json.plant, 'P2');
    assert.ok(json.lines.length >= 1);
    const x12 = parseAsn(requests[1]!.body, 'x12');
    const edifact = parseAsn(requests[2]!.body, 'edifact');
    for (const [result, n, plant] of [
      [x12, 2, 'P1'],
      [edifact, 3, 'P2'],
    ] as const) {
      const data = result.asns[0]!.data;
      assert.deepEqual(result.warnings, []);
      assert.equal(data.supplierId, 'V-20417');
      assert.equal(data.plant, plant);
      assert.equal(data.shipDate, '2024-03-01');
      assert.match(data.asnId, new RegExp(`^ASN-[0-9A-Z]+-00000${n}$`));
      assert.equal(Number(result.envelope.controlNumber), n);
      assert.equal(result.envelope.sender.id, 'V-20417');
      assert.equal(requests[n - 1]?.headers['idempotency-key'], `asn-${data.asnId}`);
    }
    assert.equal(supplier.sent, 4);
    assert.equal(supplier.accepted, 4);
    assert.deepEqual(supplier.acceptedByFormat, { json: 2, x12: 1, edifact: 1 });
  });

  it('retries a 503 with the same Idempotency-Key and counts refusals', async () => {
    hub.script = (request, nth) => {
      if (request.headers['content-type'] === 'application/edi-x12') {
        return problem(422, 'invalid-edi', { errors: [{ path: 'BSN02', message: 'empty' }] });
      }
      return nth === 1 ? problem(503, 'unavailable') : accepted(request);
    };
    await supplier.sendNext();
    await supplier.sendNext();
    const keys = hub.requests.map((r) => r.headers['idempotency-key']);
    assert.equal(keys.length, 3);
    assert.equal(keys[0], keys[1]);
    assert.equal(supplier.accepted, 1);
    assert.equal(supplier.rejected, 1);
    assert.equal((supplier.lastRefusal as { type: string }).type, 'urn:conveyor:problem:invalid-edi');
  });

  it('sends on its own once started', async () => {
    const timed = new SimulatedSupplier(new HubClient(hub.url, 'k'), {
      supplierId: 'V-1',
      plants: ['P1'],
      intervalMs: 5,
    });
    timed.start();
    await hub.received(3);
    timed.stop();
    await timed.idle();
    assert.ok(
      timed.acceptedByFormat.json >= 1 &&
        timed.acceptedByFormat.x12 >= 1 &&
        timed.acceptedByFormat.edifact >= 1,
    );
    await timed.close();
  });
});
