/** The API shapes the console reads (see docs/api.md). */

export interface StoredEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time: string;
  readonly subject?: string;
  readonly plant?: string;
  readonly sequence: number;
  readonly data?: unknown;
  readonly [attribute: string]: unknown;
}

export interface LastError {
  readonly at: string;
  readonly eventId?: string;
  readonly origin?: string;
  readonly error: string;
}

export interface RouteOverview {
  readonly name: string;
  readonly sink: string;
  readonly endpoint: string;
  readonly lane: string;
  readonly state: string;
  readonly lag: { readonly events: number; readonly seconds: number };
  readonly inFlight: number;
  readonly retryingKeys: number;
  readonly circuit: string;
  readonly dlqOpen: number;
  readonly delivered: number;
  readonly failedAttempts: number;
  readonly deadLettered: number;
  readonly lastError: LastError | null;
}

export interface ConnectorHealth {
  readonly type: 'connecting' | 'up' | 'degraded' | 'down' | 'standby';
  readonly at: string;
  readonly reason?: string;
}

export interface SourceStatus {
  readonly name: string;
  readonly kind: string;
  readonly plant: string | null;
  readonly health: ConnectorHealth;
  readonly messages: number;
  readonly events: number;
  readonly deadLettered: number;
  readonly lastError: LastError | null;
}

export interface Overview {
  readonly at: string;
  readonly instance: string;
  readonly intervalSeconds: number;
  readonly windowSeconds: number;
  readonly ingest: { readonly perSecond: number; readonly total: number };
  readonly deliveries: {
    readonly perSecond: number;
    readonly failedPerSecond: number;
    readonly total: number;
    readonly failedTotal: number;
  };
  readonly dlqOpen: number;
  readonly lag: { readonly events: number; readonly seconds: number };
  readonly series: ReadonlyArray<{ t: string; ingest: number; delivered: number; failed: number }>;
  readonly routes: readonly RouteOverview[];
  readonly connectors: readonly SourceStatus[];
  readonly circuits: ReadonlyArray<{ endpoint: string; sink: string; state: string; routes: string[] }>;
}

export interface Subscription {
  readonly name: string;
  readonly types: readonly string[];
  readonly sink: string;
  readonly endpoint: string;
  readonly lane: string;
  readonly state: string;
  readonly position: number;
  readonly lag: { readonly events: number; readonly seconds: number };
  readonly inFlight: number;
  readonly retryingKeys: number;
  readonly circuit: string;
  readonly lastError: LastError | null;
  readonly delivered: number;
  readonly failedAttempts: number;
  readonly deadLettered: number;
}

export type Connector =
  | (SourceStatus & { readonly role: 'source' })
  | {
      readonly name: string;
      readonly kind: string;
      readonly role: 'sink';
      readonly stability: string | null;
      readonly usedBy: { readonly routes: readonly string[]; readonly commands: readonly string[] };
    };

export interface Cluster {
  readonly answeredBy: string;
  readonly instances: ReadonlyArray<{ id: string; leaseExpiresAt: string }>;
  readonly work: ReadonlyArray<{ name: string; instance: string; leaseExpiresAt: string }>;
}

export interface Attempt {
  readonly at: string;
  readonly status?: number;
  readonly error?: string;
  readonly ms: number;
}

export interface DeadLetter {
  readonly id: string;
  readonly route: string;
  readonly reason: string;
  readonly status: 'open' | 'replaying' | 'replayed' | 'discarded';
  readonly event: StoredEvent;
  readonly attempts: readonly Attempt[];
  readonly at: string;
  readonly updatedAt: string;
  readonly updatedBy: string | null;
}

export interface TraceDelivery {
  readonly route: string;
  readonly sink: string;
  readonly state: 'pending' | 'done' | 'dead-lettered' | 'filtered-out';
  readonly deadLetter?: { readonly id: string; readonly reason: string; readonly status: string };
}

export interface Trace {
  readonly subject: string;
  readonly items: ReadonlyArray<{ event: StoredEvent; deliveries: readonly TraceDelivery[] }>;
  readonly truncated: boolean;
}

export interface MilestoneSummaryRow {
  readonly name: string;
  readonly plant: string;
  readonly open: number;
  readonly late: number;
  readonly met: number;
}

export interface Milestone {
  readonly id: string;
  readonly name: string;
  readonly correlation: string;
  readonly plant: string;
  readonly status: string;
  readonly startedAt: string;
  readonly dueAt: string;
  readonly endedAt: string | null;
  readonly ageSeconds: number;
  readonly late: boolean;
  readonly events: ReadonlyArray<{ id: string; type: string; sequence: number; time: string; role: string }>;
}

export interface OeeRow {
  readonly plant: string;
  readonly equipmentId: string;
  readonly from: string;
  readonly to: string;
  readonly availability: number | null;
  readonly performance: number | null;
  readonly quality: number | null;
  readonly oee: number | null;
  readonly goodCount: number;
  readonly scrapCount: number;
  readonly runSeconds: number;
  readonly plannedSeconds: number;
  readonly downtimeSeconds: number;
  readonly idealRatePerMinute: number | null;
  readonly throughputPerHour: number | null;
}

export interface QualityHold {
  readonly holdId: string;
  readonly plant: string;
  readonly material: string;
  readonly lots: readonly string[];
  readonly reason: string;
  readonly placedAt: string;
  readonly status: string;
  readonly disposition: string | null;
  readonly updatedAt: string;
}

export interface AuditEntry {
  readonly position: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly outcome: string;
  readonly detail?: Record<string, unknown>;
}

export interface SchemaSummary {
  readonly type: string;
  readonly domain: string;
  readonly owner: string;
  readonly compatibility: string;
  readonly latestApproved: number | null;
  readonly versions: ReadonlyArray<{ version: number; status: string }>;
}

export interface TypeDependencies {
  readonly type: string;
  readonly domain: string;
  readonly owner: string;
  readonly lane: string;
  readonly criticality: string;
  readonly publishers: {
    readonly clients: ReadonlyArray<{
      name: string;
      plants: readonly string[] | null;
      via: 'scope' | 'admin';
    }>;
    readonly connectors: ReadonlyArray<{ name: string; kind: string }>;
  };
  readonly consumers: ReadonlyArray<{
    route: string;
    sink: string;
    endpoint: string | null;
    lane: string;
    filter: string | null;
  }>;
}
