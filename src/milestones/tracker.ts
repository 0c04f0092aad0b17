import { setMaxListeners } from 'node:events';
import type { Counter, Gauge } from 'prom-client';
import type { Work } from '../cluster/work-coordinator.js';
import { type Clock, systemClock } from '../delivery/clock.js';
import type { Consumer, EventLog } from '../log/port.js';
import type { CloudEvent, StoredEvent } from '../model/envelope.js';
import { eventLogFields } from '../observability/event-trace.js';
import type { Logger } from '../observability/logger.js';
import type {
  MilestoneChange,
  MilestoneEventRef,
  MilestoneRecord,
  MilestoneRepository,
} from '../store/port.js';
import { abortableDelay } from '../util/abortable-delay.js';
import { type AlertKind, alertEvent } from './alert-events.js';
import {
  correlationOf,
  type MilestoneDefinition,
  milestoneId,
  plantOf,
  type SkippedMilestone,
} from './definitions.js';

export interface MilestoneTrackerOptions {
  readonly definitions: readonly MilestoneDefinition[];
  /** Built-in milestones left out; each is logged once. */
  readonly skipped?: readonly SkippedMilestone[];
  readonly log: EventLog;
  readonly store: MilestoneRepository;
  readonly logger: Logger;
  /** @default the system clock */
  readonly clock?: Clock;
  readonly metrics?: {
    readonly milestones: Gauge<'name' | 'status'>;
    readonly milestonesLate: Counter<'name'>;
  };
  /** Publish `conveyor.milestone.met` for every met milestone (an alert asks for it). @default false */
  readonly announceMet?: boolean;
  /** How often open milestones are checked against their due time. @default 1000 */
  readonly checkEveryMs?: number;
  /** Met milestones (and unclaimed early ends) are deleted this long after. @default 7 days */
  readonly retentionMs?: number;
  /**
   * Least time between two store writes of the consumer (and of delivery ends): events arriving
   * meanwhile are written together, so the store commits at most about 1000 / this a second
   * whatever the ingest rate. Milestone SLAs are minutes; this delay is invisible in them.
   * @default 100
   */
  readonly writeEveryMs?: number;
}

/** The durable log consumer the tracker reads start and end events with. */
export const MILESTONE_CONSUMER = 'milestones';

const BATCH = 500;
const GAUGE_EVERY_MS = 5_000;
const PURGE_EVERY_MS = 60_000;
const STATUSES = ['open', 'late', 'met'] as const;

function refOf(event: StoredEvent, now: number): MilestoneEventRef {
  return {
    id: event.id,
    type: event.type,
    sequence: event.sequence,
    time: event.time ?? new Date(now).toISOString(),
  };
}

/**
 * Tracks business milestones. A durable log consumer opens a milestone on each start event and
 * meets it on its end event; deliveries end delivery milestones on whichever instance runs the
 * route (`onDelivered`, written straight to the store); a timer marks milestones past due as late
 * and raises each alert once as a hub event in the log. The consumer and the timer are one piece
 * of work (`milestones`) that one hub instance runs at a time.
 */
export class MilestoneTracker {
  private readonly definitions: readonly MilestoneDefinition[];
  private readonly log: EventLog;
  private readonly store: MilestoneRepository;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly metrics: MilestoneTrackerOptions['metrics'];
  private readonly announceMet: boolean;
  private readonly checkEveryMs: number;
  private readonly retentionMs: number;
  private readonly writeEveryMs: number;
  private readonly types: string[];
  /** Delivery ends waiting for the next group write, with the events they came from. */
  private queuedEnds: Array<{ change: MilestoneChange; event: StoredEvent }> = [];
  /** The group write of delivery ends under way, if any. */
  private writingEnds: Promise<void> | null = null;
  /** Aborted on close: queued ends are written at once. */
  private readonly endsPaused = new AbortController();
  private consumer: Consumer | null = null;
  private stopping: AbortController | null = null;
  private loops: Promise<void>[] = [];
  private lastGauge = Number.NEGATIVE_INFINITY;
  private lastPurge = Number.NEGATIVE_INFINITY;

  constructor(options: MilestoneTrackerOptions) {
    this.definitions = options.definitions;
    this.log = options.log;
    this.store = options.store;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.metrics = options.metrics;
    this.announceMet = options.announceMet ?? false;
    this.checkEveryMs = options.checkEveryMs ?? 1_000;
    this.retentionMs = options.retentionMs ?? 7 * 86_400_000;
    this.writeEveryMs = options.writeEveryMs ?? 100;
    const types = new Set<string>();
    for (const d of this.definitions) {
      types.add(d.start);
      if ('type' in d.end) types.add(d.end.type);
    }
    this.types = [...types];
    for (const skipped of options.skipped ?? []) {
      this.logger.info(
        { milestone: skipped.name, route: skipped.route },
        `built-in milestone "${skipped.name}" is not tracked: no route named "${skipped.route}" is configured`,
      );
    }
  }

