import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { formatReport, runDoctor } from '../integrity/doctor.js';
import { progressBar } from './progress.js';

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'Check the event log and the state store: integrity, that they belong together, positions within the log. Exit 1 on a fault.',
    )
    .option('-c, --config <file>', 'conveyor.yaml to load')
    .option('-d, --data <dir>', 'data directory (default ./data, or CONVEYOR_DATA)')
    .option('--json', 'print the findings as JSON')
    .action(async (opts: { config?: string; data?: string; json?: boolean }) => {
      const config = loadConfig(opts.config, { dataDir: opts.data });
      const report = await runDoctor(config, progressBar);
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      process.exitCode = report.healthy ? 0 : 1;
    });
}
