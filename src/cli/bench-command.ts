import type { Command } from 'commander';
import { runBenchmarks } from '../bench/suite.js';

/** `conveyor bench [--json] [--quick]`: the benchmark suite; progress goes to stderr, results to stdout. */
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
      'comma-separated groups: ingest, e2e, fanout, isolation, replay, commands, connectors, cluster',
    )
    .action(async (opts: { json?: boolean; quick?: boolean; only?: string }) => {
      const started = Date.now();
      const report = await runBenchmarks({
        quick: opts.quick ?? false,
        only: opts.only ? opts.only.split(',').map((g) => g.trim()) : [],
        progress: (line) =>
          process.stderr.write(
            `[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`,
          ),
      });
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
