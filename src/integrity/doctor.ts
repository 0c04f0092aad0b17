/**
 * `conveyor doctor`: checks the event log and the state store without starting the hub. The
 * full SQLite integrity check of each file (the start-up check is bounded), that the two belong
 * together, and that no consumer position, dead letter or milestone points past the log's head.
 * A missing file is reported, never created. Comparing the two opens them as the hub does, so an
 * empty log file gets its (empty) tables and a store from an older version its migrations;
 * nothing else is written.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Config } from '../config/index.js';
import { openEventLog } from '../log/factory.js';
import type { EventLog } from '../log/port.js';
import { openStateStore } from '../store/factory.js';
import type { StateStore } from '../store/port.js';
import { describeCause } from '../util/data-files.js';
import { headerFault, integrityFaults } from '../util/sqlite-integrity.js';
import { checkPairing, placesOf } from './log-binding.js';

export interface DoctorLine {
  readonly ok: boolean;
  readonly what: string;
  /** What to do; only on a fault. */
  readonly fix?: string;
}

export interface DoctorReport {
  readonly healthy: boolean;
  readonly lines: readonly DoctorLine[];
}

/** Shows progress of a long check; `update` is called after each table. */
export type ProgressFactory = (label: string, total: number) => { update(done: number): void; stop(): void };

const RESTORE = (path: string) =>
  `stop the hub and restore ${path} (with its -wal file) from a backup taken together with the other data file`;

/** The full `PRAGMA integrity_check` of one SQLite file, read-only, table by table. */
async function checkSqliteFile(
  path: string,
  what: string,
  progress: ProgressFactory,
): Promise<{ lines: DoctorLine[]; sound: boolean }> {
  if (!existsSync(path))
    return {
      lines: [{ ok: true, what: `no ${what} at ${path} yet (a first start creates it)` }],
      sound: false,
    };
  const fault = headerFault(path);
  if (fault !== null)
    return { lines: [{ ok: false, what: `${what} ${path}: ${fault}`, fix: RESTORE(path) }], sound: false };
  let db: Database.Database | undefined;
  let bar: ReturnType<ProgressFactory> | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const faults = await integrityFaults(db, async (done, total) => {
      bar ??= progress(`checking ${what}`, total);
      bar.update(done);
      // Let the bar draw between tables: the check itself holds the thread.
      await new Promise((resolve) => setImmediate(resolve));
    });
    if (faults.length === 0)
      return { lines: [{ ok: true, what: `${what} ${path}: integrity check passed` }], sound: true };
    return {
      lines: faults
        .slice(0, 20)
        .map((f) => ({ ok: false, what: `${what} ${path}: ${f}`, fix: RESTORE(path) })),
      sound: false,
    };
  } catch (error) {
    return {
      lines: [{ ok: false, what: `${what} ${path}: ${describeCause(error)}`, fix: RESTORE(path) }],
      sound: false,
    };
  } finally {
    bar?.stop();
    db?.close();
  }
}

export async function runDoctor(config: Config, progress: ProgressFactory): Promise<DoctorReport> {
  const lines: DoctorLine[] = [];
  const places = placesOf(config);
  let canOpen = true;
  if (config.log.kind === 'sqlite') {
    const checked = await checkSqliteFile(config.log.path, 'the event log', progress);
    lines.push(...checked.lines);
    canOpen &&= checked.sound;
  }
  if (config.store.kind === 'sqlite') {
    const checked = await checkSqliteFile(config.store.path, 'the state store', progress);
    lines.push(...checked.lines);
    canOpen &&= checked.sound;
  }
  if (canOpen) lines.push(...(await checkTogether(config, places)));
  else if (config.log.kind === 'sqlite' && !existsSync(config.log.path) && storeExists(config))
    lines.push(...(await checkMissingLog(config, places)));
  else
    lines.push({
      ok: true,
      what: 'whether the log and the store belong together was not checked (see above)',
    });
  return { healthy: lines.every((line) => line.ok), lines };
}

function storeExists(config: Config): boolean {
  return config.store.kind === 'postgres' || existsSync(config.store.path);
}

/** A missing log file is a fault when the store was used with a log. */
async function checkMissingLog(
  config: Config,
  places: { log: string; store: string },
): Promise<DoctorLine[]> {
  let store: StateStore | undefined;
  try {
    store = await openStateStore(config);
    const bound = await store.logBinding.identity();
    if (bound === null && !(await store.logBinding.holdsLogState())) return [];
    return [
      {
        ok: false,
        what: `the event log ${places.log} is missing, but the state store ${places.store} belongs to ${bound === null ? 'a log' : `log ${bound}`}`,
        fix: `restore ${places.log} from a backup; or restore the log and the state store from the same backup`,
      },
    ];
  } catch (error) {
    return [
      {
        ok: false,
        what: `could not open the state store ${places.store}: ${describeCause(error)}`,
        fix: 'restore it, then run conveyor doctor again',
      },
    ];
  } finally {
    await store?.close().catch(() => undefined);
  }
}

/** Opens both through their ports (any backend) and compares them. */
async function checkTogether(config: Config, places: { log: string; store: string }): Promise<DoctorLine[]> {
  let store: StateStore | undefined;
  let log: EventLog | undefined;
  try {
    store = await openStateStore(config);
    log = await openEventLog(config);
    const state = await checkPairing(log, store, places);
    const lines: DoctorLine[] = state.findings.map((f) => ({ ok: false, what: f.what, fix: f.fix }));
    if (lines.length === 0) {
      lines.push({
        ok: true,
        what:
          state.logIdentity === null
            ? `the event log and the state store carry no identity yet (the next start records one); nothing points past the log's head ${state.head}`
            : `the event log and the state store belong together (log ${state.logIdentity}); every consumer, dead letter and milestone is within the log's head ${state.head}`,
      });
    }
    return lines;
  } catch (error) {
    return [
      {
        ok: false,
        what: `could not open ${log === undefined && store !== undefined ? `the event log ${places.log}` : `the state store ${places.store}`}: ${describeCause(error)}`,
        fix: 'make it reachable (or restore it), then run conveyor doctor again',
      },
    ];
  } finally {
    await log?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
  }
}

/** The report as text: one line per finding, a fault's fix indented under it. */
export function formatReport(report: DoctorReport): string {
  const out: string[] = [];
  for (const line of report.lines) {
    out.push(`${line.ok ? 'ok   ' : 'FAULT'} ${line.what}`);
    if (line.fix) out.push(`      to fix: ${line.fix}`);
  }
  out.push(report.healthy ? 'healthy' : `${report.lines.filter((l) => !l.ok).length} fault(s) found`);
  return `${out.join('\n')}\n`;
}
