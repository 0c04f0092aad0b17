import type { CloudEvent } from '../model/envelope.js';
import {
  checkHistory,
  formatReport,
  type History,
  type RouteHistory,
  type RouteReport,
  type SentEvent,
  violations,
} from './checker.js';
import { api, deadLetters, pollUntil } from './hub-control.js';
import { type ProducedEvent, type ProducerStats, Producers } from './producers.js';
import { TortureReceiver } from './receiver.js';
import { selects, type TortureRoute } from './routes.js';
import { Workload } from './workload.js';

/**
 * Most events a route holds between the log and its endpoint (the route worker's window): what a
 * crash can leave delivered but not yet committed, so what a restart may deliver again.
 */
export const IN_FLIGHT_WINDOW = 10_000;

/** How often a busy route makes its position durable (docs/delivery.md): the rest of a restart's repeats. */
export const COMMIT_INTERVAL_MS = 100;

/** A route and the phases (hub generations) in which it exists. */
interface RouteLife {
  readonly route: TortureRoute;
  readonly fromPhase: number;
  untilPhase: number | null;
}

export interface ScenarioOptions {
  readonly name: string;
  readonly routes: readonly TortureRoute[];
  /** The hubs producers may send to now. */
  readonly urls: () => readonly string[];
  readonly adminKey: string;
  readonly seed: number;
  readonly producers?: number;
  readonly ratePerSecond?: number;
  readonly keys?: number;
  readonly progress?: (line: string) => void;
}

export interface ScenarioResult {
  readonly name: string;
  /** Seeds the traffic and the receiver's misbehaviour: the same seed sends the same events. */
  readonly seed: number;
  readonly reports: readonly RouteReport[];
  readonly violations: readonly string[];
  readonly producers: ProducerStats;
  /** Acknowledged events the log does not hold at the end (read back through GET /v1/events). */
  readonly missingFromLog: readonly string[];
  readonly faults: readonly string[];
  readonly table: string;
  readonly seconds: number;
}

/**
 * The state of one torture run: producers, the receiver, the routes' lives, the faults injected so
 * far and the duplicate allowance they earned. Scenarios drive it through faults; `finish` drains,
 * replays the dead letters, reads the history and runs the checker.
 */
export class Scenario {
  readonly receiver: TortureReceiver;
  readonly producers: Producers;
  readonly workload: Workload;
  readonly faults: string[] = [];
  /** Broken promises seen while the faults ran (e.g. a hub that would not stop on SIGTERM). */
  readonly incidents: string[] = [];
  /** The hub generation: moves on at every restart, failover and config change. */
  phase = 0;
  private readonly lives: RouteLife[];
  private readonly allowance = new Map<string, number>();
  private readonly replays = new Map<string, Array<{ epoch: number; from: number }>>();
  private readonly turbulent = new Map<string, Set<number>>();
  private readonly started = performance.now();
  private readonly progress: (line: string) => void;

  constructor(readonly options: ScenarioOptions) {
    this.progress = options.progress ?? (() => undefined);
    this.lives = options.routes.map((route) => ({ route, fromPhase: 0, untilPhase: null }));
    for (const r of options.routes) this.allowance.set(r.name, 0);
    this.receiver = new TortureReceiver(options.routes, options.seed);
    this.workload = new Workload(
      `t${options.seed.toString(36)}${Date.now().toString(36)}`,
      options.keys ?? 200,
      options.seed,
    );
    this.producers = new Producers({
      urls: options.urls,
      adminKey: options.adminKey,
      workload: this.workload,
      producers: options.producers ?? 4,
      ratePerSecond: options.ratePerSecond ?? 400,
      phase: () => this.phase,
      seed: options.seed,
      // A quarter of the maintenance events are poison: rejected, dead-lettered, replayed later.
      onCreate: (event: CloudEvent) => {
        if (event.type.startsWith('maintenance.') && Number(event.id.split('-').at(-1)) % 4 === 0)
          this.receiver.poisonEvent(event.id);
      },
    });
  }

  /** The routes the hub is configured with now. */
  currentRoutes(): TortureRoute[] {
    return this.lives.filter((l) => l.untilPhase === null).map((l) => l.route);
  }

