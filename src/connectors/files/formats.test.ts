import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { D96A_DESADV_ASN, EXAMPLE1_ASN } from '../../edi/expected-asns.test-data.js';
import { dataPath, drop, listDir, startSource } from './test-helpers.js';

const X12_856 = ['Example1', 'Example2', 'Example3', 'Example4', 'FromGregarican', 'edi1Source'].map((n) =>
  dataPath(`edi/x12-oopfactory/ORD/_856/${n}.txt`),
);
const X12_850 = dataPath('edi/x12-oopfactory/ORD/_850/Example1_PGWGlass.txt');
const DESADV = dataPath('edi/edifact-php-edifact/D96ADESADV.edi');
const COURBON = dataPath('b2mml/examples/courbon-b2mml-v0401');

const sidecar = (dir: string, name: string) =>
  JSON.parse(readFileSync(join(dir, 'failed', `${name}.error.json`), 'utf8')) as Record<string, unknown>;

describe('files source: x12 and edifact', () => {
  it('every 856 fixture becomes one supplier.asn.received, in name order', async () => {
    const { dir, source, hub } = await startSource({ pattern: '*.txt', format: 'x12', plant: 'P1' });
    try {
      for (const file of X12_856) copyFileSync(file, join(dir, basename(file)));
      await source.scanNow();
      assert.deepEqual(
        hub.messages.map((m) => m.events?.map((e) => [e.type, e.data.asnId])),
        ['123456', '25673', '146940', 'DELIVERYNUMBER', '521649209219', '829716'].map((id) => [
          ['supplier.asn.received', id],
        ]),
      );
      assert.ok(hub.messages.every((m) => m.error === undefined && /#1$/.test(m.id)));
      assert.ok(hub.events().every((e) => e.data.plant === 'P1'));
      assert.deepEqual(listDir(join(dir, 'processed')), X12_856.map((f) => basename(f)).sort());
    } finally {
      await source.stop();
    }
  });

  it('maps Example1 field by field: the ship-from party is the supplier, the ship-to party the plant', async () => {
    const { dir, source, hub } = await startSource({ pattern: '*.edi', format: 'x12' });
    try {
      copyFileSync(X12_856[0]!, join(dir, 'Example1.edi'));
      await source.scanNow();
      assert.deepEqual(hub.events(), [{ type: 'supplier.asn.received', data: EXAMPLE1_ASN }]);
      const payload = hub.messages[0]!.payload as { envelope: { sender: { id: string } } };
      assert.equal(payload.envelope.sender.id, '201495124');
    } finally {
      await source.stop();
    }
  });

  it('the DESADV fixture becomes supplier.asn.received with the BGM document number', async () => {
    const { dir, source, hub } = await startSource({ pattern: '*.edi', format: 'edifact' });
    try {
      copyFileSync(DESADV, join(dir, 'D96ADESADV.edi'));
      await source.scanNow();
      assert.deepEqual(hub.events(), [{ type: 'supplier.asn.received', data: D96A_DESADV_ASN }]);
      assert.deepEqual(listDir(join(dir, 'processed')), ['D96ADESADV.edi']);
    } finally {
      await source.stop();
    }
  });

  it('an 850 is failed with the EDI error code, and the hub gets one message for it', async () => {
    const { dir, source, hub } = await startSource({ pattern: '*.txt', format: 'x12', plant: 'P1' });
    try {
      copyFileSync(X12_850, join(dir, 'po.txt'));
      await source.scanNow();
      assert.deepEqual(listDir(join(dir, 'failed')), ['po.txt', 'po.txt.error.json']);
      const written = sidecar(dir, 'po.txt');
      assert.equal(written.code, 'wrong-transaction-set');
      assert.equal(written.segment, 'ST');
      assert.equal(written.line, 3);
      assert.equal(written.file, join(dir, 'po.txt'));
      assert.match(String(written.error), /850 \(purchase order\) but no 856/);
      assert.ok(!Number.isNaN(Date.parse(String(written.at))));
      assert.equal(hub.messages.length, 1);
      const [message] = hub.messages;
      assert.match(message!.id, /^po\.txt:\d+:\d+#file$/);
      assert.deepEqual(message!.events, []);
      assert.match(message!.error ?? '', /wrong-transaction-set/);
      assert.deepEqual(Buffer.from(message!.raw), readFileSync(X12_850));
      assert.equal(hub.lastStatus?.type, 'degraded');
      assert.match(hub.lastStatus && 'reason' in hub.lastStatus ? hub.lastStatus.reason : '', /po\.txt/);
    } finally {
      await source.stop();
    }
  });

  it('a truncated 856 is failed at the segment where it ends; the next good file makes it up again', async () => {
    const { dir, source, hub } = await startSource({ pattern: '*.txt', format: 'x12' });
    try {
      const lines = readFileSync(X12_856[0]!, 'utf8').split('\n');
      drop(dir, 'a-cut.txt', lines.slice(0, 13).join('\n'));
      await source.scanNow();
      const written = sidecar(dir, 'a-cut.txt');
      assert.equal(written.code, 'truncated-interchange');
      assert.equal(written.segment, 'N3');
      assert.equal(written.segmentIndex, 12);
      assert.equal(written.line, 13);
      assert.equal(hub.lastStatus?.type, 'degraded');
      copyFileSync(X12_856[0]!, join(dir, 'b-whole.txt'));
      await source.scanNow();
      assert.equal(hub.lastStatus?.type, 'up');
      assert.deepEqual(listDir(join(dir, 'processed')), ['b-whole.txt']);
    } finally {
      await source.stop();
    }
  });

  it('a file that is not EDIFACT at all is failed with not-edifact', async () => {
    const { dir, source } = await startSource({ pattern: '*.edi', format: 'edifact' });
    try {
      copyFileSync(X12_856[0]!, join(dir, 'wrong.edi'));
      await source.scanNow();
      assert.equal(sidecar(dir, 'wrong.edi').code, 'not-edifact');
    } finally {
      await source.stop();
    }
  });
});

describe('files source: b2mml', () => {
  it('the Courbon schedule and performance become the production events they describe', async () => {
    const { dir, source, hub } = await startSource({ pattern: '*.xml', format: 'b2mml', plant: 'P1' });
    try {
      for (const name of ['PES-20121229115825-53107.xml', 'PRO-20121210181416-27942.xml'])
        copyFileSync(join(COURBON, name), join(dir, name));
      await source.scanNow();
      assert.deepEqual(
        hub.events().map((e) => [e.type, e.subject, e.data.orderId, e.data.plant]),
        [
          ['production.material.consumed', '53107', '53107', 'P1'],
          ['production.order.released', '258456', '258456', 'P1'],
        ],
      );
      assert.deepEqual(hub.events()[0]!.data, {
        orderId: '53107',
        plant: 'P1',
        material: 'CRBN0001',
        quantity: { value: 0.41, uom: 'KG' },
        consumedAt: '2012-11-29T11:58:25.3149559+01:00',
        lot: 'CRBN0001_LOT01',
      });
      assert.equal(listDir(join(dir, 'processed')).length, 2);
    } finally {
      await source.stop();
    }
  });

  it('a material definition is failed as unsupported-document; malformed XML at its line', async () => {
    const { dir, source, hub } = await startSource({ pattern: '*.xml', format: 'b2mml', plant: 'P1' });
    try {
      copyFileSync(join(COURBON, 'MAT-20121210170256-CRBN0001.xml'), join(dir, 'mat.xml'));
      drop(dir, 'broken.xml', '<?xml version="1.0"?>\n<SyncProductionSchedule>\n<DataArea>\n</Oops>\n');
      await source.scanNow();
      assert.equal(sidecar(dir, 'mat.xml').code, 'unsupported-document');
      const broken = sidecar(dir, 'broken.xml');
      assert.equal(broken.code, 'malformed-xml');
      assert.equal(typeof broken.line, 'number');
      assert.equal(hub.messages.length, 2);
      assert.ok(hub.messages.every((m) => m.error !== undefined && m.events?.length === 0));
    } finally {
      await source.stop();
    }
  });

  it('a schedule without any plant describes no events: one message with the reason, not silence', async () => {
    const { dir, source, hub } = await startSource({ pattern: '*.xml', format: 'b2mml' });
    try {
      copyFileSync(join(COURBON, 'PRO-20121210181416-27942.xml'), join(dir, 'pro.xml'));
      await source.scanNow();
      assert.equal(hub.messages.length, 1);
      assert.match(hub.messages[0]!.error ?? '', /no production events: .*no plant/);
    } finally {
      await source.stop();
    }
  });
});

describe('files source: json', () => {
  it('JSON lines: one message per line, a bad line is one message with an error', async () => {
    const { dir, source, hub } = await startSource({ pattern: '*.jsonl', format: 'json' });
    try {
      drop(
        dir,
        'a.jsonl',
        '{"type":"telemetry.machine.state","data":{"equipmentId":"M1","state":"idle"},"plant":"P2"}\n' +
          '\n' +
          'not json\n' +
          '[{"type":"a.b","data":{}}, 3]\n',
      );
      await source.scanNow();
      assert.deepEqual(
        hub.messages.map((m) => [m.id.replace(/^.*#/, ''), m.error === undefined]),
        [
          ['1', true],
          ['3', false],
          ['4.1', true],
          ['4.2', false],
        ],
      );
      assert.deepEqual(hub.messages[0]!.events, [
        { type: 'telemetry.machine.state', data: { equipmentId: 'M1', state: 'idle' }, plant: 'P2' },
      ]);
    } finally {
      await source.stop();
    }
  });

  it('one pretty-printed document; with type, each object is that event', async () => {
    const { dir, source, hub } = await startSource({
      pattern: '*.json',
      format: 'json',
      type: 'inventory.pallet.moved',
      plant: 'P1',
    });
    try {
      drop(
        dir,
        'a.json',
        JSON.stringify([{ palletId: 'PAL-1' }, { palletId: 'PAL-2', plant: 'P3' }], null, 2),
      );
      drop(dir, 'b.json', '{\n  "broken": \n');
      await source.scanNow();
      assert.deepEqual(
        hub.events().map((e) => [e.type, e.data, e.plant]),
        [
          ['inventory.pallet.moved', { palletId: 'PAL-1', plant: 'P1' }, 'P1'],
          ['inventory.pallet.moved', { palletId: 'PAL-2', plant: 'P3' }, 'P3'],
        ],
      );
      assert.equal(sidecar(dir, 'b.json').code, 'malformed-json');
      assert.deepEqual(listDir(join(dir, 'processed')), ['a.json']);
    } finally {
      await source.stop();
    }
  });

  it('an empty file is failed as empty-file', async () => {
    const { dir, source } = await startSource({ pattern: '*.json', format: 'json' });
    try {
      drop(dir, 'empty.json', '');
      await source.scanNow();
      assert.equal(sidecar(dir, 'empty.json').code, 'empty-file');
    } finally {
      await source.stop();
    }
  });
});
