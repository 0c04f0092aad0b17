import { readFileSync, statSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

/** One operation of a routing. */
export interface RoutingStep {
  readonly operation: string;
  readonly workCenter: string;
}

/** One component of a bill of materials. */
export interface BomItem {
  readonly material: string;
  readonly quantity: { readonly value: number; readonly uom: string };
}

/** How a plant makes a material: its operations in order, and what it consumes. */
export interface Routing {
  readonly routing: readonly RoutingStep[];
  readonly bom: readonly BomItem[];
}

export class RoutingsError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'RoutingsError';
  }
}

const REQUIRED = ['plant', 'material', 'operation', 'workCenter'] as const;
const COMPONENT = ['component', 'componentQuantity', 'uom'] as const;

const keyOf = (plant: string, material: string) => `${plant}\u0000${material}`;

/**
 * Parses a routings CSV: a header row naming at least plant, material, operation and workCenter;
 * optionally component, componentQuantity and uom for the bill of materials. A row may carry an
 * operation, a component, or both; operations keep file order and repeats are merged.
 */
export function parseRoutings(text: string, file: string): Map<string, Routing> {
  let rows: Record<string, string>[];
  try {
    rows = parse(text.replace(/^\uFEFF/, ''), {
      columns: (header: string[]) => header.map((h) => h.trim()),
      skip_empty_lines: true,
      trim: true,
      comment: '#',
    }) as Record<string, string>[];
  } catch (error) {
    throw new RoutingsError(file, (error as Error).message);
  }
  if (rows.length === 0) throw new RoutingsError(file, 'no rows; the first line must be the header');
  const columns = Object.keys(rows[0] as object);
  const missing = REQUIRED.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new RoutingsError(
      file,
      `the header lacks ${missing.join(', ')}; expected ${[...REQUIRED, ...COMPONENT].join(',')}`,
    );
  }
  const building = new Map<string, { routing: RoutingStep[]; bom: BomItem[]; ops: Set<string> }>();
  rows.forEach((row, i) => {
    const line = i + 2;
    const plant = row.plant ?? '';
    const material = row.material ?? '';
    if (!plant || !material) throw new RoutingsError(file, `line ${line}: plant and material are required`);
    const key = keyOf(plant, material);
    let entry = building.get(key);
    if (!entry) {
      entry = { routing: [], bom: [], ops: new Set() };
      building.set(key, entry);
    }
    const operation = row.operation ?? '';
    const workCenter = row.workCenter ?? '';
    if (operation || workCenter) {
      if (!operation || !workCenter)
        throw new RoutingsError(file, `line ${line}: an operation needs both operation and workCenter`);
      const opKey = `${operation}\u0000${workCenter}`;
      if (!entry.ops.has(opKey)) {
        entry.ops.add(opKey);
        entry.routing.push({ operation, workCenter });
      }
    }
    const component = row.component ?? '';
    if (component) {
      const value = Number(row.componentQuantity);
      if (!row.componentQuantity || !Number.isFinite(value) || value < 0)
        throw new RoutingsError(
          file,
          `line ${line}: componentQuantity must be a number >= 0 (got "${row.componentQuantity ?? ''}")`,
        );
      const uom = row.uom || 'EA';
      if (!entry.bom.some((b) => b.material === component))
        entry.bom.push({ material: component, quantity: { value, uom } });
    }
  });
  const routings = new Map<string, Routing>();
  for (const [key, entry] of building) {
    if (entry.routing.length === 0) {
      const [plant, material] = key.split('\u0000');
      throw new RoutingsError(file, `${plant}/${material} has components but no operation`);
    }
    routings.set(key, { routing: entry.routing, bom: entry.bom });
  }
  return routings;
}

/**
 * The routings reference data, read from its CSV file and re-read when the file changes
 * (checked at most once a second, on lookup). A file that breaks while the hub runs keeps the
 * last good version in force and reports the problem through `onError`.
 */
export class RoutingTable {
  private routings = new Map<string, Routing>();
  private loadedMtime = -1;
  private checkedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly file: string | null,
    private readonly onError: (error: Error) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    // At start a broken file is a configuration error: refuse to start rather than run without it.
    if (file !== null) this.load(true);
  }

  /** Whether reference routings are configured at all. */
  get configured(): boolean {
    return this.file !== null;
  }

  lookup(plant: string, material: string): Routing | undefined {
    this.refresh();
    return this.routings.get(keyOf(plant, material));
  }

  /** The materials a plant has routings for (for error messages). */
  materialsOf(plant: string): string[] {
    this.refresh();
    return [...this.routings.keys()]
      .filter((k) => k.startsWith(`${plant}\u0000`))
      .map((k) => k.slice(plant.length + 1));
  }

  private refresh(): void {
    if (this.file === null || this.now() - this.checkedAt < 1000) return;
    try {
      this.load(false);
    } catch (error) {
      this.onError(error as Error);
    }
  }

  private load(initial: boolean): void {
    const file = this.file as string;
    this.checkedAt = this.now();
    let mtime: number;
    try {
      mtime = statSync(file).mtimeMs;
    } catch (error) {
      throw new RoutingsError(file, `cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (!initial && mtime === this.loadedMtime) return;
    // Recorded before parsing: a broken version is reported once, not on every lookup.
    this.loadedMtime = mtime;
    this.routings = parseRoutings(readFileSync(file, 'utf8'), file);
  }
}