  /** Adds a line to the run's fault log. */
  note(line: string): void {
    const at = ((performance.now() - this.started) / 1000).toFixed(1);
    this.faults.push(`${at.padStart(6)} s  ${line}`);
    this.progress(`${this.options.name}: ${line}`);
  }

  private apiUrl(): string {
    const url = this.options.urls()[0];
    if (!url) throw new Error('no hub is running to answer the API');
    return url;
  }

  /** Waits until `count` more events are acknowledged (or `timeoutMs`, which fails the run). */
  async acknowledged(count: number, timeoutMs = 60_000): Promise<void> {
    const target = this.producers.stats.acked + count;
    if (!(await pollUntil(() => this.producers.stats.acked >= target, timeoutMs)))
      throw new Error(
        `${this.options.name}: ingest stalled: ${this.producers.stats.acked} acknowledged, waited for ${target} (statuses ${JSON.stringify(this.producers.stats.statuses)})`,
      );
  }

  /**
   * Records a fault after which deliveries may legitimately repeat (a restart, a failover): the
   * documented bound is the in-flight window plus what the route delivered in the last commit interval.
   */
  restarted(
    what: string,
    routes: readonly string[] = this.currentRoutes().map((r) => r.name),
    turbulent = false,
  ): void {
    this.phase++;
    this.mayRepeat(what, routes, turbulent);
  }

  /** The turbulence is over: repeats from here on need a cause of their own again. */
  calm(what: string): void {
    for (const r of this.currentRoutes()) this.receiver.nextEpoch(r.name);
    this.note(what);
  }

  /**
   * Records a fault after which a running hub may re-read routes from their durable positions
   * (a storage error such as a full disk), with the same allowance as a restart.
   */
  mayRepeat(
    what: string,
    routes: readonly string[] = this.currentRoutes().map((r) => r.name),
    turbulent = false,
  ): void {
    for (const name of routes) {
      this.receiver.nextEpoch(name);
      if (turbulent) {
        const set = this.turbulent.get(name) ?? new Set<number>();
        set.add(this.receiver.epochOf(name));
        this.turbulent.set(name, set);
      }
      const recent = this.receiver.deliveredWithin(name, COMMIT_INTERVAL_MS);
      this.allowance.set(name, (this.allowance.get(name) ?? 0) + IN_FLIGHT_WINDOW + recent);
    }
    this.note(what);
  }

  /** The route set changes (the caller restarts the hub with the new config). */
  changeRoutes(remove: readonly string[], add: readonly TortureRoute[]): void {
    for (const life of this.lives)
      if (remove.includes(life.route.name) && life.untilPhase === null) life.untilPhase = this.phase + 1;
    for (const route of add) {
      this.lives.push({ route, fromPhase: this.phase + 1, untilPhase: null });
      this.allowance.set(route.name, 0);
      this.receiver.addRoute(route);
    }
    this.note(
      `config: routes ${remove.join(', ') || '-'} removed, ${add.map((r) => r.name).join(', ') || '-'} added`,
    );
  }

  /** Acknowledged events of `route` still neither delivered nor known to be dead-lettered. */
  outstanding(route: string, deadLettered: ReadonlySet<string> = new Set()): string[] {
    const life = this.lives.find((l) => l.route.name === route);
    if (!life) return [];
    const delivered = this.receiver.deliveredIds(route);
    const out: string[] = [];
    for (const e of this.producers.events.values())
      if (e.acked && this.responsible(life, e) && !delivered.has(e.id) && !deadLettered.has(e.id))
        out.push(e.id);
    return out;
  }

  /** Waits until `route` has delivered (or dead-lettered) every acknowledged event it must. */
  async caughtUp(route: string, timeoutMs: number): Promise<boolean> {
    let dead = new Set<string>();
    let refreshed = 0;
    return pollUntil(async () => {
      if (this.outstanding(route, dead).length === 0) return true;
      if (performance.now() - refreshed > 1_000) {
        refreshed = performance.now();
        dead = new Set((await this.safeDeadLetters(route)).map((e) => e.event.id));
      }
      return false;
    }, timeoutMs);
  }

  private async safeDeadLetters(route: string) {
    try {
      return await deadLetters(this.apiUrl(), this.options.adminKey, route);
    } catch {
      return [];
    }
  }

