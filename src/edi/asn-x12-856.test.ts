import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MapAsnOptions, MappedAsn } from './asn-types.js';
import { mapX12Asn } from './asn-x12-856.js';
import { X12ParseError } from './edi-error.js';
import { EXAMPLE1_ASN } from './expected-asns.test-data.js';
import { buildX12, fixture, throwsEdi, X12_856_FIXTURES } from './test-helpers.js';
import { parseX12 } from './x12.js';

/** Maps the only transaction set of an interchange. */
function mapOnly(body: string | Buffer, options?: MapAsnOptions): MappedAsn {
  const [interchange] = parseX12(body);
  assert.ok(interchange);
  const transactions = interchange.groups.flatMap((g) => g.transactions);
  assert.equal(transactions.length, 1);
  return mapX12Asn(transactions[0]!, interchange, options);
}

const shipmentHeader = [
  'BSN*00*SHIP-1*20240301*0930',
  'HL*1**S',
  'N1*SF*ACME METALS*92*SUP-77',
  'N1*ST*PLANT ONE*92*P1',
];

describe('mapX12Asn on the partner samples', () => {
  it('maps Example1 (element separator "~", terminator "*") field by field', () => {
    // The expected data was read by hand from the file (see expected-asns.test-data.ts).
    assert.deepEqual(mapOnly(fixture(X12_856_FIXTURES[0]!)), {
      data: EXAMPLE1_ASN,
      warnings: [
        'The ship date DTM*011 at segment 4 (line 5) carries the time 14:21 without a time zone; the date alone is ' +
          'kept. Set the utcOffset option for this partner to keep the time.',
      ],
    });
  });

  it('maps Example3 (terminator U+2026) field by field', () => {
    // N1*SF**92*1002300 has no name but an id; N1*ST**92*ZFIT; LIN*…*BP*… gives the buyer's part;
    // SN1 in EA; PRF*5500005194 on every item; TD5 SCAC AVRT; REF*CN tracking, REF*BM bill of lading;
    // no pack level, so packages is TD1*PAT90*15.
    const line = (lineNumber: string, bp: string, vn: string, ec: string, value: number) => ({
      material: bp,
      quantity: { value, uom: 'EA' },
      lineNumber,
      purchaseOrder: '5500005194',
      productIds: [
        { qualifier: 'BP', id: bp },
        { qualifier: 'VN', id: vn },
        { qualifier: 'EC', id: ec },
      ],
    });
    const { data } = mapOnly(fixture(X12_856_FIXTURES[2]!), { utcOffset: '-05:00' });
    assert.deepEqual(data, {
      asnId: '146940',
      supplierId: '1002300',
      plant: 'ZFIT',
      shipDate: '2005-04-12T20:52:00-05:00',
      documentDate: '2005-04-12T20:52:00-05:00',
      purchaseOrder: '5500005194',
      carrier: 'AVRT',
      trackingNumber: '0123456789',
      billOfLading: '146940',
      packages: 15,
      lines: [
        line('00030', '000 260 056 524', 'abc123', '02', 1596),
        line('00010', '000 260 120 524', 'ZZZ123', '01', 1152),
        line('00020', '000 260 121 524', 'XXX123', '01', 1440),
      ],
    });
  });

  it('maps FromGregarican (shipment, order, pack and item levels) field by field', () => {
    // HL 1 S > HL 2 O (PRF*SO/VINCE1) > HL 3 P (MAN*GM SSCC with AI 00) > HL 4 I. The LIN has no BP/IN/VP,
    // so the first id (UP) is the material. DTM*011*20120510 has no time, so no warning.
    assert.deepEqual(mapOnly(fixture(X12_856_FIXTURES[4]!)), {
      data: {
        asnId: '521649209219',
        supplierId: '12345',
        plant: '004',
        shipDate: '2012-05-10',
        documentDate: '2012-05-15',
        purchaseOrder: 'SO/VINCE1',
        carrier: 'FED2',
        trackingNumber: '521649209219',
        billOfLading: '521649209219',
        packages: 1,
        lines: [
          {
            material: '883932284904',
            quantity: { value: 1, uom: 'EA' },
            purchaseOrder: 'SO/VINCE1',
            description: '16X12MM SMALL WHEATON',
            productIds: [
              { qualifier: 'UP', id: '883932284904' },
              { qualifier: 'PR', id: '507.5' },
              { qualifier: 'EN', id: 'R08916DSSDDBDI7' },
            ],
            packageIds: ['007121610006156802'],
          },
        ],
      },
      warnings: [],
    });
  });

  it('maps Example2: no BSN02, so the bill of lading is the id; each item keeps its own order', () => {
    const { data, warnings } = mapOnly(fixture(X12_856_FIXTURES[1]!));
    assert.equal(data.asnId, '25673');
    assert.match(warnings[0] ?? '', /no shipment identification \(BSN02\)/);
    assert.equal(data.supplierId, '567891234'); // N1*SF, not the N1*SU that comes first
    assert.equal(data.plant, '987654321');
    assert.equal(data.shipDate, '2003-06-19'); // six-digit date of version 003060
    assert.equal(data.purchaseOrder, undefined);
    assert.deepEqual(
      data.lines.map((l) => [l.material, l.quantity.value, l.quantity.uom, l.purchaseOrder]),
      [
        ['rt2371', 1400, 'H87', 'B00000389'],
        ['lt2372', 1500, 'H87', 'B00003489'],
      ],
    );
    assert.equal(data.trackingNumber, '88145');
    assert.equal(data.packages, 5);
  });

  it('maps Example4: HLs without parents are attached by level, the sender is the supplier', () => {
    const { data, warnings } = mapOnly(fixture(X12_856_FIXTURES[3]!));
    assert.equal(data.asnId, 'DELIVERYNUMBER');
    assert.equal(data.supplierId, '787347434');
    assert.equal(data.plant, '010');
    assert.equal(data.shipDate, '2011-09-09');
    assert.equal(data.lines.length, 7);
    assert.ok(data.lines.every((l) => l.purchaseOrder === 'PO NUMBER'));
    assert.deepEqual(data.lines[6], {
      material: '100014546',
      quantity: { value: 12, uom: 'EA' },
      lineNumber: '007',
      purchaseOrder: 'PO NUMBER',
      productIds: [
        { qualifier: 'SK', id: '100014546' },
        { qualifier: 'VN', id: '25555150' },
      ],
    });
    assert.deepEqual(warnings, [
      'HL 2, 3, 4, 5, 6, 7, 8, 9 name no parent (HL02); each was attached to the nearest preceding HL of a higher level.',
      'No ship-from party (N1*SF); supplierId is the interchange sender ISA06 787347434.',
    ]);
  });

  it('maps edi1Source only with a plant: it has no ship-to party', () => {
    const error = throwsEdi(
      () => mapOnly(fixture(X12_856_FIXTURES[5]!)),
      X12ParseError,
      'missing-required-field',
    );
    assert.match(error.message, /no ship-to party \(N1\*ST\)/);
    const { data } = mapOnly(fixture(X12_856_FIXTURES[5]!), { plant: 'P2' });
    assert.equal(data.plant, 'P2');
    assert.equal(data.supplierId, '1 EDI SOURCE'); // N1*SF with a name only
    assert.deepEqual(
      data.lines.map((l) => [l.material, l.quantity.value, l.description]),
      [
        ['87787D', 24, 'BLUE WIDGET'],
        ['99887D', 6, 'RED WIDGET'],
      ],
    );
  });

  it('refuses an 850 purchase order with wrong-transaction-set', () => {
    const [ic] = parseX12(fixture('x12-oopfactory/ORD/_850/From_aojuk.txt'));
    const po = ic!.groups[0]!.transactions[0]!;
    const error = throwsEdi(() => mapX12Asn(po, ic!), X12ParseError, 'wrong-transaction-set');
    assert.match(error.message, /850 \(purchase order\)/);
    assert.equal(error.tag, 'ST');
  });
});

