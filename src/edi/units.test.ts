import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { edifactUnitToRec20, parseEdiNumber, X12_UNIT_TO_REC20, x12UnitToRec20 } from './units.js';

describe('units of measure', () => {
  it('map the X12 codes whose Rec 20 code differs', () => {
    assert.deepEqual(
      ['EA', 'PC', 'CA', 'LB', 'KG'].map((c) => x12UnitToRec20(c).uom),
      ['EA', 'H87', 'CS', 'LBR', 'KGM'],
    );
    assert.deepEqual(x12UnitToRec20(' lb '), { uom: 'LBR', known: true });
  });

  it('pass unknown X12 codes through and say so', () => {
    assert.deepEqual(x12UnitToRec20('PL'), { uom: 'PL', known: false });
  });

  it('map every X12 code to a Rec 20 code of two or three characters', () => {
    for (const [x12, rec20] of Object.entries(X12_UNIT_TO_REC20)) {
      assert.match(x12, /^[A-Z0-9]{2}$/);
      assert.match(rec20, /^[A-Z0-9]{2,3}$/);
    }
  });

  it('replace withdrawn EDIFACT codes and keep the others', () => {
    assert.equal(edifactUnitToRec20('PCE'), 'H87');
    assert.equal(edifactUnitToRec20('KGM'), 'KGM');
  });

  it('read EDI decimals with either decimal mark', () => {
    assert.equal(parseEdiNumber('12'), 12);
    assert.equal(parseEdiNumber('60.310'), 60.31);
    assert.equal(parseEdiNumber('.5'), 0.5);
    assert.equal(parseEdiNumber('2,5', ','), 2.5);
    assert.equal(parseEdiNumber('-3'), -3);
    for (const bad of ['', '1e3', '1.2.3', '12 kg', 'Infinity', '0x10'])
      assert.equal(parseEdiNumber(bad), undefined, bad);
  });
});