  /**
   * `POST /v1/subscriptions/{route}/replay` from a little behind the route's durable position (a
   * replay goes back; from beyond the position it would skip what the route has not finished).
   */
  async replaySubscription(route: string, back = 300): Promise<void> {
    const subscriptions = await api<{ items: Array<{ name: string; position: number }> }>(
      this.apiUrl(),
      this.options.adminKey,
      'GET',
      '/v1/subscriptions',
    );
    const position = subscriptions.body.items?.find((s) => s.name === route)?.position ?? 0;
    const from = Math.max(1, position - back);
    // Repeats between now and the replay's own deliveries fall in the replay's epoch.
    this.receiver.nextEpoch(route);
    const list = this.replays.get(route) ?? [];
    list.push({ epoch: this.receiver.epochOf(route), from });
    this.replays.set(route, list);
    const res = await api<{ events?: number }>(
      this.apiUrl(),
      this.options.adminKey,
      'POST',
      `/v1/subscriptions/${route}/replay`,
      { from },
    );
    if (res.status !== 202)
      throw new Error(`replay of ${route} answered ${res.status}: ${JSON.stringify(res.body)}`);
    // The replay may repeat every log position it re-reads.
    this.receiver.nextEpoch(route);
    this.allowance.set(route, (this.allowance.get(route) ?? 0) + (res.body.events ?? 0));
    this.note(`subscription replay of ${route} from sequence ${from} (${res.body.events} positions)`);
  }

  /** Heals and replays every open dead letter of `route` (`POST /v1/dlq/{id}/replay`). */
  async replayDeadLetters(route: string): Promise<number> {
    const open = (await deadLetters(this.apiUrl(), this.options.adminKey, route)).filter(
      (e) => e.status === 'open',
    );
    let replayed = 0;
    for (const entry of open) {
      this.receiver.heal(entry.event.id);
      const res = await api(this.apiUrl(), this.options.adminKey, 'POST', `/v1/dlq/${entry.id}/replay`);
      if (res.status === 202) replayed++;
      else if (res.status !== 409) throw new Error(`dlq replay of ${entry.id} answered ${res.status}`);
    }
    this.allowance.set(route, (this.allowance.get(route) ?? 0) + replayed);
    this.note(`dead-letter replay of ${route}: ${replayed} of ${open.length} open entries`);
    return replayed;
  }

  /** Heals everything and replays every open dead letter of `route` in one bulk call (`POST /v1/dlq/replay`). */
  async replayAllDeadLetters(route: string): Promise<number> {
    this.receiver.healAll();
    const res = await api<{ matched?: number }>(
      this.apiUrl(),
      this.options.adminKey,
      'POST',
      '/v1/dlq/replay',
      {
        route,
      },
    );
    if (res.status !== 202)
      throw new Error(`bulk dlq replay of ${route} answered ${res.status}: ${JSON.stringify(res.body)}`);
    const matched = res.body.matched ?? 0;
    this.allowance.set(route, (this.allowance.get(route) ?? 0) + matched);
    if (matched > 0) this.note(`bulk dead-letter replay of ${route}: ${matched} open entries`);
    return matched;
  }

  private responsible(life: RouteLife, e: ProducedEvent): boolean {
    if (!selects(life.route, e)) return false;
    // A new route starts at the log's head: only events first sent once it existed are its to deliver.
    if (e.firstSentPhase < life.fromPhase) return false;
    // A removed route answers for what was acknowledged before it went (it was drained first).
    if (life.untilPhase !== null && (e.ackedPhase ?? Number.POSITIVE_INFINITY) >= life.untilPhase)
      return false;
    return true;
  }