describe('mapX12Asn rules', () => {
  it('walks the HL tree by parent ids, not by the order of the segments', () => {
    const body = [
      ...shipmentHeader,
      'HL*2*1*O',
      'PRF*PO-A',
      'HL*3*1*O',
      'PRF*PO-B',
      // The item of order B comes before the item of order A.
      'HL*4*3*I',
      'LIN*1*BP*MAT-B',
      'SN1**5*EA',
      'HL*5*2*I',
      'LIN*2*BP*MAT-A',
      'SN1**7*EA',
    ];
    const { data, warnings } = mapOnly(buildX12([body]));
    assert.deepEqual(
      data.lines.map((l) => [l.material, l.purchaseOrder]),
      [
        ['MAT-A', 'PO-A'],
        ['MAT-B', 'PO-B'],
      ],
    );
    assert.equal(data.purchaseOrder, undefined);
    assert.deepEqual(warnings, [
      '856 ST02 0001 has no shipped date (DTM*011); the ship date is the notice date BSN03.',
      'The ship date BSN03/BSN04 carries the time 09:30 without a time zone; the date alone is kept. Set the ' +
        'utcOffset option for this partner to keep the time.',
    ]);
  });

  it('attaches an HL with an unknown parent to the nearest higher level, with a warning', () => {
    const body = [...shipmentHeader, 'DTM*011*20240301', 'HL*2*9*I', 'LIN**VP*V-1', 'SN1**1*EA'];
    const { data, warnings } = mapOnly(buildX12([body]));
    assert.equal(data.lines[0]?.material, 'V-1');
    assert.match(
      warnings[0] ?? '',
      /HL 2 .* names parent "9", which no earlier HL has; it was attached to HL 1/,
    );
  });

  it('prefers the buyer part number, then the buyer item, then the vendor part, then the first id', () => {
    const item = (id: number, lin: string) => [`HL*${id}*1*I`, `LIN*${id}*${lin}`, 'SN1**1*EA'];
    const body = [
      ...shipmentHeader,
      'DTM*011*20240301',
      ...item(2, 'VP*V-2*BP*B-2'),
      ...item(3, 'UP*0001*IN*I-3*VP*V-3'),
      ...item(4, 'UP*0002*VP*V-4'),
      ...item(5, 'UP*0003*SK*S-5'),
    ];
    const { data } = mapOnly(buildX12([body]));
    assert.deepEqual(
      data.lines.map((l) => l.material),
      ['B-2', 'I-3', 'V-4', '0003'],
    );
  });

  it('keeps lots from LIN (LT, B8), REF*LT/BT and GS1 element strings in MAN*AI', () => {
    const body = [
      ...shipmentHeader,
      'DTM*011*20240301',
      'HL*2*1*I',
      'LIN*1*BP*MAT-1*LT*LOT-A*B8*BATCH-B',
      'SN1**10*KG',
      'REF*LT*LOT-C',
      'REF*BT*LOT-A',
      'MAN*AI*(01)04012345678901(10)LOT-D',
    ];
    const { data } = mapOnly(buildX12([body]));
    assert.deepEqual(data.lines[0]?.lots, ['LOT-A', 'BATCH-B', 'LOT-C', 'LOT-D']);
    assert.deepEqual(data.lines[0]?.productIds, [{ qualifier: 'BP', id: 'MAT-1' }]);
    assert.deepEqual(data.lines[0]?.quantity, { value: 10, uom: 'KGM' });
  });

  it('maps X12 units to Rec 20 and passes unknown units through with a warning', () => {
    const body = [
      ...shipmentHeader,
      'DTM*011*20240301',
      'HL*2*1*I',
      'LIN**BP*A',
      'SN1**2*CA',
      'HL*3*1*I',
      'LIN**BP*B',
      'SN1**2.5*ZZ',
    ];
    const { data, warnings } = mapOnly(buildX12([body]));
    assert.deepEqual(
      data.lines.map((l) => l.quantity),
      [
        { value: 2, uom: 'CS' },
        { value: 2.5, uom: 'ZZ' },
      ],
    );
    assert.match(warnings.join('\n'), /Unit "ZZ" at segment \d+ \(line \d+\) has no known Rec 20 equivalent/);
  });

  it('keeps the ship time when the time zone is known (DTM04 or the utcOffset option)', () => {
    const base = [...shipmentHeader, 'HL*2*1*I', 'LIN**BP*A', 'SN1**1*EA'];
    const withCode = mapOnly(buildX12([[...base.slice(0, 1), 'DTM*011*20240301*1405*UT', ...base.slice(1)]]));
    assert.equal(withCode.data.shipDate, '2024-03-01T14:05:00Z');
    const withOption = mapOnly(
      buildX12([[...base.slice(0, 1), 'DTM*011*20240301*140530', ...base.slice(1)]]),
      {
        utcOffset: '+01:00',
      },
    );
    assert.equal(withOption.data.shipDate, '2024-03-01T14:05:30+01:00');
    assert.equal(withOption.data.documentDate, '2024-03-01T09:30:00+01:00');
  });

  it('lets the plant given by the caller win over the ship-to party, with a warning', () => {
    const body = [...shipmentHeader, 'DTM*011*20240301', 'HL*2*1*I', 'LIN**BP*A', 'SN1**1*EA'];
    const { data, warnings } = mapOnly(buildX12([body]), { plant: 'P9' });
    assert.equal(data.plant, 'P9');
    assert.match(warnings.join('\n'), /N1\*ST names P1; the plant given by the caller, P9, is used/);
  });

  it('skips items without LIN or SN1 with a warning, and refuses an 856 without any line', () => {
    const body = [...shipmentHeader, 'DTM*011*20240301', 'HL*2*1*I', 'SN1**1*EA', 'HL*3*1*I', 'LIN**BP*A'];
    const error = throwsEdi(() => mapOnly(buildX12([body])), X12ParseError, 'missing-required-field');
    assert.match(error.message, /no shipped lines/);
    const ok = [...body, 'HL*4*1*I', 'LIN**BP*B', 'SN1**3*EA'];
    const { data, warnings } = mapOnly(buildX12([ok]));
    assert.deepEqual(
      data.lines.map((l) => l.material),
      ['B'],
    );
    assert.match(warnings.join('\n'), /Item HL 2 .* has no LIN/);
    assert.match(warnings.join('\n'), /Item HL 3 \(A\) .* has no SN1/);
  });

  it('refuses a negative or non-numeric quantity and a missing unit', () => {
    const body = (sn1: string) => [...shipmentHeader, 'DTM*011*20240301', 'HL*2*1*I', 'LIN**BP*A', sn1];
    throwsEdi(() => mapOnly(buildX12([body('SN1**-4*EA')])), X12ParseError, 'invalid-value');
    throwsEdi(() => mapOnly(buildX12([body('SN1**four*EA')])), X12ParseError, 'invalid-value');
    throwsEdi(() => mapOnly(buildX12([body('SN1**4')])), X12ParseError, 'missing-required-field');
  });

  it('refuses an invalid ship date and a notice without BSN', () => {
    const items = ['HL*2*1*I', 'LIN**BP*A', 'SN1**1*EA'];
    const badDate = [...shipmentHeader, 'DTM*011*20240231', ...items];
    const error = throwsEdi(() => mapOnly(buildX12([badDate])), X12ParseError, 'invalid-value');
    assert.match(error.message, /"20240231"; it must be a valid CCYYMMDD date/);
    throwsEdi(
      () => mapOnly(buildX12([shipmentHeader.slice(1).concat(items)])),
      X12ParseError,
      'missing-required-field',
    );
  });
});
