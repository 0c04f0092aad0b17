import type { Command } from 'commander';
import { clientRecordFor, generateApiKey } from '../auth/api-keys.js';
import { loadConfig } from '../config/index.js';
import { openStateStore } from '../store/factory.js';

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `200` or `200/400`: requests per second and burst (default twice the rate). */
export function parseRateLimit(text: string): { perSecond: number; burst: number } {
  const match = /^(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(text.trim());
  const perSecond = match ? Number(match[1]) : Number.NaN;
  if (!match || !(perSecond > 0)) {
    throw new Error(
      `--rate-limit must be requests per second, optionally /burst (e.g. 200 or 200/400), not "${text}"`,
    );
  }
  const burst = match[2] !== undefined ? Number(match[2]) : Math.ceil(perSecond * 2);
  if (burst < 1) throw new Error('--rate-limit burst must be at least 1');
  return { perSecond, burst };
}

/** `conveyor keys create|list|revoke`: manages API clients directly in the configured state store. */
export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('Manage API clients and their keys.');
  const withStore = (cmd: Command) =>
    cmd
      .option('-c, --config <file>', 'conveyor.yaml naming the store')
      .option('-d, --data <dir>', 'data directory');

  withStore(
    keys
      .command('create')
      .description('Create (or re-key) a client and print its API key once.')
      .requiredOption('--name <name>', 'client name')
      .requiredOption('--scopes <list>', 'comma-separated scopes, e.g. events:publish:production,ops', list)
      .option('--plants <list>', 'comma-separated plants the client is bound to', list)
      .option('--rate-limit <rate>', 'requests per second, optionally with a burst: 200 or 200/400')
      .option('--json', 'print {name, key} as JSON'),
  ).action(
    async (opts: {
      name: string;
      scopes: string[];
      plants?: string[];
      rateLimit?: string;
      json?: boolean;
      config?: string;
      data?: string;
    }) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(opts.name)) {
        throw new Error('--name must be letters, digits, ".", "_" or "-" (at most 64 characters)');
      }
      if (opts.scopes.length === 0) throw new Error('--scopes needs at least one scope');
      const rateLimit = opts.rateLimit === undefined ? undefined : parseRateLimit(opts.rateLimit);
      const store = await openStateStore(loadConfig(opts.config, { dataDir: opts.data }));
      try {
        const key = generateApiKey();
        // Re-keying keeps what only the API sets (a supplier binding) and, unless given, the rate limit.
        const existing = await store.clients.get(opts.name);
        await store.clients.upsert(
          clientRecordFor(opts.name, key, opts.scopes, opts.plants ?? null, Date.now(), {
            rateLimit: rateLimit ?? existing?.rateLimit ?? null,
            supplierId: existing?.supplierId ?? null,
          }),
        );
        process.stdout.write(opts.json ? `${JSON.stringify({ name: opts.name, key })}\n` : `${key}\n`);
      } finally {
        await store.close();
      }
    },
  );

  withStore(
    keys.command('list').description('List clients (never their keys).').option('--json', 'print JSON'),
  ).action(async (opts: { json?: boolean; config?: string; data?: string }) => {
    const store = await openStateStore(loadConfig(opts.config, { dataDir: opts.data }));
    try {
      const clients = (await store.clients.list()).map((c) => ({
        name: c.name,
        scopes: c.scopes,
        plants: c.plants,
        rateLimit: c.rateLimit,
        supplierId: c.supplierId,
        keyPrefix: c.keyPrefix,
        createdAt: new Date(c.createdAt).toISOString(),
        revokedAt: c.revokedAt === null ? null : new Date(c.revokedAt).toISOString(),
      }));
      if (opts.json) process.stdout.write(`${JSON.stringify(clients, null, 2)}\n`);
      else
        for (const c of clients)
          process.stdout.write(
            `${c.name}\t${c.revokedAt ? 'revoked' : 'active'}\t${c.scopes.join(',')}\t${c.plants?.join(',') ?? '*'}\n`,
          );
    } finally {
      await store.close();
    }
  });

  withStore(
    keys.command('revoke').description('Revoke a client; its key stops working.').argument('<name>'),
  ).action(async (name: string, opts: { config?: string; data?: string }) => {
    const store = await openStateStore(loadConfig(opts.config, { dataDir: opts.data }));
    try {
      if (!(await store.clients.revoke(name, Date.now())))
        throw new Error(`no active client named "${name}"`);
      process.stdout.write(`revoked ${name}\n`);
    } finally {
      await store.close();
    }
  });
}
