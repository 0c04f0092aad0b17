import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseAsn, type SupplierAsnData } from '../edi/index.js';
import { X12_UNIT_TO_REC20 } from '../edi/units.js';
import {
  type AsnDocument,
  buildDesadv,
  buildX12Asn,
  canonicalAsn,
  type EnvelopeOptions,
} from './edi-samples.js';
import '../../test/helpers/seed.js';

// Ids with inner spaces and EDIFACT service characters, which DESADV must escape.
const id = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9 .:+'?/-]{0,18}[A-Za-z0-9])?$/);
const plant = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/);
// Units the hub maps both ways without a warning.
const uom = fc.constantFrom(...new Set(Object.values(X12_UNIT_TO_REC20)));
const quantity = fc.oneof(
  fc.integer({ min: 0, max: 10_000_000 }),
  fc.integer({ min: 1, max: 10_000_000 }).map((n) => n / 1000),
);
const shipDate = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
  .chain((d) => fc.constantFrom(d.toISOString().slice(0, 10), `${d.toISOString().slice(0, 19)}Z`));
const asnArbitrary: fc.Arbitrary<AsnDocument> = fc.record(
  {
    asnId: id,
    supplierId: id,
    plant,
    shipDate,
    lines: fc.array(
      fc.record(
        {
          material: id,
          quantity: fc.record({ value: quantity, uom }),
          lots: fc.uniqueArray(id, { maxLength: 3 }),
        },
        { requiredKeys: ['material', 'quantity'] },
      ),
      { minLength: 1, maxLength: 5 },
    ),
    purchaseOrder: id,
    supplierName: id,
  },
  { requiredKeys: ['asnId', 'supplierId', 'plant', 'shipDate', 'lines'] },
);
const envelope: fc.Arbitrary<EnvelopeOptions> = fc.record({
  sender: fc.stringMatching(/^[A-Z0-9]{1,15}$/),
  receiver: fc.constant('CONVEYOR'),
  controlNumber: fc.integer({ min: 1, max: 999_999_999 }),
  groupControlNumber: fc.integer({ min: 1, max: 999_999_999 }),
  messageControlNumber: fc.integer({ min: 1, max: 9_999 }),
  preparedAt: fc.date({
    min: new Date('2000-01-01T00:00:00Z'),
    max: new Date('2099-12-31T23:59:59Z'),
    noInvalidDate: true,
  }),
  test: fc.boolean(),
});

/** What must survive the trip through a document and the hub's parser. */
function expected(asn: AsnDocument) {
  return {
    asnId: asn.asnId,
    supplierId: asn.supplierId,
    plant: asn.plant,
    shipDate: asn.shipDate,
    lines: canonicalAsn(asn).lines,
    purchaseOrder: asn.purchaseOrder,
  };
}

function actual(data: SupplierAsnData) {
  return {
    asnId: data.asnId,
    supplierId: data.supplierId,
    plant: data.plant,
    shipDate: data.shipDate,
    lines: data.lines.map((l) => ({
      material: l.material,
      quantity: l.quantity,
      ...(l.lots ? { lots: l.lots } : {}),
    })),
    purchaseOrder: data.purchaseOrder,
  };
}

describe('buildX12Asn', () => {
  it('makes 856 interchanges the hub parses back to the same ASN, without a warning', () => {
    fc.assert(
      fc.property(asnArbitrary, envelope, (asn, env) => {
        const result = parseAsn(buildX12Asn(asn, env), 'x12');
        assert.deepEqual(result.warnings, []);
        assert.equal(result.asns.length, 1);
        assert.deepEqual(result.asns[0]!.warnings, []);
        assert.deepEqual(actual(result.asns[0]!.data), expected(asn));
        assert.equal(Number(result.envelope.controlNumber), env.controlNumber);
        assert.equal(Number(result.asns[0]!.source.group), env.groupControlNumber);
        assert.equal(Number(result.asns[0]!.source.message), env.messageControlNumber);
        assert.equal(result.envelope.sender.id, env.sender);
        assert.equal(result.envelope.test, env.test);
      }),
    );
  });

  it('writes a fixed-width ISA and counts ST to SE in SE01', () => {
    const text = buildX12Asn(SAMPLE, {
      sender: 'ACME',
      receiver: 'CONVEYOR',
      controlNumber: 42,
      preparedAt: AT,
    });
    const segments = text.split('~\n').filter(Boolean);
    assert.equal(segments[0]!.length + 1, 106);
    assert.equal(
      segments[0],
      'ISA*00*          *00*          *ZZ*ACME           *ZZ*CONVEYOR       *240301*0930*U*00401*000000042*0*P*>',
    );
    const st = segments.findIndex((s) => s.startsWith('ST*'));
    const se = segments.findIndex((s) => s.startsWith('SE*'));
    assert.equal(segments[se], `SE*${se - st + 1}*0001`);
    assert.deepEqual(segments.slice(-2), ['GE*1*42', 'IEA*1*000000042']);
    assert.ok(segments.includes('DTM*011*20240301'));
    assert.ok(segments.includes('SN1**12.5*KG'), 'KGM goes out as the X12 code KG');
  });

  it('refuses values X12 cannot carry', () => {
    const env = { sender: 'ACME', receiver: 'CONVEYOR', controlNumber: 1 };
    assert.throws(() => buildX12Asn({ ...SAMPLE, asnId: 'A*1' }, env), RangeError);
    assert.throws(() => buildX12Asn(SAMPLE, { ...env, sender: 'A-SENDER-LONGER-THAN-15' }), RangeError);
    assert.throws(() => buildX12Asn(SAMPLE, { ...env, controlNumber: 1_000_000_000 }), RangeError);
    assert.throws(() => buildX12Asn({ ...SAMPLE, lines: [] }, env), RangeError);
    assert.throws(() => buildX12Asn({ ...SAMPLE, shipDate: '1 March' }, env), RangeError);
    assert.throws(
      () => buildX12Asn({ ...SAMPLE, lines: [{ material: 'M', quantity: { value: 1, uom: 'KG' } }] }, env),
      RangeError,
      'KG is read back as KGM',
    );
  });
});

