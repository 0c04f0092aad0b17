#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError } from '../config/index.js';
import { describeCause } from '../util/data-files.js';
import { registerBenchCommand } from './bench-command.js';
import { registerCatalogCommand } from './catalog-command.js';
import { registerConnectorsCommand } from './connectors-command.js';
import { registerDeliveryCommands } from './delivery-commands.js';
import { registerDoctorCommand } from './doctor-command.js';
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
registerCatalogCommand(program);
registerConnectorsCommand(program);
registerDoctorCommand(program);

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
registerBenchCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  // Whatever was thrown, say what it was: a bare `{ code }` from a worker thread has no message.
  process.stderr.write(`conveyor: ${describeCause(error)}\n`);
  process.exit(1);
});
