import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../util/free-port.js';
import { HubControl, pollUntil } from './hub-control.js';
import { ADDED_ROUTE, hubConfig, REMOVED_ROUTE, STANDING_ROUTES } from './routes.js';
import { Scenario, type ScenarioResult } from './scenario.js';
import { Tmpfs } from './tmpfs.js';

/** The admin key torture hubs are started with (`CONVEYOR_ADMIN_KEY`). */
export const TORTURE_KEY = `cvy_torture-${'t'.repeat(40)}`;

export interface SingleHubOptions {
  /** Fault rounds; each kills the hub during ingest and during delivery, replays, and stops it gracefully. @default 2 */
  readonly rounds?: number;
  /** Keep starting rounds (beyond `rounds`) until this much time has passed. @default 0 */
  readonly durationMs?: number;
  /** Events acknowledged between two faults. @default 1500 */
  readonly eventsBetweenFaults?: number;
  readonly ratePerSecond?: number;
  readonly seed?: number;
  readonly progress?: (line: string) => void;
}

/**
 * One hub on SQLite, restarted on the same port and data folder, under concurrent producers:
 * every round kills it with SIGKILL during ingest and again while it delivers a backlog alone,
 * replays a subscription and the dead letters while traffic runs, and stops it with SIGTERM under
 * load. Halfway, a route is removed and another added (config changed, hub restarted).
 */
