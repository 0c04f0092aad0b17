import { type BenchResult, result } from '../bench/bench-util.js';
import { parseDuration } from '../util/duration.js';
import type { ScenarioResult } from './scenario.js';
import { runDiskFullScenario, runSingleHubScenario } from './scenarios.js';

export interface TortureBenchContext {
  readonly quick: boolean;
  readonly progress: (line: string) => void;
  readonly results: BenchResult[];
}

/** How long the single-hub run keeps starting fault rounds: `CONVEYOR_TORTURE_DURATION` (e.g. `10m`). */
export function tortureDurationMs(quick: boolean): number {
  const text = process.env.CONVEYOR_TORTURE_DURATION?.trim();
  if (text) return parseDuration(text);
  return quick ? 30_000 : 300_000;
}

/** The figures of one run: totals over its routes, the table and any broken promise in the note. */
function figures(key: string, run: ScenarioResult, results: BenchResult[]): void {
  const sum = (pick: (r: ScenarioResult['reports'][number]) => number) =>
    run.reports.reduce((total, r) => total + pick(r), 0);
  const add = (name: string, value: number, unit: string) => {
    const r = result(`torture.${key}.${name}`, value, unit, null);
    results.push(r);
    return r;
  };
  const acked = add('acked', run.producers.acked, 'events');
  acked.note = `${run.name}, seed ${run.seed}, ${run.seconds.toFixed(0)} s; ${
    run.violations.length === 0 ? 'promise kept' : `BROKEN: ${run.violations.join(' | ')}`
  }`;
  add('lost', sum((r) => r.lost) + run.missingFromLog.length, 'events');
  add(
    'duplicated',
    sum((r) => r.duplicated),
    'deliveries',
  );
  add(
    'duplicate_bound',
    sum((r) => r.duplicateAllowance),
    'deliveries',
  );
  add(
    'unexplained_duplicates',
    sum((r) => r.unexplainedDuplicates),
    'deliveries',
  );
  add(
    'reordered',
    sum((r) => r.reordered),
    'events',
  );
  add(
    'unexpected',
    sum((r) => r.unexpected),
    'deliveries',
  );
  add(
    'dlq',
    sum((r) => r.dlq),
    'events',
  );
}

/**
 * The `torture` group of `conveyor bench` (only when named: `--only torture`): the single-hub fault
 * run for `CONVEYOR_TORTURE_DURATION` and, as root, the disk-full run; the checker's table of each
 * goes to the progress output, the totals into the results.
 */
export async function runTortureBenchmarks(ctx: TortureBenchContext): Promise<void> {
  const durationMs = tortureDurationMs(ctx.quick);
  const print = (run: ScenarioResult) => {
    for (const line of run.table.split('\n')) ctx.progress(line);
    for (const line of run.violations) ctx.progress(`BROKEN: ${line}`);
  };
  ctx.progress(`torture: one hub, fault rounds for ${(durationMs / 1000).toFixed(0)} s`);
  const single = await runSingleHubScenario({
    durationMs,
    rounds: 2,
    eventsBetweenFaults: ctx.quick ? 300 : 1_000,
    progress: ctx.progress,
  });
  print(single);
  figures('single_hub', single, ctx.results);
  if (process.getuid?.() === 0) {
    ctx.progress('torture: disk full on a tmpfs data folder');
    const disk = await runDiskFullScenario({ progress: ctx.progress });
    print(disk);
    figures('disk_full', disk, ctx.results);
  } else ctx.progress('torture: disk-full run left out: mounting a tmpfs needs root');
}
