import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/index.js';
import { createHub } from '../hub.js';
import { createLogger } from '../observability/logger.js';
import { limitHeapGrowth } from './heap-growth.js';
import { parseIntegerOption, parsePositiveNumber } from './options.js';

/**
 * How long a stop may take before the process exits anyway. Everything acknowledged is durable at
 * every instant, so exiting here loses nothing: it is a kill -9 with a log line naming the step.
 * Below 10 s, so a supervisor (or the benchmark) that allows a stop 10 s sees the process gone.
 */
export const SHUTDOWN_DEADLINE_MS = 8_000;

/** Runs until SIGINT/SIGTERM or the optional duration, then calls `stop` once and exits 0. */
function runUntilStopped(
  stop: () => Promise<void>,
  durationSeconds?: number,
  closingStep: () => string | null = () => null,
): void {
  let stopping = false;
  const shutdown = (reason: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\nstopping (${reason}) ...\n`);
    // A shutdown that hangs must not keep the process (and whatever supervises it) waiting forever.
    setTimeout(() => {
      const at = closingStep();
      process.stderr.write(
        `stop did not finish within ${SHUTDOWN_DEADLINE_MS / 1000} s${at ? ` (still ${at})` : ''}; exiting\n`,
      );
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    stop().then(
      () => {
        process.stderr.write('stopped cleanly\n');
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`stop failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  if (durationSeconds !== undefined)
    setTimeout(() => shutdown(`--duration ${durationSeconds}s`), durationSeconds * 1000);
}

/** 1–128 printable ASCII characters without spaces: it names leases and shows in logs. */
const INSTANCE_ID = /^[\x21-\x7e]{1,128}$/;

/** CONVEYOR_INSTANCE_ID, checked; unset or empty is none. */
export function instanceIdFromEnv(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!INSTANCE_ID.test(value))
    throw new Error(
      `CONVEYOR_INSTANCE_ID must be 1 to 128 printable ASCII characters without spaces (got ${JSON.stringify(value.slice(0, 40))}); set a name such as hub-1, or unset it`,
    );
  return value;
}

export function registerRunCommands(program: Command): void {
  program
    .command('start')
    .description('Run the hub from a config file (embedded SQLite unless the config names another backend).')
    .option('-c, --config <file>', 'conveyor.yaml to load')
    .option('-d, --data <dir>', 'data directory (default ./data, or CONVEYOR_DATA)')
    .option(
      '-p, --port <port>',
      'TCP port (default 8080, or CONVEYOR_PORT)',
      parseIntegerOption('--port', 0, 65_535),
    )
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .action(async (opts: { config?: string; data?: string; port?: number; host?: string }) => {
      limitHeapGrowth();
      const config = loadConfig(opts.config, { dataDir: opts.data, port: opts.port, host: opts.host });
      const logger = createLogger();
      const instanceId = instanceIdFromEnv(process.env.CONVEYOR_INSTANCE_ID);
      const hub = await createHub(config, {
        logger,
        adminKey: process.env.CONVEYOR_ADMIN_KEY,
        ...(instanceId ? { instanceId } : {}),
      });
      const url = await hub.listen();
      process.stdout.write(`Conveyor listening on ${url}\n`);
      if (hub.generatedAdminKey) {
        process.stdout.write(
          `Admin API key (shown once; only its hash is stored): ${hub.generatedAdminKey}\n`,
        );
      }
      runUntilStopped(
        () => hub.close(),
        undefined,
        () => hub.closing(),
      );
    });

  program
    .command('demo')
    .description(
      'Run the hub with simulated plant systems (ERP and one MES per plant) talking to it over HTTP.',
    )
    .option('--plants <n>', 'number of plants', parseIntegerOption('--plants', 1, 20), 2)
    .option('--rate <n>', 'production orders released per second', parsePositiveNumber('--rate'), 2)
    .option('--duration <s>', 'stop cleanly after this many seconds', parsePositiveNumber('--duration'))
    .option('-p, --port <port>', 'TCP port', parseIntegerOption('--port', 0, 65_535), 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('-d, --data <dir>', 'data directory', 'data/demo')
    .option(
      '--instances <n>',
      'hub instances sharing --nats and --postgres',
      parseIntegerOption('--instances', 1, 8),
      1,
    )
    .option(
      '--nats <urls>',
      'NATS JetStream servers for the event log, comma-separated (nats://host:4222,...)',
    )
    .option('--replicas <n>', 'JetStream stream replicas', parseIntegerOption('--replicas', 1, 5), 1)
    .option('--postgres <url>', 'PostgreSQL URL for the state store (postgres://user@host:5432/db)')
    .action(
      async (opts: {
        plants: number;
        rate: number;
        duration?: number;
        port: number;
        host: string;
        data: string;
        instances: number;
        nats?: string;
        replicas: number;
        postgres?: string;
      }) => {
        if (
          (opts.nats === undefined) !== (opts.postgres === undefined) ||
          (opts.instances > 1 && !opts.nats)
        ) {
          throw new InvalidArgumentError(
            'a cluster needs both --nats (the JetStream log) and --postgres (the shared store); --instances above 1 needs them too',
          );
        }
        limitHeapGrowth();
        // The status line tells the story; warnings (each retry) would drown it.
        const logger = createLogger(process.env.CONVEYOR_LOG_LEVEL ?? 'error');
        // Loaded only here: the simulators pull in the OPC UA server stack, which other commands never need.
        const { startDemo } = await import('../sim/demo.js');
        const demo = await startDemo({
          plants: opts.plants,
          rate: opts.rate,
          port: opts.port,
          host: opts.host,
          dataDir: opts.data,
          logger,
          adminKey: process.env.CONVEYOR_ADMIN_KEY,
          ...(opts.nats && opts.postgres
            ? {
                cluster: {
                  instances: opts.instances,
                  natsServers: opts.nats.split(',').map((u) => u.trim()),
                  replicas: opts.replicas,
                  postgresUrl: opts.postgres,
                },
              }
            : {}),
          onStatus: (line) => process.stdout.write(`${new Date().toISOString()}  ${line}\n`),
        });
        process.stdout.write(
          [
            `Conveyor demo running on ${demo.urls.join(' and ')}  (${opts.plants} plants, ${opts.rate} orders/s)`,
            `Admin API key: ${demo.adminKey}`,
            `Console: ${demo.url}/ (sign in with the admin key)`,
            `API reference: ${demo.url}/docs   Event catalog: ${demo.url}/v1/catalog/dependencies`,
            `Try: curl -H "Authorization: Bearer ${demo.adminKey}" "${demo.url}/v1/events?type=production.operation.completed&limit=5"`,
            'Press Ctrl-C to stop.',
            '',
          ].join('\n'),
        );
        runUntilStopped(() => demo.stop(), opts.duration);
      },
    );
}
