/**
 * Work that must run on one hub instance at a time (a route's deliveries, a source connector,
 * retention) is spread over the live instances through leases in the shared state store.
 *
 * Every `renewEvery` an instance renews its own heartbeat lease and those of the work it runs, and
 * takes unowned work up to its fair share (work ÷ live instances, rounded up); beyond its share it
 * hands one item back per round, so a newly started instance gets work without a restart. A lease
 * lapses `ttl` after its last renewal: when an instance dies, another takes its work over within
 * `ttl + renewEvery`. An instance that cannot renew (the store is unreachable) stops its work
 * before its leases can lapse, so two instances never run the same work knowingly.
 */
import { type Clock, systemClock } from '../delivery/clock.js';
import type { Logger } from '../observability/logger.js';
import { INSTANCE_LEASE_PREFIX, instanceLeaseName, type LeaseRepository } from '../store/port.js';

/** A piece of work that runs where its lease is held. */
export interface Work {
  /** The lease name, such as `route:to-erp`. */
  readonly name: string;
  start(): Promise<void>;
  /** Stops and makes its progress durable, so the next holder resumes where this one ended. */
  stop(): Promise<void>;
}

export interface WorkCoordinatorOptions {
  readonly instanceId: string;
  /** How long a lease lasts without renewal. @default 6000 */
  readonly ttlMs?: number;
  /** How often leases are renewed and free work is looked for. @default 2000 */
  readonly renewEveryMs?: number;
  readonly clock?: Clock;
  readonly logger: Logger;
}

interface Held {
  readonly work: Work;
  /** Local time of the last successful renewal. */
  renewedAt: number;
}

export class WorkCoordinator {
  readonly instanceId: string;
  private readonly ttlMs: number;
  private readonly renewEveryMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly held = new Map<string, Held>();
  private readonly stopping = new AbortController();
  private loop: Promise<void> | null = null;
  private rounds = Promise.resolve();

  constructor(
    private readonly leases: LeaseRepository,
    private readonly works: readonly Work[],
    options: WorkCoordinatorOptions,
  ) {
    this.instanceId = options.instanceId;
    this.ttlMs = options.ttlMs ?? 6_000;
    this.renewEveryMs = options.renewEveryMs ?? 2_000;
    if (this.renewEveryMs * 2 >= this.ttlMs)
      throw new Error('leases must last more than two renewal periods (ttlMs > 2 × renewEveryMs)');
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
  }

  /** Runs the first round (so a lone instance starts with all its work), then keeps renewing. */
  async start(): Promise<void> {
    await this.round();
    this.loop = (async () => {
      while (!this.stopping.signal.aborted) {
        await this.clock.sleep(this.renewEveryMs, this.stopping.signal);
        if (!this.stopping.signal.aborted) await this.round();
      }
    })();
  }

  /** Names of the work this instance runs now. */
  owned(): string[] {
    return [...this.held.keys()];
  }

  /** Runs one round now (rounds never overlap). */
  round(): Promise<void> {
    this.rounds = this.rounds
      .then(() => this.renewAndBalance())
      .catch((error: unknown) => {
        this.logger.error({ err: error }, 'work coordination round failed');
      });
    return this.rounds;
  }

  /**
   * Takes or renews this instance's heartbeat lease now: before the instance answers requests, so
   * the other instances see it alive while it holds an Idempotency-Key.
   */
  async announce(): Promise<void> {
    try {
      await this.leases.acquire(instanceLeaseName(this.instanceId), this.instanceId, this.ttlMs);
    } catch (error) {
      // The renewal rounds keep trying; requests needing the store fail on their own meanwhile.
      this.logger.warn({ err: error }, 'cannot take the heartbeat lease; the store is unreachable');
    }
  }

  /**
   * Stops every work item this instance runs and hands its leases back at once. The heartbeat lease
   * stays until {@link close} (or lapses within its ttl), so requests still finishing count as alive.
   */
  async stopAllWork(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.rounds;
    for (const name of [...this.held.keys()]) await this.handBack(name);
  }

  /** Stops the work and gives the heartbeat lease up: this instance is gone. */
  async close(): Promise<void> {
    await this.stopAllWork();
    await this.leases.release(instanceLeaseName(this.instanceId), this.instanceId).catch(() => undefined);
  }

  private async renewAndBalance(): Promise<void> {
    let instances: number;
    try {
      await this.leases.acquire(instanceLeaseName(this.instanceId), this.instanceId, this.ttlMs);
      instances = Math.max(1, (await this.leases.live(INSTANCE_LEASE_PREFIX)).length);
    } catch (error) {
      this.logger.warn({ err: error }, 'cannot renew work leases; the store is unreachable');
      await this.stopUnprovable();
      return;
    }
    for (const [name, held] of this.held) {
      let kept: boolean;
      try {
        kept = await this.leases.acquire(name, this.instanceId, this.ttlMs);
      } catch {
        continue;
      }
      if (kept) held.renewedAt = this.clock.now();
      else {
        this.logger.warn({ work: name }, 'another instance took this work over; stopping it here');
        await this.stopWork(name);
      }
    }
    await this.stopUnprovable();
    const share = Math.ceil(this.works.length / instances);
    if (this.held.size > share) {
      const surplus = [...this.held.keys()].at(-1) as string;
      this.logger.info({ work: surplus, share, instances }, 'handing work to another instance');
      await this.handBack(surplus);
      return;
    }
    for (const work of this.works) {
      if (this.held.size >= share || this.stopping.signal.aborted) break;
      if (this.held.has(work.name)) continue;
      let taken: boolean;
      try {
        taken = await this.leases.acquire(work.name, this.instanceId, this.ttlMs);
      } catch {
        return;
      }
      if (!taken) continue;
      try {
        await work.start();
        this.held.set(work.name, { work, renewedAt: this.clock.now() });
        this.logger.info({ work: work.name }, 'work started on this instance');
      } catch (error) {
        this.logger.error({ err: error, work: work.name }, 'work failed to start; its lease is handed back');
        await this.leases.release(work.name, this.instanceId).catch(() => undefined);
      }
    }
  }

  /** Work whose lease may lapse before the next renewal could succeed is stopped now. */
  private async stopUnprovable(): Promise<void> {
    const now = this.clock.now();
    for (const [name, held] of this.held) {
      if (now - held.renewedAt >= this.ttlMs - this.renewEveryMs) {
        this.logger.warn({ work: name }, 'work lease could not be renewed in time; stopping it here');
        await this.stopWork(name);
      }
    }
  }

  private async stopWork(name: string): Promise<void> {
    const held = this.held.get(name);
    if (!held) return;
    this.held.delete(name);
    try {
      await held.work.stop();
    } catch (error) {
      this.logger.error({ err: error, work: name }, 'work failed to stop cleanly');
    }
  }

  private async handBack(name: string): Promise<void> {
    await this.stopWork(name);
    await this.leases.release(name, this.instanceId).catch(() => undefined);
  }
}