  /** Whether there is anything to track. */
  get active(): boolean {
    return this.definitions.length > 0;
  }

  /** The consumer and the timer, as one piece of work for the work coordinator. */
  work(): Work {
    return { name: 'milestones', start: () => this.start(), stop: () => this.stop() };
  }

  async start(): Promise<void> {
    if (this.stopping) return;
    const stopping = new AbortController();
    // Every fetch and sleep listens on this signal while it waits.
    setMaxListeners(0, stopping.signal);
    this.stopping = stopping;
    this.consumer = await this.log.consume(MILESTONE_CONSUMER, { types: this.types });
    this.loops = [this.consumeLoop(this.consumer, stopping.signal), this.timerLoop(stopping.signal)];
  }

  /** Stops both loops; what was applied is committed, so the next holder resumes after it. */
  async stop(): Promise<void> {
    const stopping = this.stopping;
    if (!stopping) return;
    stopping.abort();
    await Promise.all(this.loops);
    this.loops = [];
    this.consumer?.close();
    this.consumer = null;
    this.stopping = null;
    this.metrics?.milestones.reset();
  }

  /** Stops and waits for the delivery ends still being written. */
  async close(): Promise<void> {
    this.endsPaused.abort();
    await this.stop();
    while (this.writingEnds || this.queuedEnds.length > 0) await (this.writingEnds ?? this.writeEnds());
  }

  /**
   * A route delivered `event`: it ends the delivery milestones on that route with its correlation.
   * Ends are queued and written in groups (one store transaction for all that arrived meanwhile):
   * deliveries never wait on them, and a burst of deliveries costs one commit, not one each.
   */
  onDelivered(route: string, event: StoredEvent): void {
    for (const definition of this.definitions) {
      if (!('delivered' in definition.end) || definition.end.delivered !== route) continue;
      const change = this.endChange(definition, event, true);
      if (change) this.queuedEnds.push({ change, event });
    }
    if (this.queuedEnds.length > 0 && !this.writingEnds) {
      // The deliveries finishing meanwhile join the same write.
      this.writingEnds = abortableDelay(this.writeEveryMs, this.endsPaused.signal).then(() =>
        this.writeEnds(),
      );
    }
  }

  /** Writes every queued delivery end in one step; ends queued meanwhile go in the next one. */
  private async writeEnds(): Promise<void> {
    try {
      while (this.queuedEnds.length > 0) {
        const batch = this.queuedEnds;
        this.queuedEnds = [];
        try {
          await this.store.applyAll(batch.map((q) => q.change));
        } catch (error) {
          for (const { change, event } of batch)
            this.logger.error(
              {
                err: error,
                milestone: change.kind === 'end' ? change.ref.name : undefined,
                ...eventLogFields(event),
              },
              'could not record a milestone end',
            );
        }
      }
    } finally {
      this.writingEnds = null;
    }
  }

  /** Applies one log event: opens the milestones it starts and meets those it ends. */
  async apply(event: StoredEvent): Promise<void> {
    await this.applyEvents([event]);
  }

  /** Applies log events in order, in one store transaction. */
  async applyEvents(events: readonly StoredEvent[]): Promise<void> {
    const changes: MilestoneChange[] = [];
    for (const event of events) {
      for (const definition of this.definitions) {
        if (definition.start === event.type) {
          const change = this.openChange(definition, event);
          if (change) changes.push(change);
        }
        if ('type' in definition.end && definition.end.type === event.type) {
          const change = this.endChange(definition, event, false);
          if (change) changes.push(change);
        }
      }
    }
    await this.store.applyAll(changes);
  }

  /**
   * One pass of the timer: marks open milestones past due as late, raises the alerts not yet
   * raised, and now and then purges old milestones and refreshes the gauges.
   */
  async check(): Promise<void> {
    const now = this.clock.now();
    for (;;) {
      const late = await this.store.markLate(now, BATCH);
      for (const record of late) {
        this.metrics?.milestonesLate.inc({ name: record.name });
        this.logger.info(
          { milestone: record.name, correlation: record.correlation, plant: record.plant, id: record.id },
          'milestone late',
        );
      }
      if (late.length < BATCH) break;
    }
    for (;;) {
      const pending = await this.store.pendingAlerts({ met: this.announceMet }, BATCH);
      await this.raise(pending);
      if (pending.length < BATCH) break;
    }
    if (now - this.lastPurge >= PURGE_EVERY_MS) {
      this.lastPurge = now;
      const purged = await this.store.purge(now - this.retentionMs);
      if (purged > 0) this.logger.info({ purged }, 'old milestones purged');
    }
    if (now - this.lastGauge >= GAUGE_EVERY_MS) {
      this.lastGauge = now;
      await this.refreshGauge();
    }
  }