describe('buildDesadv', () => {
  it('makes DESADV interchanges the hub parses back to the same ASN, without a warning', () => {
    fc.assert(
      fc.property(asnArbitrary, envelope, (asn, env) => {
        // DESADV dates carry no zone: the hub keeps the time when the supplier's offset is configured.
        const result = parseAsn(buildDesadv(asn, env), 'edifact', { utcOffset: 'Z' });
        assert.deepEqual(result.warnings, []);
        assert.equal(result.asns.length, 1);
        assert.deepEqual(result.asns[0]!.warnings, []);
        assert.deepEqual(actual(result.asns[0]!.data), expected(asn));
        assert.equal(result.envelope.controlNumber, String(env.controlNumber));
        assert.equal(result.asns[0]!.source.message, String(env.messageControlNumber));
        assert.equal(result.envelope.sender.id, env.sender);
        assert.equal(result.envelope.test, env.test);
      }),
    );
  });

  it('writes UNA, counts UNH to UNT and escapes service characters', () => {
    const text = buildDesadv(
      { ...SAMPLE, asnId: "A+B:C'D?E" },
      { sender: 'ACME', receiver: 'CONVEYOR', controlNumber: 7, messageControlNumber: 3, preparedAt: AT },
    );
    const segments = text.split("'\n").filter(Boolean);
    assert.equal(segments[0], 'UNA:+.? ');
    assert.equal(segments[1], 'UNB+UNOC:3+ACME:ZZ+CONVEYOR:ZZ+240301:0930+7');
    assert.ok(segments.includes("BGM+351+A?+B?:C?'D??E+9"));
    const unh = segments.findIndex((s) => s.startsWith('UNH+'));
    const unt = segments.findIndex((s) => s.startsWith('UNT+'));
    assert.equal(segments[unt], `UNT+${unt - unh + 1}+3`);
    assert.equal(segments.at(-1), 'UNZ+1+7');
    assert.equal(parseAsn(text, 'edifact').asns[0]!.data.asnId, "A+B:C'D?E");
  });

  it('keeps the ship date without a configured offset, and refuses what UNOC cannot carry', () => {
    const env = { sender: 'ACME', receiver: 'CONVEYOR', controlNumber: 1 };
    const text = buildDesadv({ ...SAMPLE, shipDate: '2024-03-01T08:15:00Z' }, env);
    assert.equal(parseAsn(text, 'edifact').asns[0]!.data.shipDate, '2024-03-01');
    assert.throws(() => buildDesadv({ ...SAMPLE, asnId: 'A\u20ac' }, env), RangeError);
    assert.throws(() => buildDesadv({ ...SAMPLE, asnId: 'A\nB' }, env), RangeError);
  });
});

describe('canonicalAsn', () => {
  it('is the JSON body without the supplier (it is in the path) and without empty lots', () => {
    assert.deepEqual(
      canonicalAsn({ ...SAMPLE, lines: [{ material: 'M', quantity: { value: 1, uom: 'EA' }, lots: [] }] }),
      {
        asnId: 'ASN-1',
        plant: 'P1',
        shipDate: '2024-03-01',
        lines: [{ material: 'M', quantity: { value: 1, uom: 'EA' } }],
      },
    );
  });
});

const AT = new Date('2024-03-01T09:30:00Z');
const SAMPLE: AsnDocument = {
  asnId: 'ASN-1',
  supplierId: 'V-1',
  plant: 'P1',
  shipDate: '2024-03-01',
  lines: [{ material: 'CMP-STEEL-COIL', quantity: { value: 12.5, uom: 'KGM' }, lots: ['L1'] }],
};