export async function runSingleHubScenario(options: SingleHubOptions = {}): Promise<ScenarioResult> {
  const rounds = options.rounds ?? 2;
  const between = options.eventsBetweenFaults ?? 1_500;
  const seed = options.seed ?? Date.now() % 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-torture-'));
  const hub = new HubControl({
    configPath: join(dir, 'conveyor.json'),
    dataDir: join(dir, 'data'),
    port: await freePort(),
    adminKey: TORTURE_KEY,
  });
  const scenario = new Scenario({
    name: 'single hub (SQLite): kill -9, SIGTERM, replays, route change',
    routes: [...STANDING_ROUTES, REMOVED_ROUTE],
    urls: () => (hub.running ? [hub.url] : []),
    adminKey: TORTURE_KEY,
    seed,
    ratePerSecond: options.ratePerSecond ?? 500,
    progress: options.progress,
  });
  scenario.receiver.senders = () => (hub.pid === undefined ? [] : [hub.pid]);
  await scenario.receiver.listen();
  try {
    hub.writeConfig(hubConfig(scenario.currentRoutes(), scenario.receiver.url));
    await hub.start();
    scenario.producers.start();
    const started = performance.now();
    const durationMs = options.durationMs ?? 0;
    for (let round = 1; round <= rounds || performance.now() - started < durationMs; round++) {
      await scenario.acknowledged(between);
      await hub.kill();
      scenario.restarted(`round ${round}: kill -9 during ingest`);
      await hub.start();

      if (round === 1) await sparseGapAcrossRestart(scenario, hub);

      await scenario.acknowledged(between);
      scenario.producers.pause();
      // Deliveries of the backlog go on with no ingest; the kill lands in the middle of them.
      const delivered = scenario.receiver.deliveries.length;
      await pollUntil(() => scenario.receiver.deliveries.length >= delivered + 200, 10_000);
      await hub.kill();
      scenario.restarted(`round ${round}: kill -9 during delivery (ingest paused)`);
      await hub.start();
      scenario.producers.resume();

      await scenario.acknowledged(between / 2);
      await scenario.replaySubscription('p1-production');
      await scenario.replayDeadLetters('maintenance-poison');

      await scenario.acknowledged(between / 2);
      if (round === Math.ceil(rounds / 2)) {
        // A removed route must first finish what it was given; then the config changes.
        scenario.producers.pause();
        const drained = await scenario.caughtUp(REMOVED_ROUTE.name, 60_000);
        if (!drained)
          throw new Error(`${REMOVED_ROUTE.name} did not catch up within 60 s before its removal`);
        scenario.changeRoutes([REMOVED_ROUTE.name], [ADDED_ROUTE]);
        hub.writeConfig(hubConfig(scenario.currentRoutes(), scenario.receiver.url));
        await gracefulStop(scenario, hub);
        scenario.restarted(`round ${round}: SIGTERM, restart with the new config`);
        await hub.start();
        scenario.producers.resume();
      } else {
        await gracefulStop(scenario, hub);
        scenario.restarted(`round ${round}: SIGTERM under load`);
        await hub.start();
      }
    }
    await scenario.acknowledged(between / 2);
    return await scenario.finish();
  } finally {
    await scenario.producers.stop(0).catch(() => undefined);
    await hub.terminate().catch(() => hub.kill());
    await scenario.receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Fills the tmpfs and waits until the hub has refused requests (at most 20 s, noted either way). */
async function fillUntilRefused(scenario: Scenario, fs: Tmpfs): Promise<void> {
  fs.fill();
  const before = scenario.producers.stats.indeterminate;
  // Routes that cannot write their positions may re-read from the last durable one, in the same process.
  scenario.mayRepeat(`disk full (${fs.free()} bytes free)`, undefined, true);
  // The hub must now refuse what it cannot store; how (500, 503, 507) is not the checker's business.
  const refused = await pollUntil(() => scenario.producers.stats.indeterminate >= before + 20, 20_000);
  scenario.note(
    refused
      ? `disk full: ${scenario.producers.stats.indeterminate - before} requests refused`
      : 'disk full: the hub went on acknowledging (no refusal within 20 s)',
  );
}

/**
 * SIGTERM; a hub still running after 10 s is killed and fails the run (a stop under load, also
 * mid-replay, abandons the deliveries in flight rather than waiting on them). A hub its own shutdown
 * deadline (8 s) ended is noted in the fault log: it loses nothing, but a step of its stop hung.
 */
async function gracefulStop(scenario: Scenario, hub: HubControl): Promise<void> {
  const forcedBefore = hub.forcedExits.length;
  const problem = await hub.terminateOrKill(STOP_LIMIT_MS);
  if (problem) {
    scenario.note(problem);
    throw new Error(problem);
  }
  for (const line of hub.forcedExits.slice(forcedBefore))
    scenario.note(`SIGTERM: the hub's deadline ended it: ${line}`);
}

/** How long a hub may take to exit after SIGTERM. */
const STOP_LIMIT_MS = 10_000;

/** Non-matching events of the sparse route's second domain in a row: more than a read scans. */
export const SPARSE_GAP = 10_500;

/**
 * The sparse route (`quality.*` + `production.order.released`) must re-read, after a crash, a
 * backlog in which more than ten thousand events of the production domain that it does not select
 * lie between two it does. Its endpoint is down meanwhile, so its durable position stays before
 * the gap; the hub is killed; once it is back, everything after the gap must still arrive.
 */
async function sparseGapAcrossRestart(scenario: Scenario, hub: HubControl): Promise<void> {
  const route = 'quality-and-releases';
  scenario.producers.pause();
  scenario.receiver.startOutage(route);
  const w = scenario.workload;
  await scenario.producers.sendNow([w.make('quality.hold.placed', 'P1', 'GAP-A')]);
  // P2 operations: in the production domain, selected by no route but the log has to skip them.
  await scenario.producers.sendNow(
    Array.from({ length: SPARSE_GAP }, (_, i) =>
      w.make('production.operation.completed', 'P2', `GAP-K${i % 50}`),
    ),
  );
  await scenario.producers.sendNow([
    w.make('production.order.released', 'P2', 'GAP-B'),
    w.make('quality.hold.released', 'P2', 'GAP-C'),
  ]);
  await hub.kill();
  scenario.restarted(
    `kill -9 with ${route}'s endpoint down and ${SPARSE_GAP} production events it does not select between its events`,
  );
  scenario.receiver.endOutage(route);
  await hub.start();
  scenario.producers.resume();
}

export interface DiskFullOptions {
  /** Size of the tmpfs holding the data folder. @default 96 */
  readonly sizeMiB?: number;
  readonly eventsBetweenFaults?: number;
  readonly seed?: number;
  readonly progress?: (line: string) => void;
}

/**
 * The hub's data folder on a small tmpfs: traffic runs, the disk is filled to the last bytes, the
 * hub must refuse (anything but a 2xx) what it cannot store; the space is freed, the hub restarted,
 * and everything acknowledged must be in the log and delivered.
 */
export async function runDiskFullScenario(options: DiskFullOptions = {}): Promise<ScenarioResult> {
  const between = options.eventsBetweenFaults ?? 1_500;
  const seed = options.seed ?? Date.now() % 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-torture-disk-'));
  const fs = Tmpfs.mount(join(dir, 'data'), options.sizeMiB ?? 96);
  const hub = new HubControl({
    configPath: join(dir, 'conveyor.json'),
    dataDir: join(fs.dir, 'hub'),
    port: await freePort(),
    adminKey: TORTURE_KEY,
  });
  mkdirSync(hub.options.dataDir, { recursive: true });
  const scenario = new Scenario({
    name: 'disk full (SQLite data folder on a small tmpfs)',
    routes: STANDING_ROUTES.filter((r) => r.mode !== 'flaky'),
    urls: () => (hub.running ? [hub.url] : []),
    adminKey: TORTURE_KEY,
    seed,
    ratePerSecond: 400,
    progress: options.progress,
  });
  scenario.receiver.senders = () => (hub.pid === undefined ? [] : [hub.pid]);
  await scenario.receiver.listen();
  try {
    hub.writeConfig(hubConfig(scenario.currentRoutes(), scenario.receiver.url));
    await hub.start();
    scenario.producers.start();
    await scenario.acknowledged(between);
    await fillUntilRefused(scenario, fs);
    await hub.kill();
    scenario.restarted('kill -9 while the disk is full');
    fs.empty();
    await hub.start();
    scenario.note(`space freed (${fs.free()} bytes free), hub started again`);

    await scenario.acknowledged(between);
    await fillUntilRefused(scenario, fs);
    fs.empty();
    // Whether the hub takes traffic again without a restart is noted, not required here.
    const acked = scenario.producers.stats.acked;
    const recovered = await pollUntil(() => scenario.producers.stats.acked > acked + 100, 10_000);
    scenario.note(
      `space freed (${fs.free()} bytes free): ${recovered ? 'the hub acknowledges again without a restart' : 'no acknowledgement within 10 s without a restart'}`,
    );
    // A hub that hangs on the way down is killed (and the run notes it); a hub that exited is started.
    await hub
      .terminate(15_000)
      .catch((error: Error) => scenario.note(`SIGTERM: ${error.message.slice(0, 200)}`));
    scenario.restarted('SIGTERM after the disk was full');
    await hub.start();
    await scenario.acknowledged(between / 2);
    return await scenario.finish();
  } finally {
    await scenario.producers.stop(0).catch(() => undefined);
    await hub.terminate().catch(() => hub.kill());
    await scenario.receiver.close();
    fs.unmount();
    rmSync(dir, { recursive: true, force: true });
  }
}
