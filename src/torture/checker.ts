/**
 * The torture checker: a pure function from a recorded history (what producers sent and which
 * of it was acknowledged, what every receiver got, what sits in the dead-letter queue) to per-route
 * counts of lost, duplicated, reordered and unexpected deliveries. In the spirit of Jepsen's
 * checkers, it knows nothing of how the history was produced.
 */

/** One event a producer sent, as the producer knows it. */
export interface SentEvent {
  readonly id: string;
  readonly type: string;
  /** The partition key the hub must order by: `partitionkey`, else `subject`. */
  readonly key: string;
  readonly plant: string | undefined;
  /** A digest of the event's content, to tell a corrupted delivery from a faithful one. */
  readonly digest: string;
  /** True once a request holding it got a 2xx (durable by promise). */
  readonly acked: boolean;
}

/** One request a receiver accepted (answered 2xx, even if too late for the hub to count it). */
export interface Delivery {
  readonly route: string;
  readonly id: string;
  /** The hub's log position for the event, carried in the delivered body. */
  readonly sequence: number;
  readonly key: string;
  readonly digest: string;
  /**
   * The route's epoch when it arrived: the runner moves it on at every fault that may legitimately
   * repeat deliveries (a hub restart or failover, a replay of the route).
   */
  readonly epoch: number;
  /** The receiver answered after the route's timeout, so the hub counts the attempt as failed and repeats it. */
  readonly late: boolean;
  /** When the receiver got it (ms, one clock for the whole history). */
  readonly at: number;
  /**
   * The hub process that sent it, when known: a repeat from another process is a hand-over (restart,
   * failover), never a defect of one process.
   */
  readonly sender?: string;
}

/** What a route selects, stated independently of the hub's own matcher. */
export interface RouteModel {
  readonly name: string;
  /** Types (and filter): would the route select this event at all? */
  selects(event: SentEvent): boolean;
  /**
   * Must the route deliver this event? `selects` narrowed to the events acknowledged while the route
   * existed (a route added later starts at the log's head; a removed one stops).
   * @default selects
   */
  responsibleFor?(event: SentEvent): boolean;
}

export interface RouteHistory {
  readonly route: RouteModel;
  /** Ids ever dead-lettered on this route (their replay may legitimately come after later events of the key). */
  readonly deadLettered: ReadonlySet<string>;
  /** Ids whose dead letter is still open when the check runs. */
  readonly dlqOpen: ReadonlySet<string>;
  /** How many extra deliveries the documented bound allows for the faults this route went through. */
  readonly duplicateAllowance: number;
  /**
   * The route's per-attempt timeout (ms): a repeat at least this long after the previous delivery may
   * be a retry of an attempt the hub timed out before it saw the answer (at-least-once by design).
   */
  readonly timeoutMs: number;
  /**
   * Epochs of turbulence (a full disk, a NATS election) in which a running hub may re-read a route
   * from its durable position more than once: repeats within them are explained.
   */
  readonly turbulentEpochs?: ReadonlySet<number>;
  /** Subscription replays: each may repeat, within its epoch, the events from `from` on. */
  readonly replays: ReadonlyArray<{ readonly epoch: number; readonly from: number }>;
}

export interface History {
  readonly sent: ReadonlyMap<string, SentEvent>;
  /** Every accepted delivery, in the order receivers got them. */
  readonly deliveries: readonly Delivery[];
  readonly routes: readonly RouteHistory[];
}

export interface RouteReport {
  readonly route: string;
  /** Acknowledged events the route must deliver. */
  readonly acked: number;
  /** Distinct events delivered. */
  readonly delivered: number;
  readonly lost: number;
  /** Deliveries beyond the first of each event. */
  readonly duplicated: number;
  readonly duplicateAllowance: number;
  /**
   * Duplicates no fault explains: not across a restart, not within a replay, not after a late answer,
   * a timed-out attempt or a dead letter.
   */
  readonly unexplainedDuplicates: number;
  readonly reordered: number;
  readonly unexpected: number;
  /** Events that were dead-lettered during the run (replayed or not). */
  readonly dlq: number;
  /** Acknowledged events still sitting in an open dead letter (neither lost nor delivered). */
  readonly dlqOpen: number;
  /** Events never acknowledged (the request failed or timed out) that were delivered anyway. */
  readonly indeterminateDelivered: number;
  /** A few ids per kind of violation, for the reproduction. */
  readonly samples: {
    readonly lost: readonly string[];
    readonly reordered: readonly string[];
    readonly unexpected: readonly string[];
    readonly unexplainedDuplicates: readonly string[];
  };
}

const SAMPLES = 5;

function push(list: string[], value: string): void {
  if (list.length < SAMPLES) list.push(value);
}