  private openChange(definition: MilestoneDefinition, event: StoredEvent): MilestoneChange | null {
    const plant = plantOf(event);
    if (definition.plants !== null && (plant === null || !definition.plants.includes(plant))) return null;
    const correlation = correlationOf(event, definition.correlate);
    if (correlation === null) return null;
    const now = this.clock.now();
    // The SLA runs from when the fact occurred, not from when the hub got to it.
    const occurred = event.time ? Date.parse(event.time) : Number.NaN;
    const startedAt = Number.isNaN(occurred) ? now : occurred;
    return {
      kind: 'open',
      start: {
        id: milestoneId(definition.name, correlation),
        name: definition.name,
        correlation,
        plant,
        startEvent: refOf(event, now),
        startedAt,
        dueAt: startedAt + definition.withinMs,
      },
      now,
      endMustFollowStart: 'delivered' in definition.end,
    };
  }

  private endChange(
    definition: MilestoneDefinition,
    event: StoredEvent,
    delivered: boolean,
  ): MilestoneChange | null {
    const correlation = correlationOf(event, definition.correlate);
    if (correlation === null) return null;
    const plant = plantOf(event);
    if (definition.plants !== null && plant !== null && !definition.plants.includes(plant)) return null;
    const now = this.clock.now();
    return {
      kind: 'end',
      id: milestoneId(definition.name, correlation),
      ref: { name: definition.name, correlation, plant },
      endEvent: refOf(event, now),
      at: now,
      endMustFollowStart: delivered,
    };
  }

  /** Appends the alert events of these milestones, then records them as raised. */
  private async raise(records: readonly MilestoneRecord[]): Promise<void> {
    const events: CloudEvent[] = [];
    const marks: Array<{ id: string; kinds: AlertKind[] }> = [];
    for (const record of records) {
      const kinds: AlertKind[] = [];
      if (record.status === 'late' && !record.alerted.late) {
        events.push(alertEvent('late', record));
        kinds.push('late');
      }
      if (record.status === 'met' && record.lateAt !== null && !record.alerted.cleared) {
        // Met before its late alert went out: there is nothing to clear, and no late alert is due.
        if (record.alerted.late) events.push(alertEvent('cleared', record));
        else kinds.push('late');
        kinds.push('cleared');
      }
      if (this.announceMet && record.status === 'met' && !record.alerted.met) {
        events.push(alertEvent('met', record));
        kinds.push('met');
      }
      if (kinds.length > 0) marks.push({ id: record.id, kinds });
    }
    // Appended first: a crash in between raises the same events again, which the log stores once.
    if (events.length > 0) await this.log.append(events);
    for (const event of events)
      this.logger.info(
        { milestone: (event.data as { name: string }).name, type: event.type, ...eventLogFields(event) },
        'milestone alert raised',
      );
    for (const mark of marks) await this.store.setAlerted(mark.id, mark.kinds);
  }

  private async refreshGauge(): Promise<void> {
    if (!this.metrics) return;
    const totals = new Map<string, number>();
    for (const count of await this.store.counts()) {
      const key = `${count.name}\u0000${count.status}`;
      totals.set(key, (totals.get(key) ?? 0) + count.count);
    }
    for (const definition of this.definitions) {
      for (const status of STATUSES) {
        this.metrics.milestones.set(
          { name: definition.name, status },
          totals.get(`${definition.name}\u0000${status}`) ?? 0,
        );
      }
    }
  }

  private async consumeLoop(consumer: Consumer, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const events = await consumer.fetch(BATCH, 1_000, signal);
        // One store transaction for the whole batch; the position is committed only after it, so a
        // crash in between replays the batch, and applying an event twice changes nothing.
        await this.applyEvents(events);
        const position = Math.max(consumer.readPosition(), events.at(-1)?.sequence ?? 0);
        if (position > consumer.committed()) await consumer.commit(position);
        // Caught up: let the next events gather rather than write a transaction per log commit.
        if (events.length > 0 && events.length < BATCH) await abortableDelay(this.writeEveryMs, signal);
      } catch (error) {
        if (signal.aborted) break;
        this.logger.error(
          { err: error },
          'milestone tracking failed; retrying from the last committed event',
        );
        // Re-read what was fetched but not applied; applying an event twice changes nothing.
        await consumer.seek(consumer.committed()).catch(() => undefined);
        await this.clock.sleep(1_000, signal);
      }
    }
  }

  private async timerLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.check();
      } catch (error) {
        this.logger.error({ err: error }, 'milestone check failed; trying again');
      }
      await this.clock.sleep(this.checkEveryMs, signal);
    }
  }
}
