import type { Work } from '../cluster/work-coordinator.js';
import type { Clock } from '../delivery/clock.js';
import type { Logger } from '../observability/logger.js';
import type { HubMetrics } from '../observability/metrics.js';
import { ScanLimitExceeded } from './log-scan.js';
import { dayOf } from './query-range.js';
import { DIFFERENCE_KINDS } from './reconciliation.js';
import type { ReconciliationService } from './reconciliation-service.js';

/** Most warning lines one check writes; the rest are summed up in one line. */
const MAX_WARNINGS = 100;

/**
 * Every `everyMs` reconciles yesterday and today (UTC) across all plants: one warning line per
 * order with differences, and the `conveyor_reconciliation_*` gauges. A `Work` item, so one hub
 * instance of a cluster runs it.
 */
export class ReconciliationJob implements Work {
  readonly name = 'reconciliation';
  private stopping: AbortController | null = null;
  private loop: Promise<void> | null = null;
  /** Completed checks (tests wait on it). */
  checks = 0;

  constructor(
    private readonly service: ReconciliationService,
    private readonly deps: {
      readonly everyMs: number;
      readonly clock: Clock;
      readonly logger: Logger;
      readonly metrics: HubMetrics;
    },
  ) {}

  async start(): Promise<void> {
    if (this.loop) return;
    const stopping = new AbortController();
    this.stopping = stopping;
    this.loop = (async () => {
      while (!stopping.signal.aborted) {
        await this.check().catch((error: unknown) =>
          this.deps.logger.error({ err: error }, 'the reconciliation check failed; trying again next time'),
        );
        await this.deps.clock.sleep(this.deps.everyMs, stopping.signal);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping?.abort();
    await this.loop;
    this.loop = null;
    this.stopping = null;
  }

  /** One check of yesterday and today. */
  async check(): Promise<void> {
    const now = this.deps.clock.now();
    const days = [dayOf(now - 86_400_000), dayOf(now)];
    let reconciled: Awaited<ReturnType<ReconciliationService['reconcileWithIds']>>;
    try {
      reconciled = await this.service.reconcileWithIds(days);
    } catch (error) {
      if (!(error instanceof ScanLimitExceeded)) throw error;
      this.deps.logger.warn(
        { days, limit: error.limit },
        'too many production events to reconcile in one check; query GET /v1/reconciliation per plant instead',
      );
      return;
    }
    // The orders with hub-side differences first: those are the ones a system of record is asked about.
    await this.service.askSystems(
      [...reconciled].sort(
        (a, b) => Number(b.item.differences.length > 0) - Number(a.item.differences.length > 0),
      ),
    );
    const totals = new Map<string, number>(DIFFERENCE_KINDS.map((k) => [k, 0]));
    let warned = 0;
    let unwarned = 0;
    for (const { item } of reconciled) {
      if (item.differences.length === 0) continue;
      for (const d of item.differences) totals.set(d.kind, (totals.get(d.kind) ?? 0) + d.count);
      if (warned >= MAX_WARNINGS) {
        unwarned += 1;
        continue;
      }
      warned += 1;
      this.deps.logger.warn(
        {
          day: item.day,
          plant: item.plant,
          order: item.order,
          differences: item.differences.map((d) => ({ route: d.route, kind: d.kind, count: d.count })),
        },
        `order ${item.order} of ${item.plant} on ${item.day} differs from what its systems acknowledged`,
      );
    }
    if (unwarned > 0)
      this.deps.logger.warn(
        { days, orders: unwarned },
        `${unwarned} more orders differ; see GET /v1/reconciliation`,
      );
    for (const [kind, count] of totals) this.deps.metrics.reconciliationDifferences.set({ kind }, count);
    this.deps.metrics.reconciliationChecked.set(this.deps.clock.now() / 1000);
    this.checks += 1;
  }
}
