/**
 * Master data the simulated systems share: the finished goods the plants make, the components their
 * BOMs use, and how lots are named. The warehouse ships lots that the QMS puts on hold; both name
 * them with {@link lotFor} from the same clock, so they meet on the same lots without talking.
 */

/** Finished goods every plant makes (the ERP releases them, the warehouse ships them). */
export const FINISHED_GOODS = ['FG-1000', 'FG-2000', 'FG-3000'] as const;

/** A material MES does not know: every 25th order carries it, and MES refuses it (a dead letter). */
export const UNKNOWN_MATERIAL = 'FG-9999';

/** A purchased component: what BOMs consume, the warehouse reserves and suppliers ship. */
export interface Component {
  readonly material: string;
  /** UN/CEFACT Rec 20 unit. */
  readonly uom: string;
}

export const COMPONENTS: readonly Component[] = [
  { material: 'CMP-STEEL-COIL', uom: 'KGM' },
  { material: 'CMP-BOLT-M8', uom: 'EA' },
  { material: 'CMP-PCB-CTRL', uom: 'EA' },
  { material: 'CMP-RESIN-PA66', uom: 'KGM' },
  { material: 'CMP-CABLE-3G', uom: 'MTR' },
];

/** A component the simulated WMS never has in stock, so some reservations are refused. */
export const SCARCE_COMPONENT = 'CMP-RESIN-PA66';

/** How long one production lot runs: a new lot number starts every period. */
export const LOT_PERIOD_MS = 60_000;

/** The lot of `material` made at `plant` in lot period `n` (see {@link lotNumberAt}). */
export function lotFor(plant: string, material: string, n: number): string {
  return `L-${plant}-${material}-${n}`;
}

/** The lot period that `time` (epoch ms) falls in. */
export function lotNumberAt(time: number, periodMs = LOT_PERIOD_MS): number {
  return Math.floor(time / periodMs);
}

/** A short run prefix, so ids stay unique across demo runs that share a data directory. */
export function runPrefix(now = Date.now()): string {
  return now.toString(36).toUpperCase();
}
