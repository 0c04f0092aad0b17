import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Prometheus metrics of the delivery engine, registered on the hub's registry. */
export class DeliveryMetrics {
  readonly attempts: Counter<'route' | 'outcome'>;
  readonly attemptSeconds: Histogram<'route'>;
  readonly lag: Gauge<'route'>;
  readonly deadLettered: Counter<'route' | 'reason'>;
  readonly dlqOpen: Gauge<'route'>;
  readonly circuitState: Gauge<'endpoint'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.attempts = new Counter({
      name: 'conveyor_delivery_attempts_total',
      help: 'Delivery attempts by route and outcome (delivered, retry, rejected).',
      labelNames: ['route', 'outcome'],
      registers,
    });
    this.attemptSeconds = new Histogram({
      name: 'conveyor_delivery_attempt_duration_seconds',
      help: 'Time of one delivery attempt, request to response.',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
      registers,
    });
    this.lag = new Gauge({
      name: 'conveyor_route_lag_events',
      help: 'Events in the log the route has not finished yet.',
      labelNames: ['route'],
      registers,
    });
    this.deadLettered = new Counter({
      name: 'conveyor_dead_lettered_total',
      help: 'Events moved to the dead-letter queue, by route and reason.',
      labelNames: ['route', 'reason'],
      registers,
    });
    this.dlqOpen = new Gauge({
      name: 'conveyor_dlq_open_entries',
      help: 'Open dead-letter entries by route.',
      labelNames: ['route'],
      registers,
    });
    this.circuitState = new Gauge({
      name: 'conveyor_circuit_state',
      help: 'Circuit breaker state per endpoint: 0 closed, 1 half-open, 2 open.',
      labelNames: ['endpoint'],
      registers,
    });
  }
}
