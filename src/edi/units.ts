/**
 * Units of measure. Canonical quantities use UN/CEFACT Recommendation 20 codes; X12 sends its own
 * two-letter codes (element 355), EDIFACT mostly sends Rec 20 already.
 */

/**
 * X12 element 355 codes with their Rec 20 equivalent. Kept small on purpose: only codes whose
 * meaning is unambiguous in both lists. Anything else passes through unchanged, with a warning.
 */
export const X12_UNIT_TO_REC20: Readonly<Record<string, string>> = {
  EA: 'EA', // each
  PC: 'H87', // piece
  CA: 'CS', // case
  LB: 'LBR', // pound
  KG: 'KGM', // kilogram
  GR: 'GRM', // gram
  OZ: 'ONZ', // ounce
  LT: 'LTR', // litre
  ML: 'MLT', // millilitre
  GA: 'GLL', // US gallon
  MR: 'MTR', // metre
  CM: 'CMT', // centimetre
  FT: 'FOT', // foot
  IN: 'INH', // inch
  DZ: 'DZN', // dozen
};

/**
 * Codes EDIFACT partners still send that Rec 20 has replaced. `PCE` (piece) was withdrawn in
 * favour of `H87`.
 */
const EDIFACT_UNIT_REPLACEMENTS: Readonly<Record<string, string>> = {
  PCE: 'H87',
};

/** The Rec 20 code for an X12 unit, and whether the table knew it. */
export function x12UnitToRec20(code: string): { uom: string; known: boolean } {
  const c = code.trim().toUpperCase();
  const mapped = X12_UNIT_TO_REC20[c];
  return mapped ? { uom: mapped, known: true } : { uom: c, known: false };
}

/** The Rec 20 code for an EDIFACT measure unit qualifier (6411). */
export function edifactUnitToRec20(code: string): string {
  const c = code.trim().toUpperCase();
  return EDIFACT_UNIT_REPLACEMENTS[c] ?? c;
}

/** A non-negative decimal as EDI writes it (`12`, `12.5`, `.5`), with `decimal` as the decimal mark. */
export function parseEdiNumber(value: string, decimal = '.'): number | undefined {
  let v = value.trim();
  if (decimal !== '.') v = v.replace(decimal, '.');
  if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