  /**
   * Ends the run: stops the producers (retrying what is pending), lets the routes drain with the
   * endpoints behaving, replays every dead letter, reads the log back, and checks the history.
   */
  async finish(drainMs = 60_000): Promise<ScenarioResult> {
    await this.producers.stop(30_000);
    this.receiver.behave();
    this.note(`producers stopped: ${this.producers.stats.acked} acknowledged`);
    const routes = this.currentRoutes().map((r) => r.name);
    const deadline = performance.now() + drainMs;
    for (const route of routes) await this.caughtUp(route, Math.max(1_000, deadline - performance.now()));
    this.receiver.healAll();
    for (const route of routes) await this.replayAllDeadLetters(route);
    for (const route of routes)
      await pollUntil(
        () => this.outstanding(route).length === 0,
        Math.max(1_000, deadline - performance.now()),
      );
    const routeHistories: RouteHistory[] = [];
    for (const life of this.lives) {
      const entries =
        life.untilPhase === null
          ? await deadLetters(this.apiUrl(), this.options.adminKey, life.route.name)
          : [];
      routeHistories.push({
        route: {
          name: life.route.name,
          selects: (e: SentEvent) => selects(life.route, e),
          responsibleFor: (e: SentEvent) => this.responsible(life, e as ProducedEvent),
        },
        deadLettered: new Set(entries.map((e) => e.event.id)),
        dlqOpen: new Set(entries.filter((e) => e.status === 'open').map((e) => e.event.id)),
        timeoutMs: life.route.timeoutMs,
        replays: this.replays.get(life.route.name) ?? [],
        turbulentEpochs: this.turbulent.get(life.route.name) ?? new Set(),
        duplicateAllowance:
          (this.allowance.get(life.route.name) ?? 0) + (this.receiver.counts.get(life.route.name)?.late ?? 0),
      });
    }
    const history: History = {
      sent: this.producers.sent(),
      deliveries: this.receiver.deliveries,
      routes: routeHistories,
    };
    const reports = checkHistory(history);
    const stored = await this.storedSequences();
    const missingFromLog: string[] = [];
    for (const e of this.producers.events.values())
      if (e.acked && !stored.has(e.id)) missingFromLog.push(e.id);
    const problems = [...this.incidents, ...violations(reports)];
    // For a reproduction: where the lost events sit in the log.
    for (const r of reports)
      if (r.lost > 0)
        problems.push(
          `${r.route}: lost events at log positions ${r.samples.lost.map((l) => `${l.split(' ')[0]}@${stored.get(l.split(' ')[0] ?? '')}`).join(', ')}`,
        );
    if (missingFromLog.length > 0)
      problems.push(
        `log: ${missingFromLog.length} acknowledged events are not in the log, e.g. ${missingFromLog.slice(0, 5).join(', ')}`,
      );
    if (this.producers.stats.refused > 0)
      problems.push(
        `producers: ${this.producers.stats.refused} requests refused (statuses ${JSON.stringify(this.producers.stats.statuses)})`,
      );
    const seconds = (performance.now() - this.started) / 1000;
    const stats = this.producers.stats;
    const table = [
      formatReport(`${this.options.name} (seed ${this.options.seed}, ${seconds.toFixed(0)} s)`, reports),
      `producers: ${stats.requests} requests, ${stats.acked} events acknowledged, ${stats.indeterminate} requests indeterminate, statuses ${JSON.stringify(stats.statuses)}`,
      `log: ${missingFromLog.length} acknowledged events missing`,
      `receiver: ${[...this.receiver.counts].map(([r, c]) => `${r} ${JSON.stringify(c)}`).join('; ')}`,
      'faults:',
      ...this.faults.map((f) => `  ${f}`),
    ].join('\n');
    return {
      name: this.options.name,
      seed: this.options.seed,
      reports,
      violations: problems,
      producers: stats,
      missingFromLog,
      faults: this.faults,
      table,
      seconds,
    };
  }

  /** Every event's log position, read back through `GET /v1/events`. */
  private async storedSequences(): Promise<Map<string, number>> {
    const stored = new Map<string, number>();
    let after = '0';
    for (let page = 0; page < 100_000; page++) {
      const res = await api<{ items: Array<{ id: string; sequence: number }>; next: string | null }>(
        this.apiUrl(),
        this.options.adminKey,
        'GET',
        `/v1/events?limit=1000&after=${after}`,
      );
      if (res.status !== 200)
        throw new Error(`GET /v1/events answered ${res.status}: ${JSON.stringify(res.body)}`);
      for (const e of res.body.items) stored.set(e.id, e.sequence);
      if (res.body.next === null) break;
      after = res.body.next;
    }
    return stored;
  }
}
