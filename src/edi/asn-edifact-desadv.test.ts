import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupDesadv, mapDesadv } from './asn-edifact-desadv.js';
import type { MapAsnOptions, MappedAsn } from './asn-types.js';
import { EdifactParseError } from './edi-error.js';
import { parseEdifact } from './edifact.js';
import { type GroupNode, isGroupNode } from './edifact-groups.js';
import { D96A_DESADV_ASN } from './expected-asns.test-data.js';
import { buildEdifact, fixture, fixtureText, throwsEdi } from './test-helpers.js';

const sample = 'edifact-php-edifact/D96ADESADV.edi';

function mapOnly(body: string | Buffer, options?: MapAsnOptions): MappedAsn {
  const [interchange] = parseEdifact(body);
  assert.ok(interchange);
  assert.equal(interchange.messages.length, 1);
  return mapDesadv(interchange.messages[0]!, interchange, options);
}

/** A segment and the group occurrences it sits in, e.g. `SG10[0]/SG15[1]/SG16[0]`. */
interface Placed {
  readonly index: number;
  readonly tag: string;
  readonly path: string;
}

/** Placement of every segment in the php-edifact expected parse (segmentIdx counts from UNH = 0). */
function placedInExpected(message: Record<string, unknown>): Placed[] {
  const out: Placed[] = [];
  const walk = (node: Record<string, unknown>, path: string[]) => {
    for (const [key, value] of Object.entries(node)) {
      if (/^SG\d+$/.test(key)) {
        const occurrences = value as Record<string, unknown>[];
        for (const [i, occurrence] of occurrences.entries()) walk(occurrence, [...path, `${key}[${i}]`]);
      } else if (value && typeof value === 'object' && 'segmentCode' in value) {
        const s = value as { segmentIdx: number; segmentCode: string };
        out.push({ index: s.segmentIdx, tag: s.segmentCode, path: path.join('/') });
      }
    }
  };
  walk(message, []);
  return out.sort((a, b) => a.index - b.index);
}

/** The same placement read from a grouped message; `first` is the input index of UNH. */
function placedInTree(root: GroupNode, first: number): Placed[] {
  const out: Placed[] = [];
  const walk = (node: GroupNode, path: string[]) => {
    const seen = new Map<string, number>();
    for (const child of node.children) {
      if (isGroupNode(child)) {
        const n = seen.get(child.group) ?? 0;
        seen.set(child.group, n + 1);
        walk(child, [...path, `${child.group}[${n}]`]);
      } else {
        out.push({ index: child.index - first, tag: child.tag, path: path.join('/') });
      }
    }
  };
  walk(root, []);
  return out;
}

describe('mapDesadv on the D.96A sample', () => {
  it('maps the despatch advice field by field', () => {
    // The expected data was read by hand from the file (see expected-asns.test-data.ts).
    assert.deepEqual(mapOnly(fixture(sample)), {
      data: D96A_DESADV_ASN,
      warnings: [
        'No delivery party (NAD+ST, NAD+DP or NAD+CN); the plant is the buyer NAD+BY 01131116.',
        'QTY+12 at segment 12 (line 13) has no unit; EA (each) is assumed.',
        'QTY+12 at segment 18 (line 19) has no unit; EA (each) is assumed.',
      ],
    });
  });

  it('arranges the segments into the same groups as the php-edifact expected parse', () => {
    const expected = JSON.parse(fixtureText('edifact-php-edifact/D96ADESADV.json')) as Record<
      string,
      unknown
    >[];
    const [ic] = parseEdifact(fixture(sample));
    const message = ic!.messages[0]!;
    const warnings: string[] = [];
    const placed = placedInTree(
      groupDesadv(message, (w) => warnings.push(w)),
      message.segments[0]!.index,
    );
    assert.deepEqual(placed, placedInExpected(expected[0]!));
    assert.deepEqual(warnings, []);
    // Spot checks of what the comparison covers.
    assert.deepEqual(placed[8], { index: 8, tag: 'LIN', path: 'SG10[0]/SG15[0]' });
    assert.deepEqual(placed[19], { index: 19, tag: 'RFF', path: 'SG10[0]/SG15[1]/SG16[1]' });
  });

  it('refuses a message that is not a DESADV with wrong-message-type', () => {
    const orders = buildEdifact(['BGM+220+PO1+9'], 'ORDERS:D:96A:UN');
    const error = throwsEdi(() => mapOnly(orders), EdifactParseError, 'wrong-message-type');
    assert.match(error.message, /"ORDERS", not a DESADV/);
    assert.equal(error.tag, 'UNH');
  });
});