/** Checks one route's deliveries against what was sent and acknowledged. */
function checkRoute(history: History, routeHistory: RouteHistory): RouteReport {
  const { route, deadLettered, dlqOpen } = routeHistory;
  const responsible = (e: SentEvent) => (route.responsibleFor ?? route.selects).call(route, e);
  const samples = {
    lost: [] as string[],
    reordered: [] as string[],
    unexpected: [] as string[],
    unexplainedDuplicates: [] as string[],
  };
  const firstSequence = new Map<string, number>();
  // Per id: its latest delivery, and whether any delivery of it was answered late.
  type Previous = { epoch: number; late: boolean; at: number; sender: string | undefined };
  const previous = new Map<string, Previous>();
  const explained = (d: Delivery, before: Previous) =>
    before.epoch !== d.epoch ||
    before.sender !== d.sender ||
    (routeHistory.turbulentEpochs?.has(d.epoch) ?? false) ||
    before.late ||
    deadLettered.has(d.id) ||
    d.at - before.at >= routeHistory.timeoutMs * 0.9 ||
    routeHistory.replays.some((r) => r.epoch === d.epoch && d.sequence >= r.from);
  const highestPerKey = new Map<string, number>();
  let duplicated = 0;
  let unexplainedDuplicates = 0;
  let reordered = 0;
  let unexpected = 0;
  let indeterminateDelivered = 0;
  for (const d of history.deliveries) {
    if (d.route !== route.name) continue;
    const sent = history.sent.get(d.id);
    const known = firstSequence.get(d.id);
    const before = previous.get(d.id);
    previous.set(d.id, {
      epoch: d.epoch,
      late: (before?.late ?? false) || d.late,
      at: d.at,
      sender: d.sender,
    });
    if (known !== undefined) {
      duplicated++;
      if (before && !explained(d, before)) {
        unexplainedDuplicates++;
        push(samples.unexplainedDuplicates, `${d.id} (again in epoch ${d.epoch})`);
      }
      // The same event at two log positions: the log stored it twice.
      if (known !== d.sequence) {
        unexpected++;
        push(samples.unexpected, `${d.id} (sequence ${d.sequence}, first seen at ${known})`);
      }
      continue;
    }
    firstSequence.set(d.id, d.sequence);
    if (!sent || !route.selects(sent) || sent.digest !== d.digest || sent.key !== d.key) {
      unexpected++;
      const why = !sent
        ? 'never sent'
        : !route.selects(sent)
          ? `not selected (${sent.type}, plant ${sent.plant})`
          : 'content differs from what was sent';
      push(samples.unexpected, `${d.id} (${why})`);
      continue;
    }
    if (!sent.acked) indeterminateDelivered++;
    // Order: first deliveries of a key follow log order; dead letters are set aside (their replay
    // comes after later events of the key by design).
    if (deadLettered.has(d.id)) continue;
    const highest = highestPerKey.get(d.key) ?? 0;
    if (d.sequence < highest) {
      reordered++;
      push(samples.reordered, `${d.id} (key ${d.key}: sequence ${d.sequence} after ${highest})`);
    } else highestPerKey.set(d.key, d.sequence);
  }
  let acked = 0;
  let lost = 0;
  let open = 0;
  for (const e of history.sent.values()) {
    if (!e.acked || !responsible(e)) continue;
    acked++;
    if (firstSequence.has(e.id)) continue;
    if (dlqOpen.has(e.id)) open++;
    else {
      lost++;
      push(samples.lost, `${e.id} (${e.type}, key ${e.key})`);
    }
  }
  return {
    route: route.name,
    acked,
    delivered: firstSequence.size,
    lost,
    duplicated,
    duplicateAllowance: routeHistory.duplicateAllowance,
    unexplainedDuplicates,
    reordered,
    unexpected,
    dlq: deadLettered.size,
    dlqOpen: open,
    indeterminateDelivered,
    samples,
  };
}

/** Checks every route of the history. */
export function checkHistory(history: History): RouteReport[] {
  return history.routes.map((r) => checkRoute(history, r));
}

/** What broke the promise, one line per route and kind; empty when the run kept it. */
export function violations(reports: readonly RouteReport[]): string[] {
  const out: string[] = [];
  for (const r of reports) {
    if (r.lost > 0) out.push(`${r.route}: ${r.lost} lost, e.g. ${r.samples.lost.join('; ')}`);
    if (r.reordered > 0)
      out.push(`${r.route}: ${r.reordered} reordered, e.g. ${r.samples.reordered.join('; ')}`);
    if (r.unexpected > 0)
      out.push(`${r.route}: ${r.unexpected} unexpected, e.g. ${r.samples.unexpected.join('; ')}`);
    if (r.unexplainedDuplicates > 0)
      out.push(
        `${r.route}: ${r.unexplainedDuplicates} duplicates with no restart, replay, timeout or late answer between them, e.g. ${r.samples.unexplainedDuplicates.join('; ')}`,
      );
    if (r.duplicated > r.duplicateAllowance)
      out.push(`${r.route}: ${r.duplicated} duplicates, more than the bound of ${r.duplicateAllowance}`);
  }
  return out;
}

/** The report as a fixed-width table, one row per route. */
export function formatReport(title: string, reports: readonly RouteReport[]): string {
  const header = [
    'route',
    'acked',
    'delivered',
    'lost',
    'duplicated',
    'bound',
    'reordered',
    'unexpected',
    'dlq',
  ];
  const rows = reports.map((r) => [
    r.route,
    String(r.acked),
    String(r.delivered),
    String(r.lost),
    String(r.duplicated),
    String(r.duplicateAllowance),
    String(r.reordered),
    String(r.unexpected),
    r.dlqOpen > 0 ? `${r.dlq} (${r.dlqOpen} open)` : String(r.dlq),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ');
  return [`== ${title}`, line(header), ...rows.map(line)].join('\n');
}
