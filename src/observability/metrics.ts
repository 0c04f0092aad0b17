import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The hub's Prometheus metrics, one registry per hub instance (tests run several in one process). */
export class HubMetrics {
  readonly registry = new Registry();
  readonly ingestEvents: Counter<'outcome' | 'mode'>;
  readonly ingestRequestSeconds: Histogram<'mode' | 'status'>;
  readonly logAppendBatch: Histogram;
  readonly logHead: Gauge;
  /** 1 while the event log's disk is full (appends refused), else 0. */
  readonly logDiskFull: Gauge;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly deprecatedEvents: Counter<'type' | 'version'>;
  readonly reconciliationDifferences: Gauge<'kind'>;
  readonly reconciliationChecked: Gauge;
  /** Milestones by name and status (open, late, met), from the shared store. */
  readonly milestones: Gauge<'name' | 'status'>;
  readonly milestonesLate: Counter<'name'>;
  /**
   * Requests counted since the last scrape, by route, method and status. Requests are the hot path:
   * a plain number per request, handed to the counter when it is collected.
   */
  private readonly requestCounts = new Map<
    string,
    { labels: { route: string; method: string; status: string }; pending: number }
  >();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: 'conveyor_process_' });
    this.ingestEvents = new Counter({
      name: 'conveyor_ingest_events_total',
      help: 'Events received at ingress, by outcome (accepted, duplicate, rejected) and HTTP mode.',
      labelNames: ['outcome', 'mode'],
      registers: [this.registry],
    });
    this.ingestRequestSeconds = new Histogram({
      name: 'conveyor_ingest_request_duration_seconds',
      help: 'Time from request received to reply for POST /v1/events, including the durable append.',
      labelNames: ['mode', 'status'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [this.registry],
    });
    this.logAppendBatch = new Histogram({
      name: 'conveyor_log_append_batch_events',
      help: 'Events per append call to the event log.',
      buckets: [1, 10, 100, 1000],
      registers: [this.registry],
    });
    this.logHead = new Gauge({
      name: 'conveyor_log_head_sequence',
      help: 'Highest sequence in the event log.',
      registers: [this.registry],
    });
    this.logDiskFull = new Gauge({
      name: 'conveyor_log_disk_full',
      help: "1 while the event log's disk (or size cap) is full and appends are refused, else 0.",
      registers: [this.registry],
    });
    this.deprecatedEvents = new Counter({
      name: 'conveyor_ingest_deprecated_schema_events_total',
      help: 'Events accepted against a deprecated schema version, by type and version.',
      labelNames: ['type', 'version'],
      registers: [this.registry],
    });
    this.milestones = new Gauge({
      name: 'conveyor_milestones',
      help: 'Business milestones by name and status (open, late, met), as the shared store counts them.',
      labelNames: ['name', 'status'],
      registers: [this.registry],
    });
    this.milestonesLate = new Counter({
      name: 'conveyor_milestones_late_total',
      help: 'Milestones found late (past due without their end), by name, on the instance that tracks them.',
      labelNames: ['name'],
      registers: [this.registry],
    });
    this.reconciliationDifferences = new Gauge({
      name: 'conveyor_reconciliation_differences',
      help: "Events of yesterday's and today's orders with a reconciliation difference, by kind (missing, dlq, retrying, rejected), as of the last check.",
      labelNames: ['kind'],
      registers: [this.registry],
    });
    this.reconciliationChecked = new Gauge({
      name: 'conveyor_reconciliation_checked_timestamp_seconds',
      help: 'When the periodic reconciliation last completed (Unix seconds).',
      registers: [this.registry],
    });
    this.httpRequests = new Counter({
      name: 'conveyor_http_requests_total',
      help: 'HTTP requests by route pattern, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers: [this.registry],
      collect: () => {
        for (const count of this.requestCounts.values()) {
          if (count.pending === 0) continue;
          this.httpRequests.inc(count.labels, count.pending);
          count.pending = 0;
        }
      },
    });
  }

  /** Counts one answered request; `route` is the route's pattern (`/v1/dlq/:id`), never the URL. */
  countRequest(route: string, method: string, status: number): void {
    const key = `${method} ${status} ${route}`;
    const count = this.requestCounts.get(key);
    if (count) count.pending++;
    else this.requestCounts.set(key, { labels: { route, method, status: String(status) }, pending: 1 });
  }
}