describe('mapDesadv rules', () => {
  const header = [
    'BGM+351+DA-1+9',
    'DTM+137:202403010800:203',
    'DTM+11:202403011430:203',
    'RFF+ON:PO-9',
    'RFF+CN:TRACK-1',
    'RFF+BM:BOL-1',
    'NAD+SE+SELLER-1',
    'NAD+SF+WAREHOUSE-7',
    'NAD+BY+BUYER-1',
    'NAD+DP+PLANT-2',
    'TDT+20++30++DHL:172:ZZ:DHL Freight',
  ];

  it('maps header parties, dates, references and the carrier', () => {
    const { data, warnings } = mapOnly(
      buildEdifact([...header, 'CPS+1', 'PAC+3++PK', 'LIN+1++4000862141404:SRV', 'QTY+12:5:PCE']),
      { utcOffset: '+01:00' },
    );
    assert.deepEqual(data, {
      asnId: 'DA-1',
      supplierId: 'WAREHOUSE-7',
      plant: 'PLANT-2',
      shipDate: '2024-03-01T14:30:00+01:00',
      documentDate: '2024-03-01T08:00:00+01:00',
      purchaseOrder: 'PO-9',
      carrier: 'DHL',
      trackingNumber: 'TRACK-1',
      billOfLading: 'BOL-1',
      packages: 3,
      lines: [
        {
          material: '4000862141404',
          quantity: { value: 5, uom: 'H87' },
          lineNumber: '1',
          purchaseOrder: 'PO-9',
          productIds: [{ id: '4000862141404', qualifier: 'SRV' }],
        },
      ],
    });
    assert.deepEqual(warnings, []);
  });

  it('keeps lots from PIA (NB), GIN+BX and RFF+BT, and SSCCs from the package groups of the line', () => {
    const { data } = mapOnly(
      buildEdifact([
        ...header,
        'CPS+1',
        'LIN+1++MAT-S:SA',
        'PIA+1+MAT-B:BP+LOT-1:NB',
        'QTY+12:2,5:KGM',
        'GIN+BX+LOT-2+LOT-3',
        'RFF+BT:LOT-4',
        'PCI+33E',
        'GIN+BJ+340123450000000018',
        'GIN+BX+LOT-5',
      ]).replace('UNB+', "UNA:+,? 'UNB+"),
    );
    const [line] = data.lines;
    assert.equal(line?.material, 'MAT-B');
    assert.deepEqual(line?.quantity, { value: 2.5, uom: 'KGM' });
    assert.deepEqual(line?.lots, ['LOT-1', 'LOT-2', 'LOT-3', 'LOT-5', 'LOT-4']);
    assert.deepEqual(line?.packageIds, ['340123450000000018']);
    assert.deepEqual(line?.productIds, [
      { id: 'MAT-S', qualifier: 'SA' },
      { id: 'MAT-B', qualifier: 'BP' },
    ]);
  });

  it('falls back to the document date and to the interchange sender, with warnings', () => {
    const { data, warnings } = mapOnly(
      buildEdifact([
        'BGM+351+DA-2+9',
        'DTM+137:20240229:102',
        'NAD+ST+P3',
        'CPS+1',
        'LIN+1++M1',
        'QTY+12:1:EA',
      ]),
    );
    assert.equal(data.shipDate, '2024-02-29');
    assert.equal(data.supplierId, 'SUPPLIER1');
    assert.equal(data.plant, 'P3');
    assert.deepEqual(warnings, [
      'DESADV M1 has no despatch date (DTM+11); the ship date is the document date (DTM+137).',
      'No supplier party (NAD+SF, NAD+SU, NAD+SE or NAD+CZ); supplierId is the interchange sender SUPPLIER1.',
    ]);
  });

  it('warns about segments that do not belong to a DESADV and skips them', () => {
    const { data, warnings } = mapOnly(
      buildEdifact([
        'BGM+351+DA-3+9',
        'DTM+11:20240301:102',
        'NAD+ST+P3',
        'XYZ+1',
        'CPS+1',
        'LIN+1++M1',
        'QTY+12:1:EA',
      ]),
    );
    assert.equal(data.lines.length, 1);
    assert.match(
      warnings[0] ?? '',
      /^XYZ at segment 5 \(line 6\) is not a DESADV segment; it was skipped\.$/,
    );
  });

  it('refuses a DESADV without document number, dates, plant or lines', () => {
    const base = ['BGM+351+DA-4+9', 'DTM+11:20240301:102', 'NAD+ST+P3', 'CPS+1', 'LIN+1++M1', 'QTY+12:1:EA'];
    const without = (i: number) => base.filter((_, k) => k !== i);
    throwsEdi(
      () => mapOnly(buildEdifact(['BGM+351++9', ...base.slice(1)])),
      EdifactParseError,
      'missing-required-field',
    );
    throwsEdi(() => mapOnly(buildEdifact(without(1))), EdifactParseError, 'missing-required-field');
    const plant = throwsEdi(
      () => mapOnly(buildEdifact(without(2))),
      EdifactParseError,
      'missing-required-field',
    );
    assert.match(plant.message, /names no receiving plant/);
    assert.equal(mapOnly(buildEdifact(without(2)), { plant: 'P7' }).data.plant, 'P7');
    throwsEdi(() => mapOnly(buildEdifact(without(5))), EdifactParseError, 'missing-required-field');
    const date = throwsEdi(
      () => mapOnly(buildEdifact(['BGM+351+DA-4+9', 'DTM+11:20241301:102', ...base.slice(2)])),
      EdifactParseError,
      'invalid-value',
    );
    assert.match(date.message, /"20241301"/);
    throwsEdi(
      () => mapOnly(buildEdifact([...base.slice(0, 5), 'QTY+12:-1:EA'])),
      EdifactParseError,
      'invalid-value',
    );
  });
});
