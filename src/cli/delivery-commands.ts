import type { Command } from 'commander';
import { callHub, type HubTarget, hubTarget } from './api-client.js';
import { pollUntilDone } from './progress.js';

interface DlqEntry {
  id: string;
  route: string;
  reason: string;
  status: string;
  at: string;
  event: { id: string; type: string; subject?: string };
  attempts: Array<{ at: string; status?: number; error?: string; ms: number }>;
}

interface Subscription {
  name: string;
  position: number;
  lag: { events: number; seconds: number };
  state: string;
  circuit: string;
}

const withTarget = (cmd: Command) =>
  cmd
    .option('--url <url>', 'hub URL (default CONVEYOR_URL or http://127.0.0.1:8080)')
    .option('--key <key>', 'API key with the ops scope (default CONVEYOR_KEY)');

const withFilter = (cmd: Command) =>
  cmd
    .option('--route <name>', 'only this route')
    .option('--type <type>', 'only this event type')
    .option('--reason <reason>', 'rejected, max-attempts or max-age')
    .option('--since <time>', 'entries from this RFC 3339 time')
    .option('--until <time>', 'entries before this RFC 3339 time');

type FilterOptions = { route?: string; type?: string; reason?: string; since?: string; until?: string };

function filterOf(opts: FilterOptions): Record<string, string> {
  const filter: Record<string, string> = {};
  for (const key of ['route', 'type', 'reason', 'since', 'until'] as const)
    if (opts[key]) filter[key] = opts[key] as string;
  return filter;
}

async function countByStatus(target: HubTarget, ids: string[], status: string): Promise<number> {
  let n = 0;
  for (const id of ids) {
    const { body } = await callHub<DlqEntry>(target, 'GET', `/v1/dlq/${encodeURIComponent(id)}`);
    if (body.status !== status) n++;
  }
  return n;
}

/** `conveyor dlq list|replay|discard` and `conveyor replay`: operations on a running hub over its API. */
export function registerDeliveryCommands(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('Inspect, replay or discard dead-lettered events of a running hub.');

  withTarget(withFilter(dlq.command('list').description('List dead letters (open ones unless --status).')))
    .option('--status <status>', 'open, replaying, replayed or discarded', 'open')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'print JSON')
    .action(
      async (
        opts: FilterOptions & { status: string; limit: string; json?: boolean; url?: string; key?: string },
      ) => {
        const target = hubTarget(opts);
        const query = new URLSearchParams({ ...filterOf(opts), status: opts.status, limit: opts.limit });
        const { body } = await callHub<{ items: DlqEntry[] }>(target, 'GET', `/v1/dlq?${query}`);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(body.items, null, 2)}\n`);
          return;
        }
        for (const e of body.items) {
          const last = e.attempts[e.attempts.length - 1];
          process.stdout.write(
            `${e.id}  ${e.at}  ${e.route}  ${e.reason}  ${e.event.type}  ${e.event.subject ?? ''}  attempts=${e.attempts.length}  last=${last?.status ?? last?.error ?? '-'}\n`,
          );
        }
        if (body.items.length === 0) process.stderr.write('no dead letters match\n');
      },
    );

  withTarget(
    withFilter(
      dlq
        .command('replay')
        .description('Replay one dead letter by id, or every open one matching the filter.'),
    ),
  )
    .argument('[id]', 'dead-letter id')
    .action(async (id: string | undefined, opts: FilterOptions & { url?: string; key?: string }) => {
      const target = hubTarget(opts);
      const filter = filterOf(opts);
      if (id === undefined && Object.keys(filter).length === 0) {
        throw new Error(
          'give a dead-letter id, or a filter (--route, --type, --reason, --since, --until) for a bulk replay',
        );
      }
      const ids = id
        ? [
            (await callHub<{ id: string }>(target, 'POST', `/v1/dlq/${encodeURIComponent(id)}/replay`)).body
              .id,
          ]
        : (await callHub<{ ids: string[] }>(target, 'POST', '/v1/dlq/replay', filter)).body.ids;
      const done = await pollUntilDone('replaying', ids.length, () =>
        countByStatus(target, ids, 'replaying'),
      );
      let replayed = 0;
      for (const entry of ids) {
        if (
          (await callHub<DlqEntry>(target, 'GET', `/v1/dlq/${encodeURIComponent(entry)}`)).body.status ===
          'replayed'
        )
          replayed++;
      }
      process.stdout.write(
        `${replayed} of ${ids.length} delivered; ${done - replayed} failed again and are open\n`,
      );
      if (replayed < ids.length) process.exitCode = 1;
    });

  withTarget(
    withFilter(
      dlq
        .command('discard')
        .description('Discard one dead letter by id, or every open one matching the filter.'),
    ),
  )
    .argument('[id]', 'dead-letter id')
    .action(async (id: string | undefined, opts: FilterOptions & { url?: string; key?: string }) => {
      const target = hubTarget(opts);
      const filter = filterOf(opts);
      if (id) {
        await callHub(target, 'POST', `/v1/dlq/${encodeURIComponent(id)}/discard`);
        process.stdout.write(`discarded ${id}\n`);
        return;
      }
      if (Object.keys(filter).length === 0)
        throw new Error('give a dead-letter id, or a filter for a bulk discard');
      const { body } = await callHub<{ matched: number }>(target, 'POST', '/v1/dlq/discard', filter);
      process.stdout.write(`discarded ${body.matched} dead letters\n`);
    });

  withTarget(
    program
      .command('replay')
      .description(
        'Re-deliver a subscription (route) from a time or a sequence; shows progress until caught up.',
      )
      .requiredOption('--subscription <name>', 'route name')
      .requiredOption('--from <time|seq>', 'RFC 3339 time or log sequence'),
  ).action(async (opts: { subscription: string; from: string; url?: string; key?: string }) => {
    const target = hubTarget(opts);
    const from = /^\d+$/.test(opts.from) ? Number(opts.from) : opts.from;
    const { body } = await callHub<{ from: number; head: number; events: number }>(
      target,
      'POST',
      `/v1/subscriptions/${encodeURIComponent(opts.subscription)}/replay`,
      { from },
    );
    const total = Math.max(0, body.head - body.from + 1);
    await pollUntilDone(`replaying ${opts.subscription}`, total, async () => {
      const subs = (await callHub<{ items: Subscription[] }>(target, 'GET', '/v1/subscriptions')).body.items;
      const sub = subs.find((s) => s.name === opts.subscription);
      return sub ? Math.max(0, Math.min(total, sub.position - body.from + 1)) : total;
    });
    process.stdout.write(`replayed ${opts.subscription} from sequence ${body.from} to ${body.head}\n`);
  });
}
