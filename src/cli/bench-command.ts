import type { Command } from 'commander';
import { checkFloors, loadFloors } from '../bench/floors.js';

/**
 * `conveyor bench [--json] [--quick] [--only GROUPS] [--check]`: the benchmark suite; progress goes to
 * stderr, results to stdout. A group that fails is reported (JSON `failures`) and the exit code is 1;
 * with `--check`, so is a ratio below its floor in src/bench/floors.json.
 */
export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description(
      'Run the benchmark suite; each figure is reported beside a ceiling measured in the same run.',
    )
    .option('--json', 'print one JSON object')
    .option('--quick', 'a reduced run (under a minute)')
    .option(
      '--only <groups>',
      'comma-separated groups: ingest, e2e, fanout, isolation, replay, memory, commands, connectors, cluster; torture (fault scenarios, only when named; CONVEYOR_TORTURE_DURATION sets its length)',
    )
    .option('--check', 'exit 1 when a ratio falls below its floor (src/bench/floors.json)')
    .action(async (opts: { json?: boolean; quick?: boolean; only?: string; check?: boolean }) => {
      const started = Date.now();
      // Read before the run: a broken floors file should fail at once, not after minutes of load.
      const floors = opts.check ? loadFloors() : null;
      // Imported here: the suite pulls in the NATS and MQTT clients, which `conveyor start` must not load.
      const { runBenchmarks } = await import('../bench/suite.js');
      const report = await runBenchmarks({
        quick: opts.quick ?? false,
        only: opts.only ? opts.only.split(',').map((g) => g.trim()) : [],
        progress: (line) =>
          process.stderr.write(
            `[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`,
          ),
      });
      const breaches = floors ? checkFloors(report.results, floors) : [];
      for (const failure of report.failures)
        process.stderr.write(`bench: group ${failure.group} failed: ${failure.error}\n`);
      for (const breach of breaches)
        process.stderr.write(
          `bench: ${breach.name} ratio ${breach.ratio ?? 'none'} is below its floor ${breach.minRatio}\n`,
        );
      if (floors && breaches.length === 0)
        process.stderr.write(`bench: every checked ratio is at or above its floor\n`);
      if (report.failures.length > 0 || breaches.length > 0) process.exitCode = 1;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      const rows = report.results.map((r) => [
        r.name,
        `${r.value} ${r.unit}`,
        r.ceiling ? `${r.ceiling.name} = ${r.ceiling.value}` : '-',
        r.ratio === null ? '-' : r.ratio.toFixed(3),
      ]);
      const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => (row[i] as string).length), 8));
      for (const row of [['figure', 'value', 'ceiling', 'ratio'], ...rows]) {
        process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i] as number)).join('  ')}\n`);
      }
    });
}
