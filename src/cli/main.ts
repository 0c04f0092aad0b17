#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError } from '../config/index.js';
import { registerBenchCommand } from './bench-command.js';
import { registerDeliveryCommands } from './delivery-commands.js';
import { registerKeysCommand } from './keys-command.js';
import { registerRunCommands } from './run-commands.js';
import { registerSchemaCommands } from './schema-commands.js';

const program = new Command()
  .name('conveyor')
  .description('Event-driven integration hub for manufacturing: governed APIs and durable event streams.')
  .version('0.1.0')
  .showHelpAfterError();

registerRunCommands(program);
registerKeysCommand(program);
registerDeliveryCommands(program);
registerSchemaCommands(program);
registerBenchCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`conveyor: ${(error as Error).message}\n`);
  process.exit(1);
});
