import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';

const MAGIC = 'SQLite format 3\u0000';

/**
 * What is wrong with a SQLite file's header and length, or null when nothing is. A missing or
 * zero-length file is a new database to SQLite, so it is not a fault here (whether an empty log
 * is acceptable is for the caller to decide). Reads only the first 100 bytes.
 */
export function headerFault(path: string): string | null {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return null;
  }
  if (size === 0) return null;
  const header = Buffer.alloc(100);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (size < 100 || header.toString('latin1', 0, 16) !== MAGIC)
    return 'its header is not that of a SQLite database (overwritten, or not a database file)';
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65_536 : raw;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0)
    return `its header gives an impossible page size (${raw})`;
  if (size % pageSize !== 0)
    return `it is truncated: ${size} bytes is not a whole number of ${pageSize}-byte pages`;
  // The page count in the header is trustworthy only when written with the change counter.
  const pages = header.readUInt32BE(28);
  const valid = header.readUInt32BE(24) === header.readUInt32BE(92);
  if (valid && pages * pageSize > size)
    return `it is truncated: ${size} bytes where its header counts ${pages} pages (${pages * pageSize} bytes)`;
  return null;
}

/** Findings of `PRAGMA quick_check` / `integrity_check` rows; empty when the answer is "ok". */
function faultsOf(rows: unknown[]): string[] {
  const found = rows.map(String).filter((row) => row !== 'ok');
  return found;
}

/** Files up to this size get a full quick check at open (a few seconds at most). @default 256 MiB */
export const STARTUP_CHECK_BYTES = 256 * 1024 * 1024;

/**
 * A check bounded in time for every open: the whole file with `PRAGMA quick_check` while it is
 * at most `budgetBytes`; past that, the first and last rows of every table, which walks each
 * B-tree's root and its outermost pages (where the newest writes and a truncation land).
 * Returns what is wrong; empty when nothing was found.
 */
export function startupFaults(db: Database.Database, budgetBytes = STARTUP_CHECK_BYTES): string[] {
  const bytes =
    (db.pragma('page_count', { simple: true }) as number) *
    (db.pragma('page_size', { simple: true }) as number);
  if (bytes <= budgetBytes) return faultsOf((db.pragma('quick_check(20)') as unknown[]).map(firstValue));
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .pluck()
    .all() as string[];
  for (const table of tables) {
    db.prepare(`SELECT * FROM "${table}" LIMIT 32`).all();
    const order = db.prepare(`SELECT name FROM pragma_table_info(?) WHERE pk = 1`).pluck().get(table) as
      | string
      | undefined;
    if (order !== undefined) db.prepare(`SELECT * FROM "${table}" ORDER BY "${order}" DESC LIMIT 32`).all();
  }
  return [];
}

/**
 * The full `PRAGMA integrity_check`, one table (with its indexes) at a time so a caller can show
 * progress; `onTable` is awaited after each. Returns every finding, each naming its table.
 */
export async function integrityFaults(
  db: Database.Database,
  onTable: (done: number, total: number) => Promise<void> | void = () => undefined,
): Promise<string[]> {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .pluck()
    .all() as string[];
  const found: string[] = [];
  for (const [index, table] of tables.entries()) {
    const rows = db
      .prepare(`PRAGMA integrity_check('${table.replaceAll("'", "''")}')`)
      .pluck()
      .all();
    for (const fault of faultsOf(rows)) found.push(`${table}: ${fault}`);
    await onTable(index + 1, tables.length);
  }
  return found;
}

function firstValue(row: unknown): unknown {
  return typeof row === 'object' && row !== null ? Object.values(row)[0] : row;
}
