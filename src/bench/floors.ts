import { readFileSync } from 'node:fs';
import type { BenchResult } from './bench-util.js';

/** The lowest ratio to its ceiling a figure may show before `conveyor bench --check` fails. */
export interface Floor {
  readonly minRatio: number;
  /** Why the floor sits where it does. */
  readonly why?: string;
}

export type Floors = Readonly<Record<string, Floor>>;

/** A figure below its floor. */
export interface FloorBreach {
  readonly name: string;
  readonly ratio: number | null;
  readonly minRatio: number;
}

/** The floors kept in the repository (src/bench/floors.json), read from the source tree. */
export const FLOORS_FILE = new URL('../../../src/bench/floors.json', import.meta.url);

export function loadFloors(file: URL | string = FLOORS_FILE): Floors {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const floors: Record<string, Floor> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name.startsWith('$')) continue;
    const minRatio = (value as { minRatio?: unknown } | null)?.minRatio;
    if (typeof minRatio !== 'number' || !(minRatio > 0))
      throw new Error(`${String(file)}: "${name}".minRatio must be a number above 0`);
    floors[name] = value as Floor;
  }
  return floors;
}

/**
 * Figures of this run below their floor. Only figures the run measured are checked (a group left
 * out with --only, or one that failed, is reported as such, not here); a measured figure with no
 * ratio fails, since nothing then shows it is healthy.
 */
export function checkFloors(results: readonly BenchResult[], floors: Floors): FloorBreach[] {
  const breaches: FloorBreach[] = [];
  for (const result of results) {
    const floor = floors[result.name];
    if (!floor) continue;
    if (result.ratio === null || result.ratio < floor.minRatio)
      breaches.push({ name: result.name, ratio: result.ratio, minRatio: floor.minRatio });
  }
  return breaches;
}
